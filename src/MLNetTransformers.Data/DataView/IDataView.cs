namespace MLNetTransformers.Data;

/// <summary>
/// A lazy, immutable, re-enumerable table (ML.NET's <c>IDataView</c>): a schema and batched cursors. Nothing is read or
/// computed until <see cref="GetBatches"/> is enumerated, and each enumeration starts again from the first row.
/// </summary>
public interface IDataView
{
    /// <summary>The columns.</summary>
    DataViewSchema Schema { get; }

    /// <summary>The number of rows when known without reading the data, else <see langword="null"/>.</summary>
    /// <returns>The row count or <see langword="null"/>.</returns>
    long? GetRowCount();

    /// <summary>Streams the rows in order, in columnar batches of at most <paramref name="maxRows"/> rows (never empty).</summary>
    /// <param name="maxRows">The largest batch, at least 1.</param>
    /// <param name="cancellationToken">Checked between batches (and between rows where a batch is slow to build).</param>
    /// <returns>The batches.</returns>
    IEnumerable<DataBatch> GetBatches(int maxRows, CancellationToken cancellationToken = default);
}
