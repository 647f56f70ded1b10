using System.Globalization;
using MLNetTransformers.Generation;
using MLNetTransformers.Generation.Encoding;
using MLNetTransformers.Onnx.Model;
using MLNetTransformers.Onnx.Protos;
using MLNetTransformers.Onnx.Quantization;
using MLNetTransformers.OnnxRuntime;
using MLNetTransformers.Tokenizers;

namespace MLNetTransformers.Data.Transforms;

/// <summary>Options of <see cref="QuantizationEstimator"/> (<c>ctx.Transforms.QuantizeStatic</c>).</summary>
/// <remarks><see cref="TextModelTransformOptions.MaxLength"/> caps each calibration row in tokens (default: the model's
/// <c>max_position_embeddings</c>, else 512); calibration rows are always cut, never rejected.</remarks>
public sealed record QuantizeOptions : TextModelTransformOptions
{
    /// <summary>The most rows <c>Fit</c> calibrates on (the first ones). Default 128.</summary>
    public int CalibrationRows { get; init; } = 128;

    /// <summary>How activation ranges are taken. Default min-max.</summary>
    public CalibrationMethod CalibrationMethod { get; init; } = CalibrationMethod.MinMax;

    /// <summary>Per-channel weight scales. Default false (per tensor).</summary>
    public bool PerChannel { get; init; }

    /// <summary>The scoring transformer's graph output → column map (see <see cref="OnnxScoringOptions.OutputColumns"/>).</summary>
    public IReadOnlyDictionary<string, string>? OutputColumns { get; init; }
}

/// <summary>
/// Static int8 quantization as an estimator. <see cref="Fit(IDataView)"/> calibrates activation ranges on the rows it is given (the first
/// <see cref="QuantizeOptions.CalibrationRows"/>: token ids from an <c>input_ids</c> column when the data has one, e.g. after a
/// <c>Tokenize</c> transform, else the text column tokenized with the model folder's tokenizer), quantizes with
/// <see cref="OnnxQuantizer.QuantizeStatic(OnnxModel, IEnumerable{IReadOnlyDictionary{string, OrtValue}}, Int8StaticOptions?, CalibrationOptions?, CancellationToken)"/>
/// (QDQ format), writes the quantized model folder to the output path (the ONNX file at the same relative path as in the source
/// folder, e.g. <c>onnx/model.onnx</c>, and the folder's other files such as <c>config.json</c> and the tokenizer copied), and
/// returns an <see cref="OnnxScoringTransformer"/> over the quantized file: it scores token-id columns (<c>input_ids</c>, with
/// <c>attention_mask</c> made when absent), so put a <c>Tokenize</c> transform before it.
/// </summary>
public sealed class QuantizationEstimator : IEstimator<OnnxScoringTransformer>
{
    /// <summary>Creates the estimator (nothing is read until <see cref="Fit(IDataView)"/>).</summary>
    /// <param name="modelPath">A model folder (or an <c>.onnx</c> file; its folder's tokenizer is used for text).</param>
    /// <param name="outputPath">The folder to write the quantized model folder to (created; files in it are overwritten).</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    public QuantizationEstimator(string modelPath, string outputPath, QuantizeOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        ModelPath = modelPath;
        OutputPath = outputPath;
        Options = options ?? new QuantizeOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.CalibrationRows, 1, nameof(QuantizeOptions.CalibrationRows));
        _ = Options.FixedPolicy();
    }

    /// <summary>The source model folder or file.</summary>
    public string ModelPath { get; }

    /// <summary>The output folder.</summary>
    public string OutputPath { get; }

    /// <summary>The options.</summary>
    public QuantizeOptions Options { get; }

    private OnnxScoringOptions ScoringOptions => new()
    {
        BatchSize = Options.BatchSize,
        BatchPolicy = Options.BatchPolicy,
        AutoBatchSampleRows = Options.AutoBatchSampleRows,
        SessionOptions = Options.SessionOptions,
        ErrorColumnName = Options.ErrorColumnName,
        OutputColumns = Options.OutputColumns,
    };

    /// <summary>Calibrates, quantizes, writes the folder and opens the quantized model.</summary>
    /// <param name="input">The calibration rows.</param>
    /// <returns>A scoring transformer over the quantized file; the caller owns (disposes) it.</returns>
    public OnnxScoringTransformer Fit(IDataView input) => Fit(input, CancellationToken.None);

    /// <summary>Calibrates, quantizes, writes the folder and opens the quantized model.</summary>
    /// <param name="input">The calibration rows.</param>
    /// <param name="cancellationToken">Stops the work.</param>
    /// <returns>A scoring transformer over the quantized file; the caller owns (disposes) it.</returns>
    /// <exception cref="InvalidDataException">No calibration rows, or the model has an input that token ids cannot fill.</exception>
    public OnnxScoringTransformer Fit(IDataView input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ModelFolder? folder = Directory.Exists(ModelPath) ? ModelFolder.Open(ModelPath) : null;
        string sourceFile = folder?.ModelFile ?? (File.Exists(ModelPath) ? Path.GetFullPath(ModelPath) : throw new FileNotFoundException($"The model '{ModelPath}' does not exist.", ModelPath));
        string sourceDirectory = folder?.Directory ?? Path.GetDirectoryName(sourceFile)!;
        string relative = folder is null ? Path.GetFileName(sourceFile) : Path.GetRelativePath(folder.Directory, sourceFile);
        string outputDirectory = Path.GetFullPath(OutputPath);
        string outputFile = Path.Combine(outputDirectory, relative);
        if (string.Equals(Path.GetFullPath(sourceFile), outputFile, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The output {outputFile} would overwrite the source model.", nameof(input));
        }

        int maxTokens = Options.MaxLength ?? folder?.Config?.MaxPositionEmbeddings ?? 512;
        List<int[]> rows = CalibrationIds(input, folder, sourceDirectory, maxTokens, cancellationToken);
        if (rows.Count == 0)
        {
            throw new InvalidDataException($"QuantizeStatic needs at least one calibration row with tokens in '{Options.InputColumnName}' (or 'input_ids').");
        }

        using (OnnxModel source = OnnxModel.Load(sourceFile))
        {
            ValueInfoProto[] inputs = source.Graph.Input.Where(i => !source.Graph.Initializer.Any(t => t.Name == i.Name)).ToArray();
            foreach (ValueInfoProto graphInput in inputs)
            {
                if (graphInput.Name is not ("input_ids" or "attention_mask" or "position_ids" or "token_type_ids"))
                {
                    throw new InvalidDataException($"{sourceFile}: calibration from token ids cannot fill the graph input '{graphInput.Name}' (known: input_ids, attention_mask, position_ids, token_type_ids).");
                }
            }

            var calibration = new CalibrationOptions { Method = Options.CalibrationMethod, SessionOptions = Options.SessionOptions };
            using QuantizationResult result = OnnxQuantizer.QuantizeStatic(source, Feeds(rows, inputs), new Int8StaticOptions { PerChannel = Options.PerChannel }, calibration, cancellationToken);
            Directory.CreateDirectory(Path.GetDirectoryName(outputFile)!);
            result.Save(outputFile, new OnnxSaveOptions { ExternalData = ExternalDataMode.Never });
        }

        CopyCompanions(sourceDirectory, outputDirectory, folder is not null, cancellationToken);
        BatchPolicy? fixedPolicy = Options.FixedPolicy();
        var transformer = new OnnxScoringTransformer(outputFile, ScoringOptions, fixedPolicy ?? BatchPolicy.PaddingAware());
        try
        {
            DataViewSchema added = transformer.AddedSchema(input.Schema);
            if (fixedPolicy is null)
            {
                transformer.UseBatchPolicy(OnnxScoringEstimator.ChooseOnSample(transformer, input, added, Options.AutoBatchSampleRows, cancellationToken));
            }

            return transformer;
        }
        catch (Exception e) when (e is KeyNotFoundException or ArgumentException)
        {
            // The calibration data need not have the token columns (text only): the scorer is checked when it is applied.
            return transformer;
        }
        catch
        {
            transformer.Dispose();
            throw;
        }
    }

    private List<int[]> CalibrationIds(IDataView input, ModelFolder? folder, string sourceDirectory, int maxTokens, CancellationToken cancellationToken)
    {
        if (input.Schema.GetColumnOrNull("input_ids") is { Type: VectorDataViewType { ItemType: NumberDataViewType } } ids)
        {
            return ModelTransformSupport.Sample<Array?>(input, ids.Name, Options.CalibrationRows, cancellationToken)
                .Select(a => a!.Cast<object>().Select(v => Convert.ToInt32(v, CultureInfo.InvariantCulture)).Take(maxTokens).ToArray())
                .Where(a => a.Length > 0)
                .ToList();
        }

        EmbeddingTransformer.CheckText(input.Schema, Options.InputColumnName, nameof(QuantizationEstimator));
        Tokenizer tokenizer = folder is not null && folder.HasTokenizer
            ? folder.LoadTokenizer()
            : File.Exists(Path.Combine(sourceDirectory, "tokenizer.json")) ? Tokenizer.FromDirectory(sourceDirectory)
            : Path.GetFileName(sourceDirectory) == "onnx" ? Tokenizer.FromDirectory(Path.GetDirectoryName(sourceDirectory)!)
            : throw new FileNotFoundException($"QuantizeStatic needs the model's tokenizer to calibrate on text; none next to {ModelPath}.");
        return ModelTransformSupport.Sample<string?>(input, Options.InputColumnName, Options.CalibrationRows, cancellationToken)
            .OfType<string>()
            .Select(t => tokenizer.Encode(t).Ids.Take(maxTokens).ToArray())
            .Where(a => a.Length > 0)
            .ToList();
    }

    /// <summary>One feed per row, made as it is enumerated and disposed after use.</summary>
    private static IEnumerable<IReadOnlyDictionary<string, OrtValue>> Feeds(List<int[]> rows, ValueInfoProto[] inputs)
    {
        foreach (int[] ids in rows)
        {
            var feeds = new Dictionary<string, OrtValue>(StringComparer.Ordinal);
            try
            {
                int n = ids.Length;
                foreach (ValueInfoProto graphInput in inputs)
                {
                    long[] values = graphInput.Name switch
                    {
                        "input_ids" => Array.ConvertAll(ids, i => (long)i),
                        "attention_mask" => Enumerable.Repeat(1L, n).ToArray(),
                        "position_ids" => Enumerable.Range(0, n).Select(i => (long)i).ToArray(),
                        _ => new long[n],
                    };
                    feeds[graphInput.Name] = (TensorElementType)(graphInput.Type?.TensorType?.ElemType ?? 0) == TensorElementType.Int32
                        ? OrtValue.CreateTensor(Array.ConvertAll(values, v => (int)v), [1, n])
                        : OrtValue.CreateTensor(values, [1, n]);
                }

                yield return feeds;
            }
            finally
            {
                foreach (OrtValue value in feeds.Values)
                {
                    value.Dispose();
                }
            }
        }
    }

    /// <summary>Copies the folder's files other than ONNX models (config, tokenizer, ...) next to the quantized model.</summary>
    private static void CopyCompanions(string sourceDirectory, string outputDirectory, bool isFolder, CancellationToken cancellationToken)
    {
        string source = Path.GetFullPath(sourceDirectory);
        if (!isFolder && Path.GetFileName(source) == "onnx")
        {
            source = Path.GetDirectoryName(source)!;
        }

        foreach (string file in Directory.EnumerateFiles(source, "*", isFolder ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly))
        {
            cancellationToken.ThrowIfCancellationRequested();
            string relative = Path.GetRelativePath(source, file);
            if (relative.StartsWith("onnx" + Path.DirectorySeparatorChar, StringComparison.Ordinal) || file.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)
                || file.EndsWith(".onnx_data", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".onnx.data", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            // The output folder may lie inside the source folder: never copy what is already in it.
            if (Path.GetFullPath(file).StartsWith(outputDirectory.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                continue;
            }

            string destination = Path.Combine(outputDirectory, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination, overwrite: true);
        }
    }

    /// <summary>The output schema of the scorer (the quantized model has the source's outputs); opens the source model briefly.</summary>
    /// <param name="inputSchema">The input schema.</param>
    /// <returns>The output schema.</returns>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) =>
        new OnnxScoringEstimator(ModelPath, ScoringOptions with { BatchSize = null, BatchPolicy = BatchPolicy.PerRow }).GetOutputSchema(inputSchema);
}

/// <summary>The model transforms of <see cref="TransformsCatalog"/> (<c>ctx.Transforms.Embed(...)</c> and so on).</summary>
public static class ModelTransformsCatalogExtensions
{
    /// <summary>Embeds a text column with an encoder model folder (see <see cref="EmbeddingTransformer"/>).</summary>
    /// <param name="catalog">The catalog.</param>
    /// <param name="modelPath">The model folder.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <returns>The estimator.</returns>
    public static EmbeddingEstimator Embed(this TransformsCatalog catalog, string modelPath, EmbedOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new EmbeddingEstimator(modelPath, options);
    }

    /// <summary>Classifies a text column with a sequence-classification model folder (see <see cref="ClassificationTransformer"/>).</summary>
    /// <param name="catalog">The catalog.</param>
    /// <param name="modelPath">The model folder.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <returns>The estimator.</returns>
    public static ClassificationEstimator Classify(this TransformsCatalog catalog, string modelPath, ClassifyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new ClassificationEstimator(modelPath, options);
    }

    /// <summary>Generates a continuation of each prompt of a text column (see <see cref="TextGenerationTransformer"/>).</summary>
    /// <param name="catalog">The catalog.</param>
    /// <param name="modelPath">The decoder model folder.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <returns>The estimator.</returns>
    public static TextGenerationEstimator GenerateText(this TransformsCatalog catalog, string modelPath, GenerateTextOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new TextGenerationEstimator(modelPath, options);
    }

    /// <summary>Runs an ONNX model over columns, batched (see <see cref="OnnxScoringTransformer"/>).</summary>
    /// <param name="catalog">The catalog.</param>
    /// <param name="modelPath">An <c>.onnx</c> file or a model folder.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <returns>The estimator.</returns>
    public static OnnxScoringEstimator ApplyOnnxModel(this TransformsCatalog catalog, string modelPath, OnnxScoringOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new OnnxScoringEstimator(modelPath, options);
    }

    /// <summary>Static int8 quantization fitted on the data, yielding a scorer over the quantized model (see <see cref="QuantizationEstimator"/>).</summary>
    /// <param name="catalog">The catalog.</param>
    /// <param name="modelPath">The float model folder.</param>
    /// <param name="outputPath">The folder the quantized model folder is written to.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <returns>The estimator.</returns>
    public static QuantizationEstimator QuantizeStatic(this TransformsCatalog catalog, string modelPath, string outputPath, QuantizeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new QuantizationEstimator(modelPath, outputPath, options);
    }
}
