using System.Globalization;
using System.Text.Json.Nodes;
using MLNetTransformers.Generation;
using MLNetTransformers.Generation.Decoding;
using MLNetTransformers.Generation.Encoding;
using MLNetTransformers.Generation.Text;

namespace MLNetTransformers.Data.Transforms;

/// <summary>Options of <see cref="TextGenerationTransformer"/> (<c>ctx.Transforms.GenerateText</c>).</summary>
/// <remarks><see cref="TextModelTransformOptions.MaxLength"/> caps the prompt in tokens: a longer prompt is a row error, or with
/// <see cref="TextModelTransformOptions.Truncate"/> keeps its last tokens (and a leading BOS token).</remarks>
public sealed record GenerateTextOptions : TextModelTransformOptions
{
    /// <summary>The generation options of every row; <see langword="null"/> for the model's defaults (<c>generation_config.json</c>).</summary>
    public GenerationOptions? Generation { get; init; }

    /// <summary>The output column of the generated text (Text). Default <c>generated</c>.</summary>
    public string OutputColumnName { get; init; } = "generated";

    /// <summary>The output column of the finish reason (Text: <c>eos</c>, <c>stop</c> or <c>length</c>). Default <c>finish_reason</c>.</summary>
    public string FinishReasonColumnName { get; init; } = "finish_reason";
}

/// <summary>
/// Generates a continuation of each prompt in a text column with a decoder model folder, batch by batch with
/// <see cref="Generator.GenerateBatch(IReadOnlyList{IReadOnlyList{int}}, GenerationOptions?, CancellationToken)"/> (which
/// left-pads the prompts); batches are cut as <see cref="BatchPolicy"/> says (a padding-aware policy groups prompts of similar
/// length). A prompt that fails (null, too long for the context or <see cref="TextModelTransformOptions.MaxLength"/>) is a row
/// error; when a batch is rejected its rows are retried one by one so that only the bad rows fail. Beam search
/// (<see cref="GenerationOptions.NumBeams"/> &gt; 1) runs row by row. Holds ONNX Runtime sessions: dispose it (the caller of
/// <c>Fit</c> or of the constructor owns it).
/// </summary>
public sealed class TextGenerationTransformer : BatchMappingTransformer, ISavableTransformer, IDisposable
{
    /// <summary>The kind name in pipeline descriptions.</summary>
    public const string KindName = "generate";

    private readonly Generator _generator;

    /// <summary>Opens the model and uses the given policy.</summary>
    /// <param name="modelPath">The model folder.</param>
    /// <param name="options">The options (their batch settings are ignored in favour of <paramref name="batchPolicy"/>).</param>
    /// <param name="batchPolicy">The batching policy.</param>
    public TextGenerationTransformer(string modelPath, GenerateTextOptions options, BatchPolicy batchPolicy)
        : this(Open(modelPath, options), modelPath, options, batchPolicy)
    {
    }

    private TextGenerationTransformer(Generator generator, string modelPath, GenerateTextOptions options, BatchPolicy batchPolicy)
        : base(options.ErrorColumnName)
    {
        ArgumentNullException.ThrowIfNull(batchPolicy);
        batchPolicy.Validate();
        if (options.MaxLength is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxLength, "GenerateTextOptions.MaxLength must be at least 1.");
        }

        _generator = generator;
        ModelPath = modelPath;
        Options = options;
        BatchPolicy = batchPolicy;
    }

    /// <summary>The model folder.</summary>
    public string ModelPath { get; }

    /// <summary>The options.</summary>
    public GenerateTextOptions Options { get; }

    /// <summary>The batching policy in use (chosen by <c>Fit</c> or given); saved in the pipeline description.</summary>
    public BatchPolicy BatchPolicy { get; }

    /// <summary>The generator (its sessions and tokenizer); owned by this transformer.</summary>
    public Generator Generator => _generator;

    /// <inheritdoc />
    public string Kind => KindName;

    /// <inheritdoc />
    protected override int? PreferredBatchSize => ModelTransformSupport.PreferredBatchSize(BatchPolicy);

    internal static Generator Open(string modelPath, GenerateTextOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        ArgumentNullException.ThrowIfNull(options);
        var generator = new Generator(ModelFolder.Open(modelPath), options.SessionOptions);
        if (generator.Tokenizer is null)
        {
            generator.Dispose();
            throw new FileNotFoundException($"The model folder {modelPath} has no tokenizer; text generation from a text column needs one.", Path.Combine(modelPath, "tokenizer.json"));
        }

        return generator;
    }

    internal static TextGenerationTransformer Create(Generator generator, string modelPath, GenerateTextOptions options, BatchPolicy policy) =>
        new(generator, modelPath, options, policy);

    internal static DataViewSchema AddedColumns(DataViewSchema inputSchema, GenerateTextOptions options)
    {
        EmbeddingTransformer.CheckText(inputSchema, options.InputColumnName, nameof(TextGenerationTransformer));
        return new DataViewSchema.Builder()
            .AddColumn(options.OutputColumnName, TextDataViewType.Instance)
            .AddColumn(options.FinishReasonColumnName, TextDataViewType.Instance)
            .ToSchema();
    }

    /// <inheritdoc />
    protected override DataViewSchema GetAddedColumns(DataViewSchema inputSchema) => AddedColumns(inputSchema, Options);

    /// <summary>The finish reason as written to the column.</summary>
    /// <param name="reason">The reason.</param>
    /// <returns><c>eos</c>, <c>stop</c> or <c>length</c>.</returns>
    public static string FinishReasonText(FinishReason reason) => reason switch
    {
        FinishReason.Eos => "eos",
        FinishReason.Stop => "stop",
        FinishReason.Length => "length",
        _ => reason.ToString(),
    };

    /// <inheritdoc />
    protected override void MapBatch(DataBatch input, BatchMappingOutput output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        string?[] texts = input.GetColumn<string?>(Options.InputColumnName);
        string?[] generated = output.GetColumn<string?>(Options.OutputColumnName);
        string?[] reasons = output.GetColumn<string?>(Options.FinishReasonColumnName);
        var rows = new List<int>();
        var prompts = new List<int[]>();
        for (int i = 0; i < texts.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (output.HasError(i))
            {
                continue;
            }

            if (texts[i] is not string text)
            {
                output.SetError(i, $"The text column '{Options.InputColumnName}' is missing (null).");
                continue;
            }

            if (EncodePrompt(text) is not { } ids)
            {
                output.SetError(i, string.Create(CultureInfo.InvariantCulture, $"The prompt has more than {Options.MaxLength} tokens (GenerateTextOptions.MaxLength); shorten it or set Truncate."));
                continue;
            }

            rows.Add(i);
            prompts.Add(ids);
        }

        var results = Generate(prompts, BatchPolicy, cancellationToken);
        for (int r = 0; r < rows.Count; r++)
        {
            if (results[r].Error is string error)
            {
                output.SetError(rows[r], error);
                continue;
            }

            GenerationResult result = results[r].Result!;
            generated[rows[r]] = result.Text;
            reasons[rows[r]] = FinishReasonText(result.FinishReason);
        }
    }

    /// <summary>Encodes a prompt and applies <see cref="TextModelTransformOptions.MaxLength"/>; null when too long without truncation.</summary>
    private int[]? EncodePrompt(string text)
    {
        int[] ids = _generator.Encode(text);
        if (Options.MaxLength is not int max || ids.Length <= max)
        {
            return ids;
        }

        if (!Options.Truncate)
        {
            return null;
        }

        bool keepBos = _generator.Tokenizer?.BosTokenId is int bos && ids.Length > 0 && ids[0] == bos && max > 1;
        return keepBos ? [ids[0], .. ids.AsSpan(ids.Length - (max - 1))] : ids[^max..];
    }

    internal (GenerationResult? Result, string? Error)[] Generate(IReadOnlyList<int[]> prompts, BatchPolicy policy, CancellationToken cancellationToken)
    {
        var results = new (GenerationResult?, string?)[prompts.Count];
        if (prompts.Count == 0)
        {
            return results;
        }

        bool perRow = Options.Generation is { NumBeams: > 1 };
        foreach (int[] batch in policy.Plan(prompts.Select(p => p.Length).ToArray()))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!perRow && batch.Length > 1)
            {
                try
                {
                    IReadOnlyList<GenerationResult> batchResults = _generator.GenerateBatch(batch.Select(i => (IReadOnlyList<int>)prompts[i]).ToArray(), Options.Generation, cancellationToken);
                    for (int b = 0; b < batch.Length; b++)
                    {
                        results[batch[b]] = (batchResults[b], null);
                    }

                    continue;
                }
                catch (ArgumentException)
                {
                    // A row was rejected: run the rows one by one so that only the bad ones fail.
                }
            }

            foreach (int i in batch)
            {
                try
                {
                    results[i] = (_generator.Generate(prompts[i], Options.Generation, cancellationToken), null);
                }
                catch (ArgumentException e)
                {
                    results[i] = (null, "Generation failed: " + e.Message);
                }
            }
        }

        return results;
    }

    /// <inheritdoc />
    public JsonObject SaveOptions(PipelineFileContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var json = new JsonObject
        {
            ["modelPath"] = context.ToStoredPath(ModelPath),
            ["generation"] = Options.Generation is null ? null : ModelTransformSupport.ToJson(Options.Generation),
            ["outputColumnName"] = Options.OutputColumnName,
            ["finishReasonColumnName"] = Options.FinishReasonColumnName,
        };
        ModelTransformSupport.SaveCommon(json, Options, BatchPolicy);
        return json;
    }

    /// <summary>The <see cref="TransformerFactory"/> of the <c>generate</c> kind.</summary>
    /// <param name="options">The saved options.</param>
    /// <param name="context">Resolves the model path.</param>
    /// <returns>The transformer (dispose it).</returns>
    public static TextGenerationTransformer Load(JsonObject options, PipelineFileContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        var defaults = new GenerateTextOptions();
        GenerateTextOptions loaded = ModelTransformSupport.LoadCommon(options, defaults with
        {
            Generation = ModelTransformSupport.FromJson<GenerationOptions>(options["generation"]),
            OutputColumnName = PipelineJson.GetString(options, "outputColumnName", defaults.OutputColumnName)!,
            FinishReasonColumnName = PipelineJson.GetString(options, "finishReasonColumnName", defaults.FinishReasonColumnName)!,
        });
        return new TextGenerationTransformer(ModelTransformSupport.ModelPath(options, context, KindName), loaded, loaded.BatchPolicy!);
    }

    /// <summary>Disposes the generator and its sessions.</summary>
    public void Dispose() => _generator.Dispose();
}

/// <summary>
/// The estimator of <see cref="TextGenerationTransformer"/>: <see cref="Fit(IDataView)"/> opens the model and, unless the options fix a batch
/// size or policy, times per-row, fixed 8 and fixed 32 batches on the first rows (at most 16 prompts) and records the fastest.
/// </summary>
public sealed class TextGenerationEstimator : IEstimator<TextGenerationTransformer>
{
    /// <summary>The candidates of the automatic choice.</summary>
    public static IReadOnlyList<BatchPolicy> AutoCandidates { get; } = [BatchPolicy.PerRow, BatchPolicy.FixedSize(8), BatchPolicy.FixedSize(32)];

    /// <summary>Creates the estimator (nothing is loaded until <see cref="Fit(IDataView)"/>).</summary>
    /// <param name="modelPath">The model folder.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    public TextGenerationEstimator(string modelPath, GenerateTextOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        ModelPath = modelPath;
        Options = options ?? new GenerateTextOptions();
        _ = Options.FixedPolicy();
    }

    /// <summary>The model folder.</summary>
    public string ModelPath { get; }

    /// <summary>The options.</summary>
    public GenerateTextOptions Options { get; }

    /// <summary>Opens the model and chooses (or takes) the batching policy.</summary>
    /// <param name="input">The data (its first rows are the measurement sample when the policy is automatic).</param>
    /// <returns>The transformer; the caller owns (disposes) it.</returns>
    public TextGenerationTransformer Fit(IDataView input) => Fit(input, CancellationToken.None);

    /// <summary>Opens the model and chooses (or takes) the batching policy.</summary>
    /// <param name="input">The data.</param>
    /// <param name="cancellationToken">Stops the measurement.</param>
    /// <returns>The transformer; the caller owns (disposes) it.</returns>
    public TextGenerationTransformer Fit(IDataView input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        GetOutputSchema(input.Schema);
        Generator generator = TextGenerationTransformer.Open(ModelPath, Options);
        TextGenerationTransformer? transformer = null;
        try
        {
            BatchPolicy? fixedPolicy = Options.FixedPolicy();
            transformer = TextGenerationTransformer.Create(generator, ModelPath, Options, fixedPolicy ?? BatchPolicy.FixedSize(8));
            if (fixedPolicy is not null)
            {
                return transformer;
            }

            int[][] sample = ModelTransformSupport.Sample<string?>(input, Options.InputColumnName, Math.Min(Options.AutoBatchSampleRows, 16), cancellationToken)
                .OfType<string>().Select(generator.Encode).ToArray();
            if (sample.Length == 0)
            {
                return transformer;
            }

            TextGenerationTransformer measuring = transformer;
            BatchPolicy chosen = ModelTransformSupport.Choose(AutoCandidates, (policy, token) => measuring.Generate(sample, policy, token), cancellationToken);
            return TextGenerationTransformer.Create(generator, ModelPath, Options, chosen);
        }
        catch
        {
            generator.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) =>
        BatchMappingTransformer.MergeSchema(inputSchema, TextGenerationTransformer.AddedColumns(inputSchema, Options), Options.ErrorColumnName);
}
