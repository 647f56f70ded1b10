using System.Globalization;

namespace MLNetTransformers.Data.IO;

/// <summary>A column a loader should produce (ML.NET's <c>TextLoader.Column</c>).</summary>
/// <param name="Name">The column name in the data view (and, for CSV/TSV with a header or JSON Lines, the source field's name).</param>
/// <param name="Type">The column type. CSV/TSV vectors are one field of space-separated items.</param>
/// <param name="SourceIndex">For CSV/TSV: the 0-based field position, which overrides matching by header name.</param>
public sealed record LoaderColumn(string Name, DataViewType Type, int? SourceIndex = null);

/// <summary>A data row a loader skipped, with where it is and why.</summary>
/// <param name="FilePath">The file.</param>
/// <param name="Line">The 1-based line where the row starts.</param>
/// <param name="RowNumber">The row's 0-based position among the file's data rows (its number had it been read).</param>
/// <param name="Message">The problem, naming the column when one is at fault.</param>
public readonly record struct BadRow(string FilePath, long Line, long RowNumber, string Message)
{
    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{FilePath}, line {Line}: {Message}");
}

/// <summary>Options of the file loaders (<see cref="DataOperationsCatalog"/>).</summary>
public sealed record LoadOptions
{
    /// <summary>CSV/TSV field separator; default from the extension: tab for <c>.tsv</c>/<c>.tab</c>, else comma.</summary>
    public char? Separator { get; init; }

    /// <summary>CSV/TSV: whether the first record names the columns. Default true.</summary>
    public bool HasHeader { get; init; } = true;

    /// <summary>
    /// The columns to produce, with their types. Default: CSV/TSV every header field as text (fields <c>column0</c>, ... when
    /// there is no header); JSON Lines inferred from the first <see cref="SchemaInferenceRows"/> lines.
    /// </summary>
    public IReadOnlyList<LoaderColumn>? Columns { get; init; }

    /// <summary>JSON Lines: how many lines to read to infer the schema when <see cref="Columns"/> is not given. Default 100.</summary>
    public int SchemaInferenceRows { get; init; } = 100;

    /// <summary>
    /// Called for each bad data row (ragged CSV row, a value that does not parse as its column's type, a line that is not a JSON
    /// object); the row is skipped and reading goes on. When <see langword="null"/>, a bad row throws <see cref="DataFormatException"/>.
    /// Row numbers of the rows after it do not shift.
    /// </summary>
    public Action<BadRow>? OnBadRow { get; init; }
}

/// <summary>Options of the file savers.</summary>
public sealed record SaveOptions
{
    /// <summary>CSV/TSV field separator; default from the extension: tab for <c>.tsv</c>/<c>.tab</c>, else comma.</summary>
    public char? Separator { get; init; }

    /// <summary>CSV/TSV: whether to write a header record. Default true.</summary>
    public bool WriteHeader { get; init; } = true;

    /// <summary>The batch size pulled from the data view. Default <see cref="DataViewExtensions.DefaultBatchSize"/>.</summary>
    public int BatchSize { get; init; } = DataViewExtensions.DefaultBatchSize;

    /// <summary>.idv block size and compression.</summary>
    public Idv.IdvWriterOptions? BinaryOptions { get; init; }
}
