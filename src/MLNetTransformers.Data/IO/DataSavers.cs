using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using MLNetTransformers.Data.IO.Idv;

namespace MLNetTransformers.Data.IO;

/// <summary>The savers: each pulls batches and writes them out, holding one batch at a time.</summary>
internal static class DataSavers
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>CSV/TSV: RFC 4180 quoting; missing text as an unquoted empty field, empty text as <c>""</c>; vectors as
    /// space-separated items; numbers in invariant round-trip form.</summary>
    public static void SaveAsText(IDataView data, Stream stream, char separator, SaveOptions options, CancellationToken cancellationToken)
    {
        var kinds = data.Schema.Select(c => ColumnArrays.KindOf(c.Type)).ToArray();
        foreach (DataViewSchema.Column c in data.Schema)
        {
            if (c.Type is VectorDataViewType { ItemType: TextDataViewType })
            {
                throw new NotSupportedException($"Column '{c.Name}': text vectors cannot be saved as CSV/TSV (use JSON Lines or .idv).");
            }
        }

        using var writer = new StreamWriter(stream, Utf8NoBom, 1 << 16, leaveOpen: true) { NewLine = "\n" };
        if (options.WriteHeader)
        {
            writer.WriteLine(string.Join(separator, data.Schema.Select(c => Quote(c.Name, separator))));
        }

        foreach (DataBatch batch in data.GetBatches(options.BatchSize, cancellationToken))
        {
            for (int r = 0; r < batch.RowCount; r++)
            {
                for (int c = 0; c < kinds.Length; c++)
                {
                    if (c > 0)
                    {
                        writer.Write(separator);
                    }

                    string? text = ValueText.Format(batch.GetColumn(c), r, kinds[c].Kind, kinds[c].IsVector);
                    if (text is not null)
                    {
                        writer.Write(Quote(text, separator));
                    }
                }

                writer.WriteLine();
            }
        }
    }

    private static string Quote(string text, char separator) =>
        text.Length == 0 ? "\"\"" :
        text.AsSpan().IndexOfAny(['"', '\r', '\n', separator]) < 0 ? text : "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>JSON Lines: one object per row; vectors as arrays; non-finite floats as the strings NaN, Infinity, -Infinity.</summary>
    public static void SaveAsJsonLines(IDataView data, Stream stream, SaveOptions options, CancellationToken cancellationToken)
    {
        var kinds = data.Schema.Select(c => ColumnArrays.KindOf(c.Type)).ToArray();
        var names = data.Schema.Select(c => JsonEncodedText.Encode(c.Name, JavaScriptEncoder.UnsafeRelaxedJsonEscaping)).ToArray();
        var buffered = new BufferedStream(stream, 1 << 16);
        using var json = new Utf8JsonWriter(buffered, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = false });
        foreach (DataBatch batch in data.GetBatches(options.BatchSize, cancellationToken))
        {
            for (int r = 0; r < batch.RowCount; r++)
            {
                json.WriteStartObject();
                for (int c = 0; c < kinds.Length; c++)
                {
                    json.WritePropertyName(names[c]);
                    Array column = batch.GetColumn(c);
                    if (!kinds[c].IsVector)
                    {
                        WriteScalar(json, column, r, kinds[c].Kind);
                        continue;
                    }

                    var vector = (Array)column.GetValue(r)!;
                    json.WriteStartArray();
                    for (int i = 0; i < vector.Length; i++)
                    {
                        WriteScalar(json, vector, i, kinds[c].Kind);
                    }

                    json.WriteEndArray();
                }

                json.WriteEndObject();
                json.Flush();
                buffered.WriteByte((byte)'\n');
                json.Reset();
            }
        }

        buffered.Flush();
    }

    private static void WriteScalar(Utf8JsonWriter json, Array a, int i, ValueKind kind)
    {
        switch (kind)
        {
            case ValueKind.Text:
                if (((string?[])a)[i] is string s)
                {
                    json.WriteStringValue(s);
                }
                else
                {
                    json.WriteNullValue();
                }

                break;
            case ValueKind.Single:
                float f = ((float[])a)[i];
                if (float.IsFinite(f))
                {
                    json.WriteNumberValue(f);
                }
                else
                {
                    json.WriteStringValue(NonFinite(f));
                }

                break;
            case ValueKind.Double:
                double d = ((double[])a)[i];
                if (double.IsFinite(d))
                {
                    json.WriteNumberValue(d);
                }
                else
                {
                    json.WriteStringValue(NonFinite(d));
                }

                break;
            case ValueKind.Int32: json.WriteNumberValue(((int[])a)[i]); break;
            case ValueKind.Int64: json.WriteNumberValue(((long[])a)[i]); break;
            case ValueKind.Boolean: json.WriteBooleanValue(((bool[])a)[i]); break;
        }
    }

    private static string NonFinite(double d) => double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity";

    /// <summary>ML.NET binary (.idv) over <see cref="IdvWriter"/>.</summary>
    public static void SaveAsBinary(IDataView data, Stream stream, SaveOptions options, CancellationToken cancellationToken)
    {
        IdvColumn[] columns = data.Schema.Select(c => new IdvColumn(c.Name, BinaryDataView.ToIdvType(c.Type))).ToArray();
        using IdvWriter writer = IdvWriter.Create(stream, columns, options.BinaryOptions);
        var row = new object?[columns.Length];
        foreach (DataBatch batch in data.GetBatches(options.BatchSize, cancellationToken))
        {
            for (int r = 0; r < batch.RowCount; r++)
            {
                for (int c = 0; c < row.Length; c++)
                {
                    row[c] = batch.GetColumn(c).GetValue(r);
                }

                writer.WriteRow(row);
            }
        }

        writer.Complete();
    }
}
