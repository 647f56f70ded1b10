using System.Globalization;
using System.Text.Json;

namespace MLNetTransformers.Data.IO;

/// <summary>
/// A JSON Lines file as a data view: each non-blank line one JSON object; properties map to columns by name, arrays of numbers
/// to vectors. A missing or <c>null</c> property is the missing value (null text, NaN floats, zero integers, false, an empty
/// vector); properties outside the schema are ignored.
/// </summary>
internal sealed class JsonLinesDataView : IDataView
{
    private readonly string _path;
    private readonly Action<BadRow>? _onBadRow;

    public JsonLinesDataView(string path, LoadOptions options)
    {
        _path = path;
        _onBadRow = options.OnBadRow;
        if (options.Columns is { } columns)
        {
            var builder = new DataViewSchema.Builder();
            foreach (LoaderColumn c in columns)
            {
                builder.AddColumn(c.Name, c.Type);
            }

            Schema = builder.ToSchema();
        }
        else
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(options.SchemaInferenceRows, 1, $"{nameof(LoadOptions)}.{nameof(LoadOptions.SchemaInferenceRows)}");
            Schema = InferSchema(path, options.SchemaInferenceRows);
        }
    }

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => null;

    public IEnumerable<DataBatch> GetBatches(int maxRows, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        return Core();

        IEnumerable<DataBatch> Core()
        {
            using var reader = new TextRecordReader(_path, lenient: _onBadRow is not null);
            var builder = new BatchBuilder(Schema, maxRows);
            var kinds = Schema.Select(c => ColumnArrays.KindOf(c.Type)).ToArray();
            long rowNumber = 0;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                string? text = reader.ReadLine(out long line);
                if (text is null)
                {
                    break;
                }

                long thisRow = rowNumber++;
                int row = builder.BeginRow(thisRow);
                string? error = null;
                string? column = null;
                try
                {
                    if (reader.LastRecordHadInvalidUtf8)
                    {
                        throw new JsonException("The text is not valid UTF-8.");
                    }

                    using JsonDocument doc = JsonDocument.Parse(text);
                    if (doc.RootElement.ValueKind != JsonValueKind.Object)
                    {
                        error = $"The line is a JSON {doc.RootElement.ValueKind}, not an object.";
                    }
                    else
                    {
                        for (int c = 0; c < kinds.Length && error is null; c++)
                        {
                            column = Schema[c].Name;
                            JsonElement value = doc.RootElement.TryGetProperty(column, out JsonElement v) ? v : default;
                            error = Store(value, kinds[c].Kind, kinds[c].IsVector, builder.Column(c), row);
                        }
                    }
                }
                catch (JsonException e)
                {
                    error = "The line is not valid JSON: " + e.Message;
                    column = null;
                }

                if (error is not null)
                {
                    builder.CancelRow();
                    if (_onBadRow is null)
                    {
                        throw new DataFormatException(_path, line, column, error);
                    }

                    _onBadRow(new BadRow(_path, line, thisRow, column is null ? error : $"property '{column}': {error}"));
                    continue;
                }

                if (builder.IsFull)
                {
                    yield return builder.Build();
                }
            }

            if (builder.Count > 0)
            {
                yield return builder.Build();
            }
        }
    }

    /// <summary>Stores one property value; <c>default(JsonElement)</c> (missing) and null store the missing value.</summary>
    private static string? Store(JsonElement e, ValueKind kind, bool isVector, Array target, int row)
    {
        if (e.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            if (isVector)
            {
                target.SetValue(ColumnArrays.CreatePrimitive(kind, 0), row);
            }
            else
            {
                StoreMissing(kind, target, row);
            }

            return null;
        }

        if (!isVector)
        {
            return StoreScalar(e, kind, target, row);
        }

        if (e.ValueKind != JsonValueKind.Array)
        {
            return $"A {e.ValueKind} where an array of {ColumnArrays.TypeOf(kind)} was expected.";
        }

        Array vector = ColumnArrays.CreatePrimitive(kind, e.GetArrayLength());
        int i = 0;
        foreach (JsonElement item in e.EnumerateArray())
        {
            string? error = item.ValueKind == JsonValueKind.Null ? StoreMissing(kind, vector, i) : StoreScalar(item, kind, vector, i);
            if (error is not null)
            {
                return string.Create(CultureInfo.InvariantCulture, $"item {i}: {error}");
            }

            i++;
        }

        target.SetValue(vector, row);
        return null;
    }

    private static string? StoreMissing(ValueKind kind, Array target, int row)
    {
        switch (kind)
        {
            case ValueKind.Single: ((float[])target)[row] = float.NaN; break;
            case ValueKind.Double: ((double[])target)[row] = double.NaN; break;
            default: Array.Clear(target, row, 1); break;
        }

        return null;
    }

    private static string? StoreScalar(JsonElement e, ValueKind kind, Array target, int row)
    {
        switch (kind)
        {
            case ValueKind.Text:
                // Text takes any value: strings as themselves, anything else as its JSON text.
                ((string?[])target)[row] = e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText();
                return null;
            case ValueKind.Single:
                if (e.ValueKind == JsonValueKind.Number && e.TryGetSingle(out float f) && float.IsFinite(f)) { ((float[])target)[row] = f; return null; }
                if (NamedFloat(e) is double nf) { ((float[])target)[row] = (float)nf; return null; }
                break;
            case ValueKind.Double:
                if (e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out double d)) { ((double[])target)[row] = d; return null; }
                if (NamedFloat(e) is double nd) { ((double[])target)[row] = nd; return null; }
                break;
            case ValueKind.Int32:
                if (e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int i)) { ((int[])target)[row] = i; return null; }
                break;
            case ValueKind.Int64:
                if (e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long l)) { ((long[])target)[row] = l; return null; }
                break;
            case ValueKind.Boolean:
                if (e.ValueKind is JsonValueKind.True or JsonValueKind.False) { ((bool[])target)[row] = e.GetBoolean(); return null; }
                break;
        }

        return $"{ValueText.Shorten(e.GetRawText())} is not a valid {ColumnArrays.TypeOf(kind)}.";
    }

    /// <summary>The strings the JSON saver writes for non-finite floats (JSON has no NaN or Infinity).</summary>
    private static double? NamedFloat(JsonElement e) =>
        e.ValueKind != JsonValueKind.String ? null : e.GetString() switch
        {
            "NaN" => double.NaN,
            "Infinity" => double.PositiveInfinity,
            "-Infinity" => double.NegativeInfinity,
            _ => null,
        };

    /// <summary>Column kinds from the first lines: strings → Text, booleans → Boolean, integers → Int64, other numbers → Single,
    /// arrays → vectors of the same rules; conflicting values → Text; lines that do not parse are left to the read to report.</summary>
    private static DataViewSchema InferSchema(string path, int lines)
    {
        var seen = new Dictionary<string, Seen>(StringComparer.Ordinal);
        var order = new List<string>();
        using (var reader = new TextRecordReader(path, lenient: true))
        {
            for (int n = 0; n < lines; n++)
            {
                string? text = reader.ReadLine(out _);
                if (text is null)
                {
                    break;
                }

                if (reader.LastRecordHadInvalidUtf8)
                {
                    continue;
                }

                JsonDocument doc;
                try
                {
                    doc = JsonDocument.Parse(text);
                }
                catch (JsonException)
                {
                    continue;
                }

                using (doc)
                {
                    if (doc.RootElement.ValueKind != JsonValueKind.Object)
                    {
                        continue;
                    }

                    foreach (JsonProperty p in doc.RootElement.EnumerateObject())
                    {
                        if (!seen.TryGetValue(p.Name, out Seen? s))
                        {
                            seen[p.Name] = s = new Seen();
                            order.Add(p.Name);
                        }

                        s.Add(p.Value);
                    }
                }
            }
        }

        var builder = new DataViewSchema.Builder();
        foreach (string name in order)
        {
            builder.AddColumn(name, seen[name].Type());
        }

        return builder.ToSchema();
    }

    private sealed class Seen
    {
        private bool _text, _bool, _int, _float, _array;
        private Seen? _items;

        public void Add(JsonElement e)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.String: _text = true; break;
                case JsonValueKind.True or JsonValueKind.False: _bool = true; break;
                case JsonValueKind.Number when e.TryGetInt64(out _): _int = true; break;
                case JsonValueKind.Number: _float = true; break;
                case JsonValueKind.Array:
                    _array = true;
                    _items ??= new Seen();
                    foreach (JsonElement item in e.EnumerateArray())
                    {
                        _items.Add(item);
                    }

                    break;
                case JsonValueKind.Object: _text = true; break;
            }
        }

        public DataViewType Type()
        {
            bool scalar = _text || _bool || _int || _float;
            if (_array && !scalar)
            {
                return new VectorDataViewType(_items!.ScalarType(isItem: true));
            }

            return ScalarType(isItem: false);
        }

        private PrimitiveDataViewType ScalarType(bool isItem)
        {
            if (_text || _array)
            {
                return TextDataViewType.Instance;
            }

            if (_bool)
            {
                return _int || _float ? TextDataViewType.Instance : BooleanDataViewType.Instance;
            }

            if (_float)
            {
                return NumberDataViewType.Single;
            }

            if (_int)
            {
                return NumberDataViewType.Int64;
            }
            // Only nulls (or empty arrays) seen: text for a property, floats for vector items.
            return isItem ? NumberDataViewType.Single : TextDataViewType.Instance;
        }
    }
}
