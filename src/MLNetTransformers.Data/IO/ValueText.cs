using System.Globalization;

namespace MLNetTransformers.Data.IO;

/// <summary>Text forms of values for CSV/TSV: invariant culture, round-trip number formats, vectors as space-separated items.</summary>
internal static class ValueText
{
    /// <summary>Parses a field into a column array slot. An unquoted empty field (<see langword="null"/>) is the missing value:
    /// null text, NaN floats, zero integers, false, an empty vector.</summary>
    /// <returns>An error message, or <see langword="null"/> when the value parsed.</returns>
    public static string? TryParse(string? field, ValueKind kind, bool isVector, Array target, int row)
    {
        if (!isVector)
        {
            return TryParseScalar(field, kind, target, row);
        }

        string[] items = (field ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Array vector = ColumnArrays.CreatePrimitive(kind, items.Length);
        for (int i = 0; i < items.Length; i++)
        {
            if (TryParseScalar(items[i], kind, vector, i) is string error)
            {
                return string.Create(CultureInfo.InvariantCulture, $"item {i}: {error}");
            }
        }

        target.SetValue(vector, row);
        return null;
    }

    private static string? TryParseScalar(string? s, ValueKind kind, Array target, int row)
    {
        const NumberStyles Float = NumberStyles.Float;
        const NumberStyles Integer = NumberStyles.Integer;
        CultureInfo inv = CultureInfo.InvariantCulture;
        bool empty = string.IsNullOrEmpty(s);
        switch (kind)
        {
            case ValueKind.Text:
                ((string?[])target)[row] = s;
                return null;
            case ValueKind.Single:
                if (empty) { ((float[])target)[row] = float.NaN; return null; }
                if (float.TryParse(s, Float, inv, out float f)) { ((float[])target)[row] = f; return null; }
                break;
            case ValueKind.Double:
                if (empty) { ((double[])target)[row] = double.NaN; return null; }
                if (double.TryParse(s, Float, inv, out double d)) { ((double[])target)[row] = d; return null; }
                break;
            case ValueKind.Int32:
                if (empty) { ((int[])target)[row] = 0; return null; }
                if (int.TryParse(s, Integer, inv, out int i)) { ((int[])target)[row] = i; return null; }
                break;
            case ValueKind.Int64:
                if (empty) { ((long[])target)[row] = 0; return null; }
                if (long.TryParse(s, Integer, inv, out long l)) { ((long[])target)[row] = l; return null; }
                break;
            case ValueKind.Boolean:
                if (empty || s is "0" || string.Equals(s, "false", StringComparison.OrdinalIgnoreCase)) { ((bool[])target)[row] = false; return null; }
                if (s is "1" || string.Equals(s, "true", StringComparison.OrdinalIgnoreCase)) { ((bool[])target)[row] = true; return null; }
                break;
        }

        return $"'{Shorten(s!)}' is not a valid {ColumnArrays.TypeOf(kind)}.";
    }

    /// <summary>Formats a slot; <see langword="null"/> only for missing text.</summary>
    public static string? Format(Array column, int row, ValueKind kind, bool isVector)
    {
        if (!isVector)
        {
            return FormatScalar(column, row, kind);
        }

        var vector = (Array)column.GetValue(row)!;
        var parts = new string?[vector.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            parts[i] = FormatScalar(vector, i, kind);
        }

        return string.Join(' ', parts);
    }

    private static string? FormatScalar(Array a, int i, ValueKind kind) => kind switch
    {
        ValueKind.Text => ((string?[])a)[i],
        ValueKind.Single => ((float[])a)[i].ToString("R", CultureInfo.InvariantCulture),
        ValueKind.Double => ((double[])a)[i].ToString("R", CultureInfo.InvariantCulture),
        ValueKind.Int32 => ((int[])a)[i].ToString(CultureInfo.InvariantCulture),
        ValueKind.Int64 => ((long[])a)[i].ToString(CultureInfo.InvariantCulture),
        ValueKind.Boolean => ((bool[])a)[i] ? "true" : "false",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    internal static string Shorten(string s) => s.Length <= 40 ? s : string.Concat(s.AsSpan(0, 40), "...");
}
