namespace MLNetTransformers.Data;

/// <summary>
/// Runs a fitted transformer on one object at a time (ML.NET's <c>PredictionEngine</c>): the object becomes a one-row view,
/// the transformer runs on it, and the output row fills a new <typeparamref name="TDst"/>. Not thread-safe.
/// </summary>
/// <typeparam name="TSrc">The input class; its members map to columns as in <see cref="DataOperationsCatalog.LoadFromEnumerable{T}"/>.</typeparam>
/// <typeparam name="TDst">The output class; its settable members must all have columns in the output.</typeparam>
public sealed class PredictionEngine<TSrc, TDst>
    where TSrc : class
    where TDst : class, new()
{
    private readonly ITransformer _transformer;
    private readonly (ClassMapping.Member Member, int Column)[] _bound;

    internal PredictionEngine(ITransformer transformer)
    {
        _transformer = transformer;
        DataViewSchema input = ClassMapping.For(typeof(TSrc)).ReadableSchema();
        OutputSchema = transformer.GetOutputSchema(input);
        _bound = ClassMapping.For(typeof(TDst)).Bind(OutputSchema);
    }

    /// <summary>The schema of the transformer's output.</summary>
    public DataViewSchema OutputSchema { get; }

    /// <summary>Transforms one object.</summary>
    /// <param name="example">The input.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>A new output object.</returns>
    public TDst Predict(TSrc example, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(example);
        IDataView output = _transformer.Transform(new EnumerableDataView<TSrc>([example]));
        foreach (DataBatch batch in output.GetBatches(1, cancellationToken))
        {
            return ObjectRows.Read<TDst>(batch, 0, _bound, null);
        }

        throw new InvalidOperationException("The transformer produced no row for the example.");
    }
}

/// <summary>Fills objects from batch rows.</summary>
internal static class ObjectRows
{
    public static T Read<T>(DataBatch batch, int row, (ClassMapping.Member Member, int Column)[] bound, T? reuse)
        where T : class, new()
    {
        T item = reuse ?? new T();
        foreach ((ClassMapping.Member member, int column) in bound)
        {
            object? value = batch.GetColumn(column).GetValue(row);
            // Vectors are copied: the caller may change the object, the batch is shared.
            member.Set!(item, value is Array a ? a.Clone() : value);
        }

        return item;
    }
}
