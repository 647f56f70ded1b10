using MLNetTransformers.Data.Transforms;

namespace MLNetTransformers.Data;

/// <summary>The transforms of a <see cref="TransformersContext"/> (ML.NET's <c>TransformsCatalog</c>); other assemblies add theirs as extension methods.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "Catalog members are instance members, as in ML.NET, so that extension methods and future state fit.")]
public sealed class TransformsCatalog
{
    internal TransformsCatalog(TransformersContext context) => Context = context;

    /// <summary>The context, for extension methods that need its other catalogs.</summary>
    public TransformersContext Context { get; }

    /// <summary>Tokenizes a text column with a model folder's tokenizer into <c>input_ids</c>, <c>attention_mask</c>, <c>offsets</c>.</summary>
    /// <param name="modelDirectory">The model folder holding <c>tokenizer.json</c>.</param>
    /// <param name="inputColumnName">The text column.</param>
    /// <param name="maxLength">The most tokens per row (truncating), or <see langword="null"/> for no limit.</param>
    /// <returns>The estimator.</returns>
    public TrivialEstimator<TokenizingTransformer> Tokenize(string modelDirectory, string inputColumnName = "text", int? maxLength = null) =>
        Tokenize(new TokenizeOptions { ModelDirectory = modelDirectory, InputColumnName = inputColumnName, MaxLength = maxLength });

    /// <summary>Tokenizes a text column with a model folder's tokenizer.</summary>
    /// <param name="options">The options.</param>
    /// <returns>The estimator.</returns>
    public TrivialEstimator<TokenizingTransformer> Tokenize(TokenizeOptions options) => new(new TokenizingTransformer(options));
}
