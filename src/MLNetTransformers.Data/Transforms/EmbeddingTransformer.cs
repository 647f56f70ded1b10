using System.Text.Json.Nodes;
using MLNetTransformers.Generation.Encoding;

namespace MLNetTransformers.Data.Transforms;

/// <summary>Options of <see cref="EmbeddingTransformer"/> (<c>ctx.Transforms.Embed</c>).</summary>
public sealed record EmbedOptions : TextModelTransformOptions
{
    /// <summary>How token vectors are pooled. Default <see cref="PoolingStrategy.Mean"/>.</summary>
    public PoolingStrategy Pooling { get; init; } = PoolingStrategy.Mean;

    /// <summary>Whether each vector is scaled to unit L2 norm. Default false.</summary>
    public bool Normalize { get; init; }

    /// <summary>The graph output of token vectors; <see langword="null"/> for <c>last_hidden_state</c> (else the first rank-3 output).</summary>
    public string? ModelOutputName { get; init; }

    /// <summary>The output column (Single vector). Default <c>embedding</c>.</summary>
    public string OutputColumnName { get; init; } = "embedding";
}

/// <summary>
/// Embeds a text column with an encoder model folder: one Single vector per row, pooled as <see cref="Embedder"/> pools (and equal
/// to <see cref="Embedder.Embed(string, CancellationToken)"/> within float tolerance), run in batches as <see cref="BatchPolicy"/>
/// says, output in input order. A null, empty or too-long (without <see cref="TextModelTransformOptions.Truncate"/>) text is a row
/// error. Holds an ONNX Runtime session: dispose the transformer (the caller of <c>Fit</c> or of the constructor owns it).
/// </summary>
public sealed class EmbeddingTransformer : BatchMappingTransformer, ISavableTransformer, IDisposable
{
    /// <summary>The kind name in pipeline descriptions.</summary>
    public const string KindName = "embed";

    private readonly Embedder _embedder;

    /// <summary>Opens the model and uses the given policy.</summary>
    /// <param name="modelPath">The model folder (or an <c>.onnx</c> file in one).</param>
    /// <param name="options">The options (their batch settings are ignored in favour of <paramref name="batchPolicy"/>).</param>
    /// <param name="batchPolicy">The batching policy.</param>
    public EmbeddingTransformer(string modelPath, EmbedOptions options, BatchPolicy batchPolicy)
        : this(Open(modelPath, options), modelPath, options, batchPolicy)
    {
    }

    private EmbeddingTransformer(Embedder embedder, string modelPath, EmbedOptions options, BatchPolicy batchPolicy)
        : base(options.ErrorColumnName)
    {
        ArgumentNullException.ThrowIfNull(batchPolicy);
        batchPolicy.Validate();
        _embedder = embedder;
        _embedder.UseBatchPolicy(batchPolicy);
        ModelPath = modelPath;
        Options = options;
        BatchPolicy = batchPolicy;
    }

    /// <summary>The model folder or file.</summary>
    public string ModelPath { get; }

    /// <summary>The options.</summary>
    public EmbedOptions Options { get; }

    /// <summary>The batching policy in use (chosen by <c>Fit</c> or given); saved in the pipeline description.</summary>
    public BatchPolicy BatchPolicy { get; }

    /// <summary>The embedder (its encoder, session and tokenizer); owned by this transformer.</summary>
    public Embedder Embedder => _embedder;

    /// <inheritdoc />
    public string Kind => KindName;

    /// <inheritdoc />
    protected override int? PreferredBatchSize => ModelTransformSupport.PreferredBatchSize(BatchPolicy);

    internal static Embedder Open(string modelPath, EmbedOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        ArgumentNullException.ThrowIfNull(options);
        return Embedder.Open(
            modelPath,
            new EmbedderOptions { Pooling = options.Pooling, Normalize = options.Normalize, OutputName = options.ModelOutputName },
            options.SessionOptions,
            new TextEncoderOptions { MaxLength = options.MaxLength, Truncate = options.Truncate });
    }

    internal static EmbeddingTransformer Create(Embedder embedder, string modelPath, EmbedOptions options, BatchPolicy policy) =>
        new(embedder, modelPath, options, policy);

    internal static DataViewSchema AddedColumns(DataViewSchema inputSchema, EmbedOptions options)
    {
        CheckText(inputSchema, options.InputColumnName, nameof(EmbeddingTransformer));
        return new DataViewSchema.Builder().AddColumn(options.OutputColumnName, new VectorDataViewType(NumberDataViewType.Single)).ToSchema();
    }

    internal static void CheckText(DataViewSchema schema, string name, string transform)
    {
        ArgumentNullException.ThrowIfNull(schema);
        DataViewSchema.Column column = schema.GetColumnOrNull(name)
            ?? throw new KeyNotFoundException($"{transform} needs an input column '{name}'; the schema is ({schema}).");
        if (column.Type is not TextDataViewType)
        {
            throw new ArgumentException($"{transform} needs column '{name}' to be Text, but it is {column.Type}.", nameof(schema));
        }
    }

    /// <inheritdoc />
    protected override DataViewSchema GetAddedColumns(DataViewSchema inputSchema) => AddedColumns(inputSchema, Options);

    /// <inheritdoc />
    protected override void MapBatch(DataBatch input, BatchMappingOutput output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        string?[] texts = input.GetColumn<string?>(Options.InputColumnName);
        float[][] vectors = output.GetColumn<float[]>(Options.OutputColumnName);
        (int[] rows, var encodings) = EncoderRows.Tokenize(_embedder.Encoder, texts, output, Options.InputColumnName, cancellationToken);
        var results = EncoderRows.Score(_embedder.Encoder, _embedder.Batcher, encodings, _embedder.OutputName, Pool, cancellationToken);
        for (int i = 0; i < rows.Length; i++)
        {
            if (results[i].Error is string error)
            {
                output.SetError(rows[i], error);
            }
            else
            {
                vectors[rows[i]] = results[i].Result!;
            }
        }
    }

    private float[] Pool(EncoderBatchOutput output, int row) => PoolRow(output, row, _embedder.OutputName, Options.Pooling, Options.Normalize);

    internal static float[] PoolRow(EncoderBatchOutput output, int row, string outputName, PoolingStrategy pooling, bool normalize)
    {
        (float[] data, long[] shape) = output.GetOutput(outputName);
        if (shape.Length != 3 || shape[0] != output.Rows || shape[1] != output.SequenceLength)
        {
            throw new InvalidDataException($"The output '{outputName}' has shape [{string.Join(", ", shape)}]; expected [{output.Rows}, {output.SequenceLength}, hidden].");
        }

        int sequence = output.SequenceLength;
        int size = (int)shape[2];
        long[] mask = output.AttentionMask as long[] ?? output.AttentionMask.ToArray();
        return Embedder.Pool(data.AsSpan(row * sequence * size, sequence * size), mask.AsSpan(row * sequence, sequence), pooling, normalize);
    }

    /// <inheritdoc />
    public JsonObject SaveOptions(PipelineFileContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var json = new JsonObject
        {
            ["modelPath"] = context.ToStoredPath(ModelPath),
            ["pooling"] = Options.Pooling.ToString(),
            ["normalize"] = Options.Normalize,
            ["modelOutputName"] = Options.ModelOutputName,
            ["outputColumnName"] = Options.OutputColumnName,
        };
        ModelTransformSupport.SaveCommon(json, Options, BatchPolicy);
        return json;
    }

    /// <summary>The <see cref="TransformerFactory"/> of the <c>embed</c> kind.</summary>
    /// <param name="options">The saved options.</param>
    /// <param name="context">Resolves the model path.</param>
    /// <returns>The transformer (dispose it).</returns>
    public static EmbeddingTransformer Load(JsonObject options, PipelineFileContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        var defaults = new EmbedOptions();
        EmbedOptions loaded = ModelTransformSupport.LoadCommon(options, defaults with
        {
            Pooling = Enum.Parse<PoolingStrategy>(PipelineJson.GetString(options, "pooling", nameof(PoolingStrategy.Mean))!),
            Normalize = options["normalize"]?.GetValue<bool>() ?? false,
            ModelOutputName = PipelineJson.GetString(options, "modelOutputName", null),
            OutputColumnName = PipelineJson.GetString(options, "outputColumnName", defaults.OutputColumnName)!,
        });
        return new EmbeddingTransformer(ModelTransformSupport.ModelPath(options, context, KindName), loaded, loaded.BatchPolicy!);
    }

    /// <summary>Disposes the embedder and its session.</summary>
    public void Dispose() => _embedder.Dispose();
}

/// <summary>
/// The estimator of <see cref="EmbeddingTransformer"/>: <see cref="Fit(IDataView)"/> opens the model and, unless the options fix a batch size
/// or policy, times <see cref="BatchPolicy.DefaultCandidates"/> on the first rows and records the fastest.
/// </summary>
public sealed class EmbeddingEstimator : IEstimator<EmbeddingTransformer>
{
    /// <summary>Creates the estimator (nothing is loaded until <see cref="Fit(IDataView)"/>).</summary>
    /// <param name="modelPath">The model folder (or an <c>.onnx</c> file in one).</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    public EmbeddingEstimator(string modelPath, EmbedOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        ModelPath = modelPath;
        Options = options ?? new EmbedOptions();
        _ = Options.FixedPolicy();
    }

    /// <summary>The model folder or file.</summary>
    public string ModelPath { get; }

    /// <summary>The options.</summary>
    public EmbedOptions Options { get; }

    /// <summary>Opens the model and chooses (or takes) the batching policy.</summary>
    /// <param name="input">The data (its first rows are the measurement sample when the policy is automatic).</param>
    /// <returns>The transformer; the caller owns (disposes) it.</returns>
    public EmbeddingTransformer Fit(IDataView input) => Fit(input, CancellationToken.None);

    /// <summary>Opens the model and chooses (or takes) the batching policy.</summary>
    /// <param name="input">The data.</param>
    /// <param name="cancellationToken">Stops the measurement.</param>
    /// <returns>The transformer; the caller owns (disposes) it.</returns>
    public EmbeddingTransformer Fit(IDataView input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        GetOutputSchema(input.Schema);
        Embedder embedder = EmbeddingTransformer.Open(ModelPath, Options);
        try
        {
            BatchPolicy policy = EncoderRows.ChoosePolicy(embedder.Encoder, embedder.OutputName, Options, input, cancellationToken);
            return EmbeddingTransformer.Create(embedder, ModelPath, Options, policy);
        }
        catch
        {
            embedder.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) =>
        BatchMappingTransformer.MergeSchema(inputSchema, EmbeddingTransformer.AddedColumns(inputSchema, Options), Options.ErrorColumnName);
}
