namespace MLNetTransformers.Data;

/// <summary>A data view over a sequence of objects; enumerating the view enumerates the sequence again.</summary>
internal sealed class EnumerableDataView<T> : IDataView
    where T : class
{
    private readonly IEnumerable<T> _source;
    private readonly ClassMapping.Member[] _members;

    public EnumerableDataView(IEnumerable<T> source)
    {
        _source = source;
        ClassMapping mapping = ClassMapping.For(typeof(T));
        _members = mapping.Members.Where(m => m.Get is not null).ToArray();
        Schema = mapping.ReadableSchema();
    }

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _source switch
    {
        ICollection<T> c => c.Count,
        IReadOnlyCollection<T> c => c.Count,
        _ => null,
    };

    public IEnumerable<DataBatch> GetBatches(int maxRows, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        return Core();

        IEnumerable<DataBatch> Core()
        {
            var builder = new BatchBuilder(Schema, maxRows);
            long rowNumber = 0;
            foreach (T item in _source)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ArgumentNullException.ThrowIfNull(item, $"item {rowNumber}");
                int row = builder.BeginRow(rowNumber++);
                for (int c = 0; c < _members.Length; c++)
                {
                    object? value = _members[c].Get!(item);
                    if (_members[c].Type is VectorDataViewType v)
                    {
                        // Copied: the batch must not change when the caller's object does.
                        value = value is Array a ? a.Clone() : ColumnArrays.CreatePrimitive(ColumnArrays.KindOf(v).Kind, 0);
                    }

                    builder.Column(c).SetValue(value, row);
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
}
