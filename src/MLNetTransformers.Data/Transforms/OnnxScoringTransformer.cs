using System.Globalization;
using System.Text.Json.Nodes;
using MLNetTransformers.Generation;
using MLNetTransformers.Generation.Encoding;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Data.Transforms;

/// <summary>Options of <see cref="OnnxScoringTransformer"/> (<c>ctx.Transforms.ApplyOnnxModel</c>).</summary>
public sealed record OnnxScoringOptions : ModelTransformOptions
{
    /// <summary>Graph input name → column name; an input not listed is fed from the column of its own name. <see langword="null"/>: all by name.</summary>
    public IReadOnlyDictionary<string, string>? InputColumns { get; init; }

    /// <summary>Graph output name → column name; when set, only the listed outputs are computed. <see langword="null"/>: every output, named as the output.</summary>
    public IReadOnlyDictionary<string, string>? OutputColumns { get; init; }
}

/// <summary>
/// Runs an ONNX model over columns, batched (ML.NET's <c>ApplyOnnxModel</c>, with batches): each graph input is fed from the column
/// of the same name (or <see cref="OnnxScoringOptions.InputColumns"/>), each graph output becomes a Single vector column per row.
/// </summary>
/// <remarks>
/// <para>Inputs: a rank-1 input <c>[batch]</c> takes a numeric scalar column; a rank-2 input <c>[batch, n]</c> takes a numeric vector
/// column, rows padded with 0 on the right to the longest row of the batch (or to a fixed <c>n</c>); a higher-rank input takes a
/// vector of exactly the product of its fixed trailing dimensions. Values are converted to the input's element type (int64, int32,
/// float32, float64). When <c>attention_mask</c>, <c>token_type_ids</c> or <c>position_ids</c> [batch, sequence] have no column,
/// they are made: 1 on each row's real positions and 0 on the padding; zeros; 0..n-1.</para>
/// <para>Outputs: the row's slice of each output (<c>[batch, ...]</c>), flattened to float32; when an output's second dimension is
/// dynamic and equals the batch's padded length, the row is cut to its own length, so batched rows equal rows scored alone
/// (for a model that masks its padding). A row whose vector does not fit is a row error; a failed run makes each of its batch's
/// rows an error.</para>
/// <para>Holds an ONNX Runtime session: dispose the transformer (the caller of <c>Fit</c> or of the constructor owns it).</para>
/// </remarks>
public sealed class OnnxScoringTransformer : BatchMappingTransformer, ISavableTransformer, IDisposable
{
    /// <summary>The kind name in pipeline descriptions.</summary>
    public const string KindName = "onnx";

    private static readonly string[] s_autoInputs = ["attention_mask", "token_type_ids", "position_ids"];
    private readonly InferenceSession _session;
    private readonly (string Output, string Column)[] _outputs;
    private PaddingAwareBatcher _batcher;

    /// <summary>Opens the model and uses the given policy.</summary>
    /// <param name="modelPath">An <c>.onnx</c> file, or a model folder (its default ONNX file).</param>
    /// <param name="options">The options (their batch settings are ignored in favour of <paramref name="batchPolicy"/>).</param>
    /// <param name="batchPolicy">The batching policy.</param>
    /// <exception cref="KeyNotFoundException">An output named in <see cref="OnnxScoringOptions.OutputColumns"/> is not in the graph.</exception>
    public OnnxScoringTransformer(string modelPath, OnnxScoringOptions options, BatchPolicy batchPolicy)
        : base((options ?? throw new ArgumentNullException(nameof(options))).ErrorColumnName)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        ArgumentNullException.ThrowIfNull(batchPolicy);
        batchPolicy.Validate();
        ModelPath = modelPath;
        ModelFile = ResolveModelFile(modelPath);
        Options = options;
        BatchPolicy = batchPolicy;
        _batcher = new PaddingAwareBatcher(batchPolicy);
        _session = new InferenceSession(ModelFile, options.SessionOptions);
        try
        {
            _outputs = SelectOutputs(_session, options);
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    /// <summary>The model path given (file or folder).</summary>
    public string ModelPath { get; }

    /// <summary>The ONNX file run.</summary>
    public string ModelFile { get; }

    /// <summary>The options.</summary>
    public OnnxScoringOptions Options { get; }

    /// <summary>The batching policy in use (chosen by <c>Fit</c> or given); saved in the pipeline description.</summary>
    public BatchPolicy BatchPolicy { get; private set; }

    /// <summary>The session; owned by this transformer.</summary>
    public InferenceSession Session => _session;

    /// <inheritdoc />
    public string Kind => KindName;

    /// <inheritdoc />
    protected override int? PreferredBatchSize => ModelTransformSupport.PreferredBatchSize(BatchPolicy);

    internal void UseBatchPolicy(BatchPolicy policy)
    {
        policy.Validate();
        BatchPolicy = policy;
        _batcher = new PaddingAwareBatcher(policy);
    }

    internal static string ResolveModelFile(string modelPath)
    {
        if (Directory.Exists(modelPath))
        {
            return ModelFolder.Open(modelPath).ModelFile;
        }

        if (!File.Exists(modelPath))
        {
            throw new FileNotFoundException($"The ONNX model '{modelPath}' does not exist.", modelPath);
        }

        return modelPath;
    }

    private static (string, string)[] SelectOutputs(InferenceSession session, OnnxScoringOptions options)
    {
        if (options.OutputColumns is null)
        {
            return session.OutputNames.Select(n => (n, n)).ToArray();
        }

        return options.OutputColumns.Select(kv => session.OutputNames.Contains(kv.Key)
            ? (kv.Key, kv.Value)
            : throw new KeyNotFoundException($"The model has no output '{kv.Key}' (outputs: {string.Join(", ", session.OutputMetadata.Select(o => o.ToString()))}).")).ToArray();
    }

    private string ColumnOf(string input) => Options.InputColumns?.TryGetValue(input, out string? c) == true ? c : input;

    private static bool IsNumeric(DataViewType type) =>
        type is NumberDataViewType || type is BooleanDataViewType;

    /// <inheritdoc />
    protected override DataViewSchema GetAddedColumns(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        bool anySequence = false;
        var missing = new List<NodeMetadata>();
        foreach (NodeMetadata input in _session.InputMetadata)
        {
            if (input.ValueType != OnnxValueType.Tensor || input.ElementType is not (TensorElementType.Int64 or TensorElementType.Int32 or TensorElementType.Float32 or TensorElementType.Float64) || input.Rank < 1)
            {
                throw new InvalidDataException($"{ModelFile}: cannot feed the graph input {input} (numeric tensors [batch, ...] of int64, int32, float32 or float64 only).");
            }

            string column = ColumnOf(input.Name);
            if (inputSchema.GetColumnOrNull(column) is null && input.Rank == 2 && s_autoInputs.Contains(input.Name) && !(Options.InputColumns?.ContainsKey(input.Name) ?? false))
            {
                missing.Add(input);
                continue;
            }

            if (input.Rank == 1)
            {
                RequireColumn(inputSchema, column, IsNumeric, $"a numeric scalar (for the graph input {input})");
            }
            else
            {
                RequireColumn(inputSchema, column, t => t is VectorDataViewType v && IsNumeric(v.ItemType), $"a numeric vector (for the graph input {input})");
                if (input.Rank > 2 && input.Dimensions.Skip(1).Any(d => d <= 0))
                {
                    throw new InvalidDataException($"{ModelFile}: the graph input {input} has dynamic trailing dimensions; only [batch, n] inputs are padded.");
                }

                anySequence |= input.Rank == 2;
            }
        }

        if (missing.Count > 0 && !anySequence)
        {
            throw new KeyNotFoundException($"{nameof(OnnxScoringTransformer)} needs an input column '{ColumnOf(missing[0].Name)}' (for the graph input {missing[0]}); the schema is ({inputSchema}).");
        }

        var builder = new DataViewSchema.Builder();
        foreach ((_, string column) in _outputs)
        {
            builder.AddColumn(column, new VectorDataViewType(NumberDataViewType.Single));
        }

        return builder.ToSchema();
    }

    /// <inheritdoc />
    protected override void MapBatch(DataBatch input, BatchMappingOutput output, CancellationToken cancellationToken) =>
        MapBatch(input, output, _batcher, cancellationToken);

    internal DataViewSchema AddedSchema(DataViewSchema inputSchema) => GetAddedColumns(inputSchema);

    internal void MapBatch(DataBatch input, BatchMappingOutput output, PaddingAwareBatcher batcher, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        IReadOnlyList<NodeMetadata> inputs = _session.InputMetadata;
        var sources = new Array?[inputs.Count];
        for (int k = 0; k < inputs.Count; k++)
        {
            string column = ColumnOf(inputs[k].Name);
            sources[k] = input.Schema.GetColumnOrNull(column) is null ? null : input.GetColumn(input.Schema[column].Index);
        }

        // Row lengths (the padded dimension of [batch, n] inputs) and per-row shape checks.
        var rows = new List<int>();
        var lengths = new List<int>();
        for (int r = 0; r < input.RowCount; r++)
        {
            if (output.HasError(r))
            {
                continue;
            }

            int length = 0;
            string? problem = null;
            for (int k = 0; k < inputs.Count && problem is null; k++)
            {
                if (sources[k] is not Array column || inputs[k].Rank == 1)
                {
                    continue;
                }

                int count = (column.GetValue(r) as Array)?.Length ?? 0;
                if (inputs[k].Rank == 2)
                {
                    long fixedLength = inputs[k].Dimensions[1];
                    if (fixedLength > 0 && count > fixedLength)
                    {
                        problem = string.Create(CultureInfo.InvariantCulture, $"The column '{ColumnOf(inputs[k].Name)}' has {count} values; the graph input {inputs[k]} takes at most {fixedLength}.");
                    }

                    length = Math.Max(length, count);
                }
                else
                {
                    long expected = inputs[k].Dimensions.Skip(1).Aggregate(1L, (a, d) => a * d);
                    if (count != expected)
                    {
                        problem = string.Create(CultureInfo.InvariantCulture, $"The column '{ColumnOf(inputs[k].Name)}' has {count} values; the graph input {inputs[k]} takes {expected} per row.");
                    }
                }
            }

            if (problem is null && length == 0 && inputs.Any(i => i.Rank == 2 && i.Dimensions[1] <= 0))
            {
                problem = "The row's sequence is empty.";
            }

            if (problem is not null)
            {
                output.SetError(r, problem);
                continue;
            }

            rows.Add(r);
            lengths.Add(length);
        }

        if (rows.Count == 0)
        {
            return;
        }

        float[][][] columns = _outputs.Select(o => output.GetColumn<float[]>(o.Column)).ToArray();
        string?[] errors = batcher.Run<string?>(lengths, (batch, token) => RunBatch(batch, rows, lengths, sources, columns, token), cancellationToken);
        for (int i = 0; i < rows.Count; i++)
        {
            if (errors[i] is string error)
            {
                output.SetError(rows[i], error);
            }
        }
    }

    private string?[] RunBatch(IReadOnlyList<int> batch, List<int> rows, List<int> lengths, Array?[] sources, float[][][] columns, CancellationToken cancellationToken)
    {
        IReadOnlyList<NodeMetadata> inputs = _session.InputMetadata;
        int count = batch.Count;
        int padded = batch.Max(b => lengths[b]);
        var values = new OrtValue?[inputs.Count];
        try
        {
            for (int k = 0; k < inputs.Count; k++)
            {
                NodeMetadata meta = inputs[k];
                long width = meta.Rank switch
                {
                    1 => 1,
                    2 => meta.Dimensions[1] > 0 ? meta.Dimensions[1] : padded,
                    _ => meta.Dimensions.Skip(1).Aggregate(1L, (a, d) => a * d),
                };
                var data = new double[count * width];
                for (int b = 0; b < count; b++)
                {
                    int row = rows[batch[b]];
                    int at = (int)(b * width);
                    if (sources[k] is Array column)
                    {
                        object? value = column.GetValue(row);
                        if (value is Array vector)
                        {
                            for (int t = 0; t < vector.Length; t++)
                            {
                                data[at + t] = ToDouble(vector.GetValue(t));
                            }
                        }
                        else
                        {
                            data[at] = ToDouble(value);
                        }
                    }
                    else
                    {
                        int real = lengths[batch[b]];
                        for (int t = 0; t < real; t++)
                        {
                            data[at + t] = meta.Name switch { "attention_mask" => 1, "position_ids" => t, _ => 0 };
                        }
                    }
                }

                long[] shape = meta.Rank == 1 ? [count] : [count, .. (meta.Rank == 2 ? [width] : meta.Dimensions.Skip(1))];
                values[k] = meta.ElementType switch
                {
                    TensorElementType.Int64 => OrtValue.CreateTensor(Array.ConvertAll(data, v => (long)v), shape),
                    TensorElementType.Int32 => OrtValue.CreateTensor(Array.ConvertAll(data, v => (int)v), shape),
                    TensorElementType.Float32 => OrtValue.CreateTensor(Array.ConvertAll(data, v => (float)v), shape),
                    _ => OrtValue.CreateTensor(data, shape),
                };
            }

            SessionOutputs results;
            try
            {
                results = _session.Run(inputs.Select(i => i.Name).ToArray(), values!, _outputs.Select(o => o.Output).ToArray(), cancellationToken: cancellationToken);
            }
            catch (OnnxRuntimeException e) when (!PaddingAwareBatcher.IsOutOfMemory(e) && !cancellationToken.IsCancellationRequested)
            {
                return Enumerable.Repeat<string?>("The model run failed: " + e.Message, count).ToArray();
            }

            using (results)
            {
                for (int o = 0; o < _outputs.Length; o++)
                {
                    OrtValue value = results[o];
                    TensorInfo info = value.TensorInfo;
                    float[] flat = ToFloats(value, info, _outputs[o].Output);
                    if (info.Shape.Count == 0 || info.Shape[0] != count)
                    {
                        throw new InvalidDataException($"{ModelFile}: the output '{_outputs[o].Output}' has shape [{string.Join(", ", info.Shape)}]; expected [{count}, ...] (batch first).");
                    }

                    int per = flat.Length / count;
                    NodeMetadata meta = _session.OutputMetadata.First(m => m.Name == _outputs[o].Output);
                    bool trim = info.Shape.Count >= 2 && meta.Rank >= 2 && meta.Dimensions[1] <= 0 && info.Shape[1] == padded && padded > 0;
                    int inner = trim ? per / padded : per;
                    for (int b = 0; b < count; b++)
                    {
                        int take = trim ? lengths[batch[b]] * inner : per;
                        columns[o][rows[batch[b]]] = flat.AsSpan(b * per, take).ToArray();
                    }
                }
            }

            return new string?[count];
        }
        finally
        {
            foreach (OrtValue? value in values)
            {
                value?.Dispose();
            }
        }
    }

    private static double ToDouble(object? value) => value switch
    {
        null => 0,
        long l => l,
        int i => i,
        float f => f,
        double d => d,
        bool b => b ? 1 : 0,
        _ => Convert.ToDouble(value, CultureInfo.InvariantCulture),
    };

    private static float[] ToFloats(OrtValue value, TensorInfo info, string name) => info.ElementType switch
    {
        TensorElementType.Float32 => value.ToArray<float>(),
        TensorElementType.Float16 => Array.ConvertAll(value.ToArray<Half>(), h => (float)h),
        TensorElementType.Float64 => Array.ConvertAll(value.ToArray<double>(), d => (float)d),
        TensorElementType.Int64 => Array.ConvertAll(value.ToArray<long>(), l => (float)l),
        TensorElementType.Int32 => Array.ConvertAll(value.ToArray<int>(), i => (float)i),
        TensorElementType.Bool => Array.ConvertAll(value.ToArray<bool>(), b => b ? 1f : 0f),
        _ => throw new InvalidDataException($"The output '{name}' is {info}; expected a numeric tensor."),
    };

    /// <inheritdoc />
    public JsonObject SaveOptions(PipelineFileContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var json = new JsonObject
        {
            ["modelPath"] = context.ToStoredPath(ModelPath),
            ["inputColumns"] = Options.InputColumns is null ? null : ModelTransformSupport.ToJson(Options.InputColumns),
            ["outputColumns"] = Options.OutputColumns is null ? null : ModelTransformSupport.ToJson(Options.OutputColumns),
        };
        ModelTransformSupport.SaveCommon(json, Options, BatchPolicy);
        return json;
    }

    /// <summary>The <see cref="TransformerFactory"/> of the <c>onnx</c> kind.</summary>
    /// <param name="options">The saved options.</param>
    /// <param name="context">Resolves the model path.</param>
    /// <returns>The transformer (dispose it).</returns>
    public static OnnxScoringTransformer Load(JsonObject options, PipelineFileContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        OnnxScoringOptions loaded = ModelTransformSupport.LoadCommon(options, new OnnxScoringOptions
        {
            InputColumns = ModelTransformSupport.FromJson<Dictionary<string, string>>(options["inputColumns"]),
            OutputColumns = ModelTransformSupport.FromJson<Dictionary<string, string>>(options["outputColumns"]),
        });
        return new OnnxScoringTransformer(ModelTransformSupport.ModelPath(options, context, KindName), loaded, loaded.BatchPolicy!);
    }

    /// <summary>Disposes the session.</summary>
    public void Dispose() => _session.Dispose();
}

/// <summary>
/// The estimator of <see cref="OnnxScoringTransformer"/>: <see cref="Fit(IDataView)"/> opens the model and, unless the options fix a batch size
/// or policy, times <see cref="BatchPolicy.DefaultCandidates"/> on the first rows and records the fastest.
/// </summary>
public sealed class OnnxScoringEstimator : IEstimator<OnnxScoringTransformer>
{
    /// <summary>Creates the estimator (nothing is loaded until <see cref="Fit(IDataView)"/> or <see cref="GetOutputSchema"/>).</summary>
    /// <param name="modelPath">An <c>.onnx</c> file or a model folder.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    public OnnxScoringEstimator(string modelPath, OnnxScoringOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        ModelPath = modelPath;
        Options = options ?? new OnnxScoringOptions();
        _ = Options.FixedPolicy();
    }

    /// <summary>The model path.</summary>
    public string ModelPath { get; }

    /// <summary>The options.</summary>
    public OnnxScoringOptions Options { get; }

    /// <summary>Opens the model and chooses (or takes) the batching policy.</summary>
    /// <param name="input">The data (its first rows are the measurement sample when the policy is automatic).</param>
    /// <returns>The transformer; the caller owns (disposes) it.</returns>
    public OnnxScoringTransformer Fit(IDataView input) => Fit(input, CancellationToken.None);

    /// <summary>Opens the model and chooses (or takes) the batching policy.</summary>
    /// <param name="input">The data.</param>
    /// <param name="cancellationToken">Stops the measurement.</param>
    /// <returns>The transformer; the caller owns (disposes) it.</returns>
    public OnnxScoringTransformer Fit(IDataView input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        BatchPolicy? fixedPolicy = Options.FixedPolicy();
        var transformer = new OnnxScoringTransformer(ModelPath, Options, fixedPolicy ?? BatchPolicy.PaddingAware());
        try
        {
            DataViewSchema added = transformer.AddedSchema(input.Schema);
            if (fixedPolicy is null)
            {
                transformer.UseBatchPolicy(ChooseOnSample(transformer, input, added, Options.AutoBatchSampleRows, cancellationToken));
            }

            return transformer;
        }
        catch
        {
            transformer.Dispose();
            throw;
        }
    }

    internal static BatchPolicy ChooseOnSample(OnnxScoringTransformer transformer, IDataView input, DataViewSchema added, int sampleRows, CancellationToken cancellationToken)
    {
        DataBatch? sample = sampleRows < 1 ? null : input.GetBatches(sampleRows, cancellationToken).FirstOrDefault();
        if (sample is null || sample.RowCount == 0)
        {
            return BatchPolicy.PaddingAware();
        }

        return ModelTransformSupport.Choose(
            BatchPolicy.DefaultCandidates,
            (policy, token) => transformer.MapBatch(sample, new BatchMappingOutput(added, sample.RowCount, new string?[sample.RowCount]), new PaddingAwareBatcher(policy), token),
            cancellationToken);
    }

    /// <summary>The output schema; opens the model briefly (with default session options) to read its inputs and outputs.</summary>
    /// <param name="inputSchema">The input schema.</param>
    /// <returns>The output schema.</returns>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        using var transformer = new OnnxScoringTransformer(ModelPath, Options with { SessionOptions = null }, BatchPolicy.PerRow);
        return transformer.GetOutputSchema(inputSchema);
    }
}
