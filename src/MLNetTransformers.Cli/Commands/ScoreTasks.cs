using MLNetTransformers.Data;
using MLNetTransformers.Data.Transforms;
using MLNetTransformers.Generation.Decoding;
using MLNetTransformers.Generation.Encoding;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Cli.Commands;

/// <summary>The tasks of <c>mlnt score</c>: the estimator each builds and the columns it adds to the output.</summary>
internal static class ScoreTasks
{
    private static readonly Definition[] All =
    [
        new("generate", [("generated", TextDataViewType.Instance), ("finish_reason", TextDataViewType.Instance)], Generate),
        new("embed", [("embedding", new VectorDataViewType(NumberDataViewType.Single))], Embed),
        new("classify", [("label", TextDataViewType.Instance), ("score", NumberDataViewType.Single), ("scores", new VectorDataViewType(NumberDataViewType.Single))], Classify),
        new("tokenize", [("input_ids", new VectorDataViewType(NumberDataViewType.Int64)), ("attention_mask", new VectorDataViewType(NumberDataViewType.Int64))], Tokenize),
    ];

    public static string[] Names => All.Select(d => d.Name).ToArray();

    public static Definition Get(string name) => All.First(d => d.Name == name);

    private static ModelEstimator Generate(TransformersContext context, Settings settings) =>
        OpenModel(settings, () => context.Transforms.GenerateText(settings.Model, Common(settings, new GenerateTextOptions
        {
            Generation = settings.Generation,
        })));

    private static ModelEstimator Embed(TransformersContext context, Settings settings) =>
        OpenModel(settings, () => context.Transforms.Embed(settings.Model, Common(settings, new EmbedOptions
        {
            Pooling = settings.Pooling,
            Normalize = settings.Normalize,
        })));

    private static ModelEstimator Classify(TransformersContext context, Settings settings) =>
        OpenModel(settings, () => context.Transforms.Classify(settings.Model, Common(settings, new ClassifyOptions())));

    /// <summary>The settings every text-model task shares: text column, batch size, length limit, truncation, session.</summary>
    private static T Common<T>(Settings settings, T options)
        where T : TextModelTransformOptions =>
        (T)((TextModelTransformOptions)options with
        {
            InputColumnName = settings.TextColumn,
            BatchSize = settings.BatchSize,
            MaxLength = settings.MaxLength,
            Truncate = settings.Truncate,
            SessionOptions = settings.CreateSessionOptions(),
        });

    private static ModelEstimator Tokenize(TransformersContext context, Settings settings) =>
        OpenModel(settings, () => context.Transforms.Tokenize(new TokenizeOptions
        {
            ModelDirectory = settings.Model,
            InputColumnName = settings.TextColumn,
            MaxLength = settings.MaxLength,
            OffsetsColumnName = null,
        }));

    /// <summary>Builds an estimator, mapping a model that cannot be opened (when built or fitted) to exit code 2 naming --model.</summary>
    private static ModelEstimator OpenModel(Settings settings, Func<IEstimator<ITransformer>> open)
    {
        try
        {
            return new ModelEstimator(open(), settings.Report);
        }
        catch (Exception ex) when (IsModelProblem(ex))
        {
            throw new CliException($"--model: {ex.Message}", ExitCodes.BadInput, ex);
        }
    }

    private static bool IsModelProblem(Exception ex) => ex is FileNotFoundException or DirectoryNotFoundException or InvalidDataException;

    /// <summary>Maps model-loading failures in <see cref="IEstimator{T}.Fit"/> to exit code 2 naming --model.</summary>
    private sealed class ModelEstimator(IEstimator<ITransformer> inner, Action<string>? report) : IEstimator<ITransformer>
    {
        public ITransformer Fit(IDataView input)
        {
            try
            {
                ITransformer transformer = inner.Fit(input);
                BatchPolicy? policy = transformer switch
                {
                    EmbeddingTransformer e => e.BatchPolicy,
                    ClassificationTransformer c => c.BatchPolicy,
                    TextGenerationTransformer g => g.BatchPolicy,
                    _ => null,
                };
                if (policy is not null)
                {
                    report?.Invoke($"batch policy: {policy}");
                }

                return transformer;
            }
            catch (Exception ex) when (IsModelProblem(ex))
            {
                throw new CliException($"--model: {ex.Message}", ExitCodes.BadInput, ex);
            }
        }

        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => inner.GetOutputSchema(inputSchema);
    }

    /// <summary>What the command line says about the task.</summary>
    internal sealed record Settings(string Model, string TextColumn, int? BatchSize, int? MaxLength, bool Truncate, GenerationOptions? Generation, Func<SessionOptions> CreateSessionOptions)
    {
        public PoolingStrategy Pooling { get; init; } = PoolingStrategy.Mean;

        public bool Normalize { get; init; }

        /// <summary>Receives one-line reports (the batch policy chosen).</summary>
        public Action<string>? Report { get; init; }
    }

    /// <summary>A task: its name, the columns it adds to the output, and its estimator.</summary>
    internal sealed record Definition(string Name, IReadOnlyList<(string Name, DataViewType Type)> Outputs, Func<TransformersContext, Settings, IEstimator<ITransformer>> Create);
}
