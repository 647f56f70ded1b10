using System.Collections;

namespace MLNetTransformers.Data;

/// <summary>Fitted transformers applied in order (ML.NET's <c>TransformerChain&lt;TLastTransformer&gt;</c>).</summary>
/// <typeparam name="TLastTransformer">The type of the last transformer.</typeparam>
public sealed class TransformerChain<TLastTransformer> : ITransformer, IEnumerable<ITransformer>
    where TLastTransformer : class, ITransformer
{
    private readonly ITransformer[] _transformers;

    /// <summary>Creates a chain.</summary>
    /// <param name="transformers">The transformers, in order; the last must be a <typeparamref name="TLastTransformer"/> (an empty chain is the identity).</param>
    public TransformerChain(params IEnumerable<ITransformer> transformers)
    {
        ArgumentNullException.ThrowIfNull(transformers);
        _transformers = transformers.ToArray();
        if (_transformers.Any(t => t is null))
        {
            throw new ArgumentException("A transformer is null.", nameof(transformers));
        }

        if (_transformers.Length > 0 && _transformers[^1] is not TLastTransformer)
        {
            throw new ArgumentException($"The last transformer is a {_transformers[^1].GetType().Name}, not a {typeof(TLastTransformer).Name}.", nameof(transformers));
        }
    }

    /// <summary>The last transformer, or <see langword="null"/> for an empty chain.</summary>
    public TLastTransformer? LastTransformer => _transformers.Length == 0 ? null : (TLastTransformer)_transformers[^1];

    /// <summary>The number of transformers.</summary>
    public int Count => _transformers.Length;

    /// <summary>A chain with <paramref name="transformer"/> added at the end.</summary>
    /// <typeparam name="TNew">The new last transformer's type.</typeparam>
    /// <param name="transformer">The transformer.</param>
    /// <returns>The new chain (this one is unchanged).</returns>
    public TransformerChain<TNew> Append<TNew>(TNew transformer)
        where TNew : class, ITransformer =>
        new([.. _transformers, transformer ?? throw new ArgumentNullException(nameof(transformer))]);

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        DataViewSchema schema = inputSchema;
        foreach (ITransformer t in _transformers)
        {
            schema = t.GetOutputSchema(schema);
        }

        return schema;
    }

    /// <inheritdoc />
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        IDataView view = input;
        foreach (ITransformer t in _transformers)
        {
            view = t.Transform(view);
        }

        return view;
    }

    /// <inheritdoc />
    public IEnumerator<ITransformer> GetEnumerator() => ((IEnumerable<ITransformer>)_transformers).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Estimators fitted in order, each on the previous ones' output (ML.NET's <c>EstimatorChain&lt;TLastTransformer&gt;</c>).</summary>
/// <typeparam name="TLastTransformer">The type of the last estimator's transformer.</typeparam>
public sealed class EstimatorChain<TLastTransformer> : IEstimator<TransformerChain<TLastTransformer>>
    where TLastTransformer : class, ITransformer
{
    private readonly IEstimator<ITransformer>[] _estimators;

    /// <summary>An empty chain (fits to the identity).</summary>
    public EstimatorChain()
        : this([])
    {
    }

    private EstimatorChain(IEstimator<ITransformer>[] estimators) => _estimators = estimators;

    /// <summary>The estimators, in order.</summary>
    public IReadOnlyList<IEstimator<ITransformer>> Estimators => _estimators;

    /// <summary>A chain with <paramref name="estimator"/> added at the end.</summary>
    /// <typeparam name="TNew">The new last transformer's type.</typeparam>
    /// <param name="estimator">The estimator.</param>
    /// <returns>The new chain (this one is unchanged).</returns>
    public EstimatorChain<TNew> Append<TNew>(IEstimator<TNew> estimator)
        where TNew : class, ITransformer =>
        new([.. _estimators, estimator ?? throw new ArgumentNullException(nameof(estimator))]);

    /// <summary>Fits each estimator on the lazily transformed output of the ones before it.</summary>
    /// <param name="input">The training data.</param>
    /// <returns>The fitted chain.</returns>
    public TransformerChain<TLastTransformer> Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var fitted = new List<ITransformer>(_estimators.Length);
        IDataView view = input;
        foreach (IEstimator<ITransformer> e in _estimators)
        {
            ITransformer t = e.Fit(view);
            fitted.Add(t);
            view = t.Transform(view);
        }

        return new TransformerChain<TLastTransformer>(fitted);
    }

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        DataViewSchema schema = inputSchema;
        foreach (IEstimator<ITransformer> e in _estimators)
        {
            schema = e.GetOutputSchema(schema);
        }

        return schema;
    }
}

/// <summary>The <c>Append</c> methods that start chains, as in ML.NET.</summary>
public static class PipelineExtensions
{
    /// <summary>Chains two estimators: <paramref name="start"/> then <paramref name="estimator"/>.</summary>
    /// <typeparam name="TTransformer">The second estimator's transformer.</typeparam>
    /// <param name="start">The first estimator.</param>
    /// <param name="estimator">The second estimator.</param>
    /// <returns>The chain.</returns>
    public static EstimatorChain<TTransformer> Append<TTransformer>(this IEstimator<ITransformer> start, IEstimator<TTransformer> estimator)
        where TTransformer : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(start);
        return new EstimatorChain<ITransformer>().Append(start).Append(estimator);
    }

    /// <summary>Chains two transformers: <paramref name="start"/> then <paramref name="transformer"/>.</summary>
    /// <typeparam name="TTransformer">The second transformer's type.</typeparam>
    /// <param name="start">The first transformer.</param>
    /// <param name="transformer">The second transformer.</param>
    /// <returns>The chain.</returns>
    public static TransformerChain<TTransformer> Append<TTransformer>(this ITransformer start, TTransformer transformer)
        where TTransformer : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(start);
        return new TransformerChain<TTransformer>(start, transformer);
    }
}
