namespace MLNetTransformers.Data;

/// <summary>
/// Keeps the rows whose source row number passes a predicate (sharding, resuming), then drops the first <c>skip</c> of those
/// and ends after <c>take</c> more (so take-first reads no further), re-cutting batches so they stay full.
/// </summary>
internal sealed class RowFilterDataView(IDataView input, Func<long, bool> keep, long skip, long take, long? rowCount) : IDataView
{
    public DataViewSchema Schema => input.Schema;

    public long? GetRowCount() => rowCount;

    public IEnumerable<DataBatch> GetBatches(int maxRows, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        return Core();

        IEnumerable<DataBatch> Core()
        {
            if (take <= 0)
            {
                yield break;
            }

            var builder = new BatchBuilder(Schema, maxRows);
            long passed = 0;
            long kept = 0;
            foreach (DataBatch batch in input.GetBatches(maxRows, cancellationToken))
            {
                for (int r = 0; r < batch.RowCount; r++)
                {
                    if (!keep(batch.RowNumbers[r]) || passed++ < skip)
                    {
                        continue;
                    }

                    int row = builder.BeginRow(batch.RowNumbers[r]);
                    for (int c = 0; c < Schema.Count; c++)
                    {
                        Array.Copy(batch.GetColumn(c), r, builder.Column(c), row, 1);
                    }

                    if (builder.IsFull)
                    {
                        yield return builder.Build();
                    }

                    if (++kept == take)
                    {
                        if (builder.Count > 0)
                        {
                            yield return builder.Build();
                        }

                        yield break;
                    }
                }
            }

            if (builder.Count > 0)
            {
                yield return builder.Build();
            }
        }
    }
}
