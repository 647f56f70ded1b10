using System.Globalization;

namespace MLNetTransformers.Data.IO;

/// <summary>Bad content in a data file: the message and the properties name the file, the line and, where known, the column.</summary>
public sealed class DataFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The file.</param>
    /// <param name="line">The 1-based line (of the record's start for CSV records spanning lines).</param>
    /// <param name="column">The column (or JSON property) name, or <see langword="null"/>.</param>
    /// <param name="problem">What is wrong.</param>
    /// <param name="inner">The underlying exception, if any.</param>
    public DataFormatException(string path, long line, string? column, string problem, Exception? inner = null)
        : base(Format(path, line, column, problem), inner)
    {
        FilePath = path;
        Line = line;
        Column = column;
        Problem = problem;
    }

    /// <summary>The file.</summary>
    public string FilePath { get; }

    /// <summary>The 1-based line.</summary>
    public long Line { get; }

    /// <summary>The column or property name, or <see langword="null"/>.</summary>
    public string? Column { get; }

    /// <summary>The problem, without the location.</summary>
    public string Problem { get; }

    internal static string Format(string path, long line, string? column, string problem) =>
        column is null
            ? string.Create(CultureInfo.InvariantCulture, $"{path}, line {line}: {problem}")
            : string.Create(CultureInfo.InvariantCulture, $"{path}, line {line}, column '{column}': {problem}");
}
