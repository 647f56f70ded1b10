namespace MLNetTransformers.Data;

/// <summary>A fitted transform (ML.NET's <c>ITransformer</c>): maps a data view to a lazy data view.</summary>
public interface ITransformer
{
    /// <summary>The schema <see cref="Transform"/> would produce, checking that the input has what the transform needs.</summary>
    /// <param name="inputSchema">The input schema.</param>
    /// <returns>The output schema.</returns>
    /// <exception cref="KeyNotFoundException">A needed column is missing; the message lists the schema.</exception>
    /// <exception cref="ArgumentException">A needed column has the wrong type.</exception>
    DataViewSchema GetOutputSchema(DataViewSchema inputSchema);

    /// <summary>Applies the transform lazily: nothing runs until a cursor pulls from the returned view. The schema is checked now.</summary>
    /// <param name="input">The input.</param>
    /// <returns>The transformed view.</returns>
    IDataView Transform(IDataView input);
}

/// <summary>A transform before fitting (ML.NET's <c>IEstimator&lt;TTransformer&gt;</c>).</summary>
/// <typeparam name="TTransformer">The fitted transformer.</typeparam>
public interface IEstimator<out TTransformer>
    where TTransformer : ITransformer
{
    /// <summary>Fits the transform to the data (trivial estimators do not read it).</summary>
    /// <param name="input">The training data.</param>
    /// <returns>The transformer.</returns>
    TTransformer Fit(IDataView input);

    /// <summary>The schema the fitted transformer would produce from <paramref name="inputSchema"/> (ML.NET returns a <c>SchemaShape</c>).</summary>
    /// <param name="inputSchema">The input schema.</param>
    /// <returns>The output schema.</returns>
    DataViewSchema GetOutputSchema(DataViewSchema inputSchema);
}

/// <summary>An estimator that needs no training: <see cref="Fit"/> returns the transformer it holds (ML.NET's <c>TrivialEstimator</c>).</summary>
/// <typeparam name="TTransformer">The transformer.</typeparam>
/// <param name="transformer">The transformer.</param>
public class TrivialEstimator<TTransformer>(TTransformer transformer) : IEstimator<TTransformer>
    where TTransformer : class, ITransformer
{
    /// <summary>The transformer.</summary>
    public TTransformer Transformer { get; } = transformer ?? throw new ArgumentNullException(nameof(transformer));

    /// <summary>Returns the transformer after checking the input schema (no data is read).</summary>
    /// <param name="input">The data.</param>
    /// <returns>The transformer.</returns>
    public TTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Transformer.GetOutputSchema(input.Schema);
        return Transformer;
    }

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => Transformer.GetOutputSchema(inputSchema);
}
