using System.Globalization;
using System.Text.Json.Nodes;
using MLNetTransformers.Generation.Encoding;

namespace MLNetTransformers.Data.Transforms;

/// <summary>Options of <see cref="ClassificationTransformer"/> (<c>ctx.Transforms.Classify</c>).</summary>
public sealed record ClassifyOptions : TextModelTransformOptions
{
    /// <summary>The graph output of logits [batch, labels]. Default <c>logits</c>.</summary>
    public string ModelOutputName { get; init; } = "logits";

    /// <summary>The output column of the best label (Text). Default <c>label</c>.</summary>
    public string LabelColumnName { get; init; } = "label";

    /// <summary>The output column of the best label's probability (Single). Default <c>score</c>.</summary>
    public string ScoreColumnName { get; init; } = "score";

    /// <summary>The output column of every label's probability in <c>id2label</c> order (Single vector). Default <c>scores</c>.</summary>
    public string ScoresColumnName { get; init; } = "scores";
}

/// <summary>
/// Classifies a text column with a sequence-classification model folder as <see cref="Classifier"/> does (softmax over the logits,
/// labels from <c>config.json</c> <c>id2label</c>): the best label, its probability, and all probabilities in label-id order
/// (<see cref="Labels"/>). Batched as <see cref="BatchPolicy"/> says, output in input order; a null, empty or too-long text is a
/// row error. Holds an ONNX Runtime session: dispose it (the caller of <c>Fit</c> or of the constructor owns it).
/// </summary>
public sealed class ClassificationTransformer : BatchMappingTransformer, ISavableTransformer, IDisposable
{
    /// <summary>The kind name in pipeline descriptions.</summary>
    public const string KindName = "classify";

    private readonly Classifier _classifier;

    /// <summary>Opens the model and uses the given policy.</summary>
    /// <param name="modelPath">The model folder (or an <c>.onnx</c> file in one).</param>
    /// <param name="options">The options (their batch settings are ignored in favour of <paramref name="batchPolicy"/>).</param>
    /// <param name="batchPolicy">The batching policy.</param>
    public ClassificationTransformer(string modelPath, ClassifyOptions options, BatchPolicy batchPolicy)
        : this(Open(modelPath, options), modelPath, options, batchPolicy)
    {
    }

    private ClassificationTransformer(Classifier classifier, string modelPath, ClassifyOptions options, BatchPolicy batchPolicy)
        : base(options.ErrorColumnName)
    {
        ArgumentNullException.ThrowIfNull(batchPolicy);
        batchPolicy.Validate();
        _classifier = classifier;
        _classifier.UseBatchPolicy(batchPolicy);
        ModelPath = modelPath;
        Options = options;
        BatchPolicy = batchPolicy;
    }

    /// <summary>The model folder or file.</summary>
    public string ModelPath { get; }

    /// <summary>The options.</summary>
    public ClassifyOptions Options { get; }

    /// <summary>The batching policy in use (chosen by <c>Fit</c> or given); saved in the pipeline description.</summary>
    public BatchPolicy BatchPolicy { get; }

    /// <summary>The label names by id (the order of the <c>scores</c> column).</summary>
    public IReadOnlyList<string> Labels => _classifier.Labels;

    /// <summary>The classifier (its encoder and session); owned by this transformer.</summary>
    public Classifier Classifier => _classifier;

    /// <inheritdoc />
    public string Kind => KindName;

    /// <inheritdoc />
    protected override int? PreferredBatchSize => ModelTransformSupport.PreferredBatchSize(BatchPolicy);

    internal static Classifier Open(string modelPath, ClassifyOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        ArgumentNullException.ThrowIfNull(options);
        return Classifier.Open(
            modelPath,
            new ClassifierOptions { OutputName = options.ModelOutputName },
            options.SessionOptions,
            new TextEncoderOptions { MaxLength = options.MaxLength, Truncate = options.Truncate });
    }

    internal static ClassificationTransformer Create(Classifier classifier, string modelPath, ClassifyOptions options, BatchPolicy policy) =>
        new(classifier, modelPath, options, policy);

    internal static DataViewSchema AddedColumns(DataViewSchema inputSchema, ClassifyOptions options)
    {
        EmbeddingTransformer.CheckText(inputSchema, options.InputColumnName, nameof(ClassificationTransformer));
        return new DataViewSchema.Builder()
            .AddColumn(options.LabelColumnName, TextDataViewType.Instance)
            .AddColumn(options.ScoreColumnName, NumberDataViewType.Single)
            .AddColumn(options.ScoresColumnName, new VectorDataViewType(NumberDataViewType.Single))
            .ToSchema();
    }

    /// <inheritdoc />
    protected override DataViewSchema GetAddedColumns(DataViewSchema inputSchema) => AddedColumns(inputSchema, Options);

    /// <inheritdoc />
    protected override void MapBatch(DataBatch input, BatchMappingOutput output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        string?[] texts = input.GetColumn<string?>(Options.InputColumnName);
        string?[] labels = output.GetColumn<string?>(Options.LabelColumnName);
        float[] scores = output.GetColumn<float>(Options.ScoreColumnName);
        float[][] all = output.GetColumn<float[]>(Options.ScoresColumnName);
        (int[] rows, var encodings) = EncoderRows.Tokenize(_classifier.Encoder, texts, output, Options.InputColumnName, cancellationToken);
        var results = EncoderRows.Score(_classifier.Encoder, _classifier.Batcher, encodings, Options.ModelOutputName, Probabilities, cancellationToken);
        for (int i = 0; i < rows.Length; i++)
        {
            if (results[i].Error is string error)
            {
                output.SetError(rows[i], error);
                continue;
            }

            float[] p = results[i].Result!;
            int best = 0;
            for (int k = 1; k < p.Length; k++)
            {
                best = p[k] > p[best] ? k : best;
            }

            labels[rows[i]] = p.Length == 0 ? string.Empty : LabelName(best);
            scores[rows[i]] = p.Length == 0 ? 0 : p[best];
            all[rows[i]] = p;
        }
    }

    private string LabelName(int id) => id < Labels.Count ? Labels[id] : string.Create(CultureInfo.InvariantCulture, $"LABEL_{id}");

    private float[] Probabilities(EncoderBatchOutput output, int row)
    {
        (float[] data, long[] shape) = output.GetOutput(Options.ModelOutputName);
        if (shape.Length != 2 || shape[0] != output.Rows)
        {
            throw new InvalidDataException($"The output '{Options.ModelOutputName}' has shape [{string.Join(", ", shape)}]; expected [{output.Rows}, labels].");
        }

        int labels = (int)shape[1];
        return Classifier.Softmax(data.AsSpan(row * labels, labels));
    }

    /// <inheritdoc />
    public JsonObject SaveOptions(PipelineFileContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var json = new JsonObject
        {
            ["modelPath"] = context.ToStoredPath(ModelPath),
            ["modelOutputName"] = Options.ModelOutputName,
            ["labelColumnName"] = Options.LabelColumnName,
            ["scoreColumnName"] = Options.ScoreColumnName,
            ["scoresColumnName"] = Options.ScoresColumnName,
        };
        ModelTransformSupport.SaveCommon(json, Options, BatchPolicy);
        return json;
    }

    /// <summary>The <see cref="TransformerFactory"/> of the <c>classify</c> kind.</summary>
    /// <param name="options">The saved options.</param>
    /// <param name="context">Resolves the model path.</param>
    /// <returns>The transformer (dispose it).</returns>
    public static ClassificationTransformer Load(JsonObject options, PipelineFileContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        var defaults = new ClassifyOptions();
        ClassifyOptions loaded = ModelTransformSupport.LoadCommon(options, defaults with
        {
            ModelOutputName = PipelineJson.GetString(options, "modelOutputName", defaults.ModelOutputName)!,
            LabelColumnName = PipelineJson.GetString(options, "labelColumnName", defaults.LabelColumnName)!,
            ScoreColumnName = PipelineJson.GetString(options, "scoreColumnName", defaults.ScoreColumnName)!,
            ScoresColumnName = PipelineJson.GetString(options, "scoresColumnName", defaults.ScoresColumnName)!,
        });
        return new ClassificationTransformer(ModelTransformSupport.ModelPath(options, context, KindName), loaded, loaded.BatchPolicy!);
    }

    /// <summary>Disposes the classifier and its session.</summary>
    public void Dispose() => _classifier.Dispose();
}

/// <summary>
/// The estimator of <see cref="ClassificationTransformer"/>: <see cref="Fit(IDataView)"/> opens the model and, unless the options fix a batch
/// size or policy, times <see cref="BatchPolicy.DefaultCandidates"/> on the first rows and records the fastest.
/// </summary>
public sealed class ClassificationEstimator : IEstimator<ClassificationTransformer>
{
    /// <summary>Creates the estimator (nothing is loaded until <see cref="Fit(IDataView)"/>).</summary>
    /// <param name="modelPath">The model folder (or an <c>.onnx</c> file in one).</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    public ClassificationEstimator(string modelPath, ClassifyOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        ModelPath = modelPath;
        Options = options ?? new ClassifyOptions();
        _ = Options.FixedPolicy();
    }

    /// <summary>The model folder or file.</summary>
    public string ModelPath { get; }

    /// <summary>The options.</summary>
    public ClassifyOptions Options { get; }

    /// <summary>Opens the model and chooses (or takes) the batching policy.</summary>
    /// <param name="input">The data (its first rows are the measurement sample when the policy is automatic).</param>
    /// <returns>The transformer; the caller owns (disposes) it.</returns>
    public ClassificationTransformer Fit(IDataView input) => Fit(input, CancellationToken.None);

    /// <summary>Opens the model and chooses (or takes) the batching policy.</summary>
    /// <param name="input">The data.</param>
    /// <param name="cancellationToken">Stops the measurement.</param>
    /// <returns>The transformer; the caller owns (disposes) it.</returns>
    public ClassificationTransformer Fit(IDataView input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        GetOutputSchema(input.Schema);
        Classifier classifier = ClassificationTransformer.Open(ModelPath, Options);
        try
        {
            BatchPolicy policy = EncoderRows.ChoosePolicy(classifier.Encoder, Options.ModelOutputName, Options, input, cancellationToken);
            return ClassificationTransformer.Create(classifier, ModelPath, Options, policy);
        }
        catch
        {
            classifier.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) =>
        BatchMappingTransformer.MergeSchema(inputSchema, ClassificationTransformer.AddedColumns(inputSchema, Options), Options.ErrorColumnName);
}
