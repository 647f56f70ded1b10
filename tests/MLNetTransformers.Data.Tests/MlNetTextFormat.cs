using System.Globalization;
using System.Text;
using MLNetTransformers.Data.IO.Idv;

namespace MLNetTransformers.Data.Tests;

/// <summary>
/// Test helper reproducing ML.NET's TextSaver output (sep=tab): the "#@ TextLoader{...}" schema comment, the optional
/// header line, and each row either dense or with a sparse tail, with TextSaver's value formatting and default suppression
/// (ported from the logic of Microsoft.ML.Data/DataLoadSave/Text/TextSaver.cs).
/// </summary>
internal static class MlNetTextFormat
{
    private const double SparseWeight = 2.5;

    public static string Render(IReadOnlyList<IdvColumn> columns, IEnumerable<object?[]> rows, bool outputHeader)
    {
        var sb = new StringBuilder();
        bool hasHeader = outputHeader && columns.Any(c => !c.Type.IsVector);
        sb.Append("#@ TextLoader{\n");
        if (hasHeader)
        {
            sb.Append("#@   header+\n");
        }

        sb.Append("#@   sep=tab\n");
        int index = 0;
        foreach (IdvColumn c in columns)
        {
            string kind = IdvColumnType.ShortName(c.Type.ItemKind);
            if (c.Type.IsKey)
            {
                kind += "[" + c.Type.KeyCount.ToString(CultureInfo.InvariantCulture) + "]";
            }

            string range = !c.Type.IsVector ? index.ToString(CultureInfo.InvariantCulture)
                : c.Type.VectorSize > 0 ? string.Create(CultureInfo.InvariantCulture, $"{index}-{index + c.Type.VectorSize - 1}") : string.Create(CultureInfo.InvariantCulture, $"{index}-*");
            sb.Append("#@   col=").Append(c.Name).Append(':').Append(kind).Append(':').Append(range).Append('\n');
            index += c.Type.IsVector ? c.Type.VectorSize : 1;
        }
        sb.Append("#@ }\n");
        string[] defaults = [.. columns.Select(c => Format(c.Type, DefaultOf(c.Type)))];
        if (hasHeader)
        {
            var header = columns.Select(c => (IReadOnlyList<(int, string)>)[(0, MapText(c.Name))]).ToList();
            sb.Append(Line(header, [.. columns.Select(c => c.Type.IsVector ? c.Type.VectorSize : 1)], defaults, "\"\"", suppress: false)).Append('\n');
        }
        foreach (object?[] row in rows)
        {
            var items = new List<IReadOnlyList<(int, string)>>();
            var lengths = new int[columns.Count];
            for (int c = 0; c < columns.Count; c++)
            {
                IdvColumnType type = columns[c].Type;
                if (type.IsVector)
                {
                    var array = (Array)row[c]!;
                    var list = new List<(int, string)>();
                    for (int i = 0; i < array.Length; i++)
                    {
                        list.Add((i, Format(type.ItemType, array.GetValue(i))));
                    }

                    items.Add(list);
                    lengths[c] = array.Length;
                }
                else
                {
                    items.Add([(0, Format(type, row[c]))]);
                    lengths[c] = 1;
                }
            }
            sb.Append(Line(items, lengths, defaults, null, suppress: true)).Append('\n');
        }
        return sb.ToString();
    }

    private static object? DefaultOf(IdvColumnType type) => type.IsKey ? 0UL : type.ItemKind switch
    {
        IdvDataKind.Text => "",
        _ => Activator.CreateInstance(type.ItemClrType),
    };

    public static string Format(IdvColumnType type, object? value)
    {
        if (type.IsKey)
        {
            // Keys print as their zero-based index (raw value - 1); 0 (missing) prints empty. Not exercised by the fixtures.
            ulong raw = (ulong)value!;
            return raw == 0 ? "" : (raw - 1).ToString(CultureInfo.InvariantCulture);
        }
        return value switch
        {
            null => "\"\"", // missing text: current ML.NET reads it as empty text
            string s => MapText(s),
            bool b => b ? "1" : "0",
            float f => float.IsNaN(f) ? "?" : f.ToString("R", CultureInfo.InvariantCulture),
            double d => double.IsNaN(d) ? "?" : d.ToString("R", CultureInfo.InvariantCulture),
            TimeSpan ts => "\"" + ts.ToString("c", CultureInfo.InvariantCulture) + "\"",
            DateTime dt => "\"" + dt.ToString("o", CultureInfo.InvariantCulture) + "\"",
            DateTimeOffset dto => "\"" + dto.ToString("o", CultureInfo.InvariantCulture) + "\"",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => throw new ArgumentException($"Cannot format {value}"),
        };
    }

    private static string MapText(string s)
    {
        if (s.Length == 0)
        {
            return "\"\"";
        }

        bool quoted = s[0] == ' ' || s.IndexOfAny(['"', '\t', ':']) >= 0;
        string body = s.Replace("\"", "\"\"", StringComparison.Ordinal);
        return quoted ? "\"" + body + "\"" : body;
    }

    /// <summary>TextSaver.State.EndLine: choose a dense prefix (at a column boundary) and write the rest sparsely.</summary>
    private static string Line(List<IReadOnlyList<(int Index, string Text)>> items, int[] lengths, string[] defaults, string? defaultStr, bool suppress)
    {
        int cols = items.Count;
        var colDst = new int[cols + 1];
        var colSlot = new int[cols + 1];
        var slots = new List<(int Dst, string Text)>();
        for (int c = 0; c < cols; c++)
        {
            foreach ((int index, string text) in items[c])
            {
                if (suppress && text == defaults[c])
                {
                    continue;
                }

                slots.Add((colDst[c] + index, text));
            }
            colDst[c + 1] = colDst[c] + lengths[c];
            colSlot[c + 1] = slots.Count;
        }
        int dstBase = colDst[cols];
        int colBest = 0;
        double bestScore = SparseWeight * slots.Count;
        for (int col = 1; col <= cols; col++)
        {
            double score = colDst[col] + (SparseWeight * (slots.Count - colSlot[col]));
            if (bestScore > score)
            {
                bestScore = score;
                colBest = col;
            }
        }
        int lenDense = colDst[colBest];
        int lenSparse = dstBase - lenDense;
        if (lenSparse < 5 || lenSparse < lenDense / 5)
        {
            colBest = cols;
        }

        var sb = new StringBuilder();
        string sep = "";
        if (colBest > 0)
        {
            int slot = 0;
            int col = 0;
            for (int dst = 0; dst < colDst[colBest]; dst++)
            {
                sb.Append(sep);
                sep = "\t";
                while (dst >= colDst[col + 1])
                {
                    col++;
                }

                if (slot < slots.Count && slots[slot].Dst == dst)
                {
                    sb.Append(slots[slot++].Text);
                }
                else
                {
                    sb.Append(defaultStr ?? defaults[col]);
                }
            }
        }
        if (colBest >= cols)
        {
            return sb.ToString();
        }

        sb.Append(sep).Append(lenSparse.ToString(CultureInfo.InvariantCulture));
        int first = colSlot[colBest];
        if (first == slots.Count)
        {
            return sb.Append("\t0:").Append(defaultStr ?? defaults[colBest]).ToString();
        }

        for (int s = first; s < slots.Count; s++)
        {
            sb.Append('\t').Append((slots[s].Dst - lenDense).ToString(CultureInfo.InvariantCulture)).Append(':').Append(slots[s].Text);
        }

        return sb.ToString();
    }
}
