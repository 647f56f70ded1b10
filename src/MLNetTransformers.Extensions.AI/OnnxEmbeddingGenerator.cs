using Microsoft.Extensions.AI;
using MLNetTransformers.Generation.Encoding;

namespace MLNetTransformers.Extensions.AI;

/// <summary>Options of an <see cref="OnnxEmbeddingGenerator"/> (settable, so they bind from configuration).</summary>
public sealed class OnnxEmbeddingGeneratorOptions
{
    /// <summary>The encoder model folder (Hugging Face layout) or one of its <c>.onnx</c> files. Required.</summary>
    public string? ModelPath { get; set; }

    /// <summary>The model id reported in metadata; null: the folder's name.</summary>
    public string? ModelId { get; set; }

    /// <summary>How token vectors become one vector: mean (default), CLS or last token.</summary>
    public PoolingStrategy Pooling { get; set; } = PoolingStrategy.Mean;

    /// <summary>Scale every embedding to unit length (default true: what cosine-similarity stores expect).</summary>
    public bool Normalize { get; set; } = true;

    /// <summary>Cut texts longer than the model's context instead of failing the call.</summary>
    public bool Truncate { get; set; }

    /// <summary>The padding-aware batcher's token budget (rows × padded length per run); default <see cref="BatchPolicy.DefaultTokenBudget"/>.</summary>
    public long TokenBudget { get; set; } = BatchPolicy.DefaultTokenBudget;

    /// <summary>Execution providers in order of preference; empty: the CPU.</summary>
    public IList<string> Providers { get; } = [];

    /// <summary>Fall back to the CPU when a provider cannot start.</summary>
    public bool ProviderFallbackToCpu { get; set; }

    /// <summary>ONNX Runtime intra-op threads; null: ONNX Runtime's default.</summary>
    public int? IntraOpThreads { get; set; }
}

/// <summary>
/// An <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over a local encoder model. All inputs of one call go through the
/// padding-aware batcher together (sorted by length, cut by a token budget, padded only within a batch, returned in the input
/// order). Thread-safe: concurrent calls run concurrently on the one ONNX Runtime session.
/// </summary>
/// <remarks><see cref="EmbeddingGenerationOptions.Dimensions"/> smaller than the model's width keeps the first dimensions (and
/// renormalizes when <see cref="OnnxEmbeddingGeneratorOptions.Normalize"/> is set), as Matryoshka-trained models expect; a larger
/// one is an error. Usage reports the input token count.</remarks>
public sealed class OnnxEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly Embedder _embedder;
    private readonly bool _ownsEmbedder;
    private readonly bool _normalize;
    private readonly EmbeddingGeneratorMetadata _metadata;

    /// <summary>Loads the encoder named by <paramref name="options"/>.</summary>
    /// <param name="options">The options (<see cref="OnnxEmbeddingGeneratorOptions.ModelPath"/> is required).</param>
    /// <exception cref="ArgumentException">No model path.</exception>
    /// <exception cref="InvalidDataException">The model has no token-vector output or unmappable inputs.</exception>
    public OnnxEmbeddingGenerator(OnnxEmbeddingGeneratorOptions options)
        : this(Open(options), options.ModelId, options.Normalize, ownsEmbedder: true)
    {
    }

    /// <summary>Serves an already loaded embedder.</summary>
    /// <param name="embedder">The embedder.</param>
    /// <param name="modelId">The model id; null: the folder's name.</param>
    /// <param name="ownsEmbedder">Dispose the embedder with this generator.</param>
    public OnnxEmbeddingGenerator(Embedder embedder, string? modelId = null, bool ownsEmbedder = false)
        : this(embedder, modelId, embedder?.Options.Normalize ?? false, ownsEmbedder)
    {
    }

    private OnnxEmbeddingGenerator(Embedder embedder, string? modelId, bool normalize, bool ownsEmbedder)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        _embedder = embedder;
        _ownsEmbedder = ownsEmbedder;
        _normalize = normalize;
        string path = embedder.Encoder.Session.ModelPath ?? "model";
        string folder = Path.GetFileName(Path.GetDirectoryName(path) is { } d && Path.GetFileName(d) == "onnx" ? Path.GetDirectoryName(d)! : Path.GetDirectoryName(path) ?? path);
        ModelId = modelId ?? folder;
        Dimensions = embedder.Encoder.Config?.HiddenSize;
        _metadata = new EmbeddingGeneratorMetadata("mlnettransformers", new Uri("file://" + Path.GetFullPath(path)), ModelId, Dimensions);
    }

    /// <summary>The model id reported in metadata and results.</summary>
    public string ModelId { get; }

    /// <summary>The embedding width from config.json, or null when unknown.</summary>
    public int? Dimensions { get; }

    /// <inheritdoc/>
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        string[] texts = [.. values];
        if (texts.Any(t => t is null))
        {
            throw new ArgumentException("An input text is null.", nameof(values));
        }

        float[][] vectors = texts.Length == 0 ? [] : await _embedder.EmbedAsync(texts, cancellationToken).ConfigureAwait(false);
        int? dimensions = options?.Dimensions;
        DateTimeOffset created = DateTimeOffset.UtcNow;
        var result = new GeneratedEmbeddings<Embedding<float>>(vectors.Length);
        foreach (float[] vector in vectors)
        {
            float[] value = vector;
            if (dimensions is { } width && width != vector.Length)
            {
                if (width < 1 || width > vector.Length)
                {
                    throw new ArgumentOutOfRangeException(nameof(options), width, $"EmbeddingGenerationOptions.Dimensions must be between 1 and the model's {vector.Length}.");
                }

                value = vector[..width];
                if (_normalize)
                {
                    float norm = MathF.Sqrt(value.Sum(v => v * v));
                    for (int i = 0; i < value.Length && norm > 0; i++)
                    {
                        value[i] /= norm;
                    }
                }
            }

            result.Add(new Embedding<float>(value) { ModelId = ModelId, CreatedAt = created });
        }

        long tokens = texts.Sum(t => (long)_embedder.Encoder.Tokenizer.CountTokens(t));
        result.Usage = new UsageDetails { InputTokenCount = tokens, TotalTokenCount = tokens };
        return result;
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
            : serviceType == typeof(Embedder) ? _embedder
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <summary>Disposes the embedder when this generator loaded it.</summary>
    public void Dispose()
    {
        if (_ownsEmbedder)
        {
            _embedder.Dispose();
        }
    }

    private static Embedder Open(OnnxEmbeddingGeneratorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ModelPath))
        {
            throw new ArgumentException("OnnxEmbeddingGeneratorOptions.ModelPath is required: the encoder model folder to load.", nameof(options));
        }

        return Embedder.Open(
            options.ModelPath,
            new EmbedderOptions { Pooling = options.Pooling, Normalize = options.Normalize, BatchPolicy = BatchPolicy.PaddingAware(options.TokenBudget) },
            OnnxChatClient.CreateSessionOptions(options.Providers, options.ProviderFallbackToCpu, options.IntraOpThreads),
            new TextEncoderOptions { Truncate = options.Truncate });
    }
}
