using MLNetTransformers.Data.IO;

namespace MLNetTransformers.Data;

/// <summary>
/// Loaders, savers and object mapping (ML.NET's <c>DataOperationsCatalog</c>). Loaders read the schema when called (so a
/// missing file or a bad header fails at once) and stream the rows on each enumeration; savers hold one batch at a time.
/// Formats: CSV/TSV (<c>.csv</c>, <c>.tsv</c>, <c>.tab</c>, <c>.txt</c>), JSON Lines (<c>.jsonl</c>, <c>.ndjson</c>), ML.NET binary (<c>.idv</c>).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "Catalog members are instance members, as in ML.NET, so that extension methods and future state fit.")]
public sealed class DataOperationsCatalog
{
    internal DataOperationsCatalog()
    {
    }

    /// <summary>A view over objects: public fields and properties are columns (see <see cref="ColumnNameAttribute"/>).
    /// The sequence is enumerated again by each enumeration of the view.</summary>
    /// <typeparam name="T">The row class.</typeparam>
    /// <param name="data">The objects.</param>
    /// <returns>The view.</returns>
    /// <exception cref="NotSupportedException">A member's type has no column type.</exception>
    public IDataView LoadFromEnumerable<T>(IEnumerable<T> data)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(data);
        return new EnumerableDataView<T>(data);
    }

    /// <summary>Reads a view into objects, lazily: each settable member is filled from the column of its name.</summary>
    /// <typeparam name="T">The row class.</typeparam>
    /// <param name="data">The view.</param>
    /// <param name="reuseRowObject">Whether to fill one object again for every row (ML.NET's option; saves allocations).</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The objects.</returns>
    /// <exception cref="KeyNotFoundException">A member has no column; the message lists the schema.</exception>
    /// <exception cref="InvalidOperationException">A member's type differs from its column's.</exception>
    public IEnumerable<T> CreateEnumerable<T>(IDataView data, bool reuseRowObject = false, CancellationToken cancellationToken = default)
        where T : class, new()
    {
        ArgumentNullException.ThrowIfNull(data);
        var bound = ClassMapping.For(typeof(T)).Bind(data.Schema);
        return Core();

        IEnumerable<T> Core()
        {
            T? reuse = reuseRowObject ? new T() : null;
            foreach (DataBatch batch in data.GetBatches(DataViewExtensions.DefaultBatchSize, cancellationToken))
            {
                for (int i = 0; i < batch.RowCount; i++)
                {
                    yield return ObjectRows.Read(batch, i, bound, reuse);
                }
            }
        }
    }

    /// <summary>
    /// Keeps the rows whose 0-based source row number (<see cref="DataBatch.RowNumbers"/>) passes <paramref name="keepRowNumber"/>:
    /// the building block of sharding (<c>n % count == index</c>) and resuming (skip the numbers already written). Row numbers are kept.
    /// </summary>
    /// <param name="input">The data.</param>
    /// <param name="keepRowNumber">Whether to keep a row, by its source row number.</param>
    /// <returns>The filtered view.</returns>
    public IDataView FilterByRowNumber(IDataView input, Func<long, bool> keepRowNumber)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(keepRowNumber);
        return new RowFilterDataView(input, keepRowNumber, 0, long.MaxValue, null);
    }

    /// <summary>The first <paramref name="count"/> rows (ML.NET's <c>TakeRows</c>); enumeration stops reading after them.</summary>
    /// <param name="input">The data.</param>
    /// <param name="count">How many rows to keep.</param>
    /// <returns>The view.</returns>
    public IDataView TakeRows(IDataView input, long count)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return new RowFilterDataView(input, _ => true, 0, count, input.GetRowCount() is long n ? Math.Min(n, count) : null);
    }

    /// <summary>All rows but the first <paramref name="count"/> (ML.NET's <c>SkipRows</c>); the rest keep their row numbers.</summary>
    /// <param name="input">The data.</param>
    /// <param name="count">How many rows to drop.</param>
    /// <returns>The view.</returns>
    public IDataView SkipRows(IDataView input, long count)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        // Counts rows as they pass, not row numbers, so a source that skipped bad rows still drops exactly `count` rows.
        return new RowFilterDataView(input, _ => true, count, long.MaxValue, input.GetRowCount() is long n ? Math.Max(0, n - count) : null);
    }

    /// <summary>Loads a file, choosing the format by extension.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Loader options (ignored for .idv).</param>
    /// <returns>The view.</returns>
    /// <exception cref="ArgumentException">The extension is not a known format.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public IDataView Load(string path, LoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return DataFiles.FormatOf(path) switch
        {
            DataFileFormat.Text => LoadFromTextFile(path, options),
            DataFileFormat.JsonLines => LoadFromJsonLines(path, options),
            _ => LoadFromBinary(path),
        };
    }

    /// <summary>Loads a CSV/TSV file (RFC 4180 quoting; UTF-8): a header names the columns, or <see cref="LoadOptions.Columns"/> gives them with types.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Separator, header, columns, bad-row handling.</param>
    /// <returns>The view.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="KeyNotFoundException">A column of <see cref="LoadOptions.Columns"/> is not in the header; the message lists it.</exception>
    /// <exception cref="DataFormatException">The header is bad (duplicate names, invalid UTF-8).</exception>
    public IDataView LoadFromTextFile(string path, LoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new TextFileDataView(path, options ?? new LoadOptions());
    }

    /// <summary>Loads a JSON Lines file: one object per line; the schema from <see cref="LoadOptions.Columns"/> or inferred from the first lines.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Columns, inference window, bad-row handling.</param>
    /// <returns>The view.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public IDataView LoadFromJsonLines(string path, LoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new JsonLinesDataView(path, options ?? new LoadOptions());
    }

    /// <summary>Loads an ML.NET binary data view (.idv) file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The view, whose row count is known.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="NotSupportedException">A column has a type data views do not carry (keys, UInt64, times).</exception>
    public IDataView LoadFromBinary(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new BinaryDataView(path);
    }

    /// <summary>Saves a view, choosing the format by extension.</summary>
    /// <param name="data">The view.</param>
    /// <param name="path">The file (created or overwritten).</param>
    /// <param name="options">Saver options.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public void Save(IDataView data, string path, SaveOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        switch (DataFiles.FormatOf(path))
        {
            case DataFileFormat.Text: SaveAsText(data, path, options, cancellationToken); break;
            case DataFileFormat.JsonLines: SaveAsJsonLines(data, path, options, cancellationToken); break;
            default: SaveAsBinary(data, path, options, cancellationToken); break;
        }
    }

    /// <summary>Saves a view as CSV/TSV (separator from the extension unless given).</summary>
    /// <param name="data">The view.</param>
    /// <param name="path">The file (created or overwritten).</param>
    /// <param name="options">Separator, header, batch size.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public void SaveAsText(IDataView data, string path, SaveOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new SaveOptions();
        char separator = DataFiles.SeparatorFor(path, options.Separator);
        using FileStream stream = DataFiles.Create(path);
        SaveAsText(data, stream, options with { Separator = separator }, cancellationToken);
    }

    /// <summary>Writes a view as CSV/TSV (UTF-8) to a stream, which stays open. Missing text is an unquoted empty field,
    /// empty text <c>""</c>; vectors are space-separated items in one field.</summary>
    /// <param name="data">The view.</param>
    /// <param name="stream">The stream.</param>
    /// <param name="options">Separator (default comma), header, batch size.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public void SaveAsText(IDataView data, Stream stream, SaveOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(stream);
        options ??= new SaveOptions();
        DataSavers.SaveAsText(data, stream, DataFiles.SeparatorFor(".csv", options.Separator), options, cancellationToken);
    }

    /// <summary>Saves a view as JSON Lines.</summary>
    /// <param name="data">The view.</param>
    /// <param name="path">The file (created or overwritten).</param>
    /// <param name="options">Batch size.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public void SaveAsJsonLines(IDataView data, string path, SaveOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using FileStream stream = DataFiles.Create(path);
        SaveAsJsonLines(data, stream, options, cancellationToken);
    }

    /// <summary>Writes a view as JSON Lines (UTF-8, one object per row) to a stream, which stays open. Non-finite floats are
    /// the strings <c>NaN</c>, <c>Infinity</c>, <c>-Infinity</c> (JSON has no such numbers); the loader reads them back.</summary>
    /// <param name="data">The view.</param>
    /// <param name="stream">The stream.</param>
    /// <param name="options">Batch size.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public void SaveAsJsonLines(IDataView data, Stream stream, SaveOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(stream);
        DataSavers.SaveAsJsonLines(data, stream, options ?? new SaveOptions(), cancellationToken);
    }

    /// <summary>Saves a view as an ML.NET binary data view (.idv).</summary>
    /// <param name="data">The view.</param>
    /// <param name="path">The file (created or overwritten).</param>
    /// <param name="options">Batch size, block size, compression.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public void SaveAsBinary(IDataView data, string path, SaveOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using FileStream stream = DataFiles.Create(path);
        SaveAsBinary(data, stream, options, cancellationToken);
    }

    /// <summary>Writes a view as an ML.NET binary data view to a writable, seekable stream, which stays open.</summary>
    /// <param name="data">The view.</param>
    /// <param name="stream">The stream.</param>
    /// <param name="options">Batch size, block size, compression.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public void SaveAsBinary(IDataView data, Stream stream, SaveOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(stream);
        DataSavers.SaveAsBinary(data, stream, options ?? new SaveOptions(), cancellationToken);
    }
}
