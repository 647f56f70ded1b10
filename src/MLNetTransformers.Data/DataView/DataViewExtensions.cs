namespace MLNetTransformers.Data;

/// <summary>Row-by-row access to data views.</summary>
public static class DataViewExtensions
{
    /// <summary>The default batch size of row cursors and savers.</summary>
    public const int DefaultBatchSize = 256;

    /// <summary>Streams the rows one at a time (ML.NET's row cursor), reading batches of <paramref name="batchSize"/> underneath.</summary>
    /// <param name="data">The data.</param>
    /// <param name="batchSize">The batch size to pull.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The rows.</returns>
    public static IEnumerable<DataRow> GetRows(this IDataView data, int batchSize = DefaultBatchSize, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        return Core();

        IEnumerable<DataRow> Core()
        {
            foreach (DataBatch batch in data.GetBatches(batchSize, cancellationToken))
            {
                for (int i = 0; i < batch.RowCount; i++)
                {
                    yield return new DataRow(batch, i);
                }
            }
        }
    }

    /// <summary>Gets the values of one column, in order, for every row (reads the whole view).</summary>
    /// <typeparam name="T">The column's value type.</typeparam>
    /// <param name="data">The data.</param>
    /// <param name="columnName">The column.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The values.</returns>
    /// <exception cref="KeyNotFoundException">No such column; the message lists the schema.</exception>
    public static IEnumerable<T> GetColumn<T>(this IDataView data, string columnName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        DataViewSchema.Column column = data.Schema[columnName];
        return Core();

        IEnumerable<T> Core()
        {
            foreach (DataBatch batch in data.GetBatches(DefaultBatchSize, cancellationToken))
            {
                foreach (T value in batch.GetColumn<T>(column.Index))
                {
                    yield return value;
                }
            }
        }
    }
}
