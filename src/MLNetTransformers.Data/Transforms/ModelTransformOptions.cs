using System.Text.Json;
using System.Text.Json.Nodes;
using MLNetTransformers.Generation.Encoding;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Data.Transforms;

/// <summary>Options shared by the model transforms (<c>Embed</c>, <c>Classify</c>, <c>GenerateText</c>, <c>ApplyOnnxModel</c>, <c>QuantizeStatic</c>).</summary>
/// <remarks>
/// <para>Batching: <see cref="BatchPolicy"/> when set wins; else <see cref="BatchSize"/> = N means
/// <see cref="Generation.Encoding.BatchPolicy.FixedSize(int)"/> (N consecutive rows per model run, padded to the longest of
/// them); else (both <see langword="null"/>, the default) <c>Fit</c> times candidate policies on the first
/// <see cref="AutoBatchSampleRows"/> rows with <see cref="Generation.Encoding.BatchPolicy.ChooseAsync"/> and records the fastest in
/// the fitted transformer (and in its saved description). Whatever the policy, outputs come back in input order.</para>
/// </remarks>
public abstract record ModelTransformOptions
{
    /// <summary>Rows per model run (fixed-size batches); <see langword="null"/> (default) lets <c>Fit</c> measure and choose.</summary>
    public int? BatchSize { get; init; }

    /// <summary>An explicit batching policy (e.g. padding-aware); overrides <see cref="BatchSize"/> and skips the measurement.</summary>
    public BatchPolicy? BatchPolicy { get; init; }

    /// <summary>How many leading rows the automatic choice times the candidates on. Default 64.</summary>
    public int AutoBatchSampleRows { get; init; } = 64;

    /// <summary>ONNX Runtime session options (providers, threads); <see langword="null"/> for the defaults. Only the thread
    /// counts are kept in a saved pipeline description.</summary>
    public SessionOptions? SessionOptions { get; init; }

    /// <summary>The per-row error column, or <see langword="null"/> to throw <see cref="RowMappingException"/>. Default <c>error</c>.</summary>
    public string? ErrorColumnName { get; init; } = BatchMappingTransformer.DefaultErrorColumnName;

    /// <summary>The policy these options fix, or <see langword="null"/> when <c>Fit</c> is to choose one.</summary>
    /// <returns>The policy.</returns>
    internal BatchPolicy? FixedPolicy()
    {
        if (BatchPolicy is { } policy)
        {
            policy.Validate();
            return policy;
        }

        if (BatchSize is int size)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(size, 1, nameof(BatchSize));
            return Generation.Encoding.BatchPolicy.FixedSize(size);
        }

        return null;
    }
}

/// <summary>Options shared by the model transforms that read a text column.</summary>
public abstract record TextModelTransformOptions : ModelTransformOptions
{
    /// <summary>The text column. Default <c>text</c>.</summary>
    public string InputColumnName { get; init; } = "text";

    /// <summary>The most tokens per row; <see langword="null"/> for the model's limit (<c>max_position_embeddings</c> or the
    /// tokenizer's <c>model_max_length</c>).</summary>
    public int? MaxLength { get; init; }

    /// <summary>Whether too-long rows are cut to <see cref="MaxLength"/>. When <see langword="false"/> (the default) a too-long row
    /// gets a message in the error column and the other rows go on.</summary>
    public bool Truncate { get; init; }
}

/// <summary>Helpers shared by the model transforms.</summary>
internal static class ModelTransformSupport
{
    private static readonly JsonSerializerOptions s_json = new();

    /// <summary>The batch size the transform pulls from its input under a policy (a padding-aware policy sorts within it).</summary>
    public static int? PreferredBatchSize(BatchPolicy policy) => policy.Kind switch
    {
        BatchPolicyKind.PerRow => null,
        BatchPolicyKind.FixedSize => policy.MaxRows,
        _ => policy.SortWindow > 0 ? policy.SortWindow : Math.Max(policy.MaxRows * 4, 256),
    };

    /// <summary>The first <paramref name="count"/> rows' values of a column (nulls and errored rows skipped).</summary>
    public static List<T> Sample<T>(IDataView input, string column, int count, CancellationToken cancellationToken = default)
    {
        var sample = new List<T>();
        if (count < 1)
        {
            return sample;
        }

        int errorIndex = input.Schema.GetColumnOrNull(BatchMappingTransformer.DefaultErrorColumnName) is { Type: TextDataViewType } e ? e.Index : -1;
        foreach (DataBatch batch in input.GetBatches(Math.Min(count, 256), cancellationToken))
        {
            T[] values = batch.GetColumn<T>(column);
            string?[]? errors = errorIndex >= 0 ? batch.GetColumn<string?>(errorIndex) : null;
            for (int i = 0; i < values.Length && sample.Count < count; i++)
            {
                if (values[i] is not null && errors?[i] is null)
                {
                    sample.Add(values[i]);
                }
            }

            if (sample.Count >= count)
            {
                break;
            }
        }

        return sample;
    }

    /// <summary>Times candidates on a workload and returns the fastest (synchronously; the work runs on the thread pool).</summary>
    public static BatchPolicy Choose(IReadOnlyList<BatchPolicy> candidates, Action<BatchPolicy, CancellationToken> workload, CancellationToken cancellationToken = default) =>
        BatchPolicy.ChooseAsync(candidates, (policy, token) => Task.Run(() => workload(policy, token), token), repetitions: 1, cancellationToken)
            .ConfigureAwait(false).GetAwaiter().GetResult();

    public static JsonNode? PolicyToJson(BatchPolicy policy) => JsonSerializer.SerializeToNode(policy, s_json);

    public static BatchPolicy PolicyFromJson(JsonObject options)
    {
        // A hand-written description may leave the policy out: padding-aware with the defaults.
        if (!options.TryGetPropertyValue("batchPolicy", out JsonNode? value) || value is null)
        {
            return BatchPolicy.PaddingAware();
        }

        if (value is not JsonObject node)
        {
            throw new InvalidDataException($"The option 'batchPolicy' should be an object, not {value.ToJsonString()}.");
        }

        BatchPolicy policy = node.Deserialize<BatchPolicy>(s_json) ?? throw new InvalidDataException("'batchPolicy' is null.");
        policy.Validate();
        return policy;
    }

    public static JsonNode? ToJson<T>(T value) => JsonSerializer.SerializeToNode(value, s_json);

    public static T? FromJson<T>(JsonNode? node) => node is null ? default : node.Deserialize<T>(s_json);

    /// <summary>The common options as JSON (the thread counts of the session options only).</summary>
    public static void SaveCommon(JsonObject json, ModelTransformOptions options, BatchPolicy policy)
    {
        json["batchPolicy"] = PolicyToJson(policy);
        json["errorColumnName"] = options.ErrorColumnName;
        if (options.SessionOptions?.IntraOpThreads is int intra)
        {
            json["intraOpThreads"] = intra;
        }

        if (options.SessionOptions?.InterOpThreads is int inter)
        {
            json["interOpThreads"] = inter;
        }

        if (options is TextModelTransformOptions text)
        {
            json["inputColumnName"] = text.InputColumnName;
            json["maxLength"] = text.MaxLength;
            json["truncate"] = text.Truncate;
        }
    }

    /// <summary>Reads the common options back into <paramref name="options"/>.</summary>
    public static T LoadCommon<T>(JsonObject json, T options)
        where T : ModelTransformOptions
    {
        SessionOptions? session = null;
        int? intra = json["intraOpThreads"]?.GetValue<int>();
        int? inter = json["interOpThreads"]?.GetValue<int>();
        if (intra is not null || inter is not null)
        {
            session = new SessionOptions { IntraOpThreads = intra, InterOpThreads = inter };
        }

        T result = options with
        {
            BatchPolicy = PolicyFromJson(json),
            SessionOptions = session,
            ErrorColumnName = PipelineJson.GetString(json, "errorColumnName", BatchMappingTransformer.DefaultErrorColumnName),
        };
        if (result is TextModelTransformOptions text)
        {
            result = (T)(ModelTransformOptions)(text with
            {
                InputColumnName = PipelineJson.GetString(json, "inputColumnName", "text") ?? "text",
                MaxLength = json["maxLength"]?.GetValue<int>(),
                Truncate = json["truncate"]?.GetValue<bool>() ?? false,
            });
        }

        return result;
    }

    public static string ModelPath(JsonObject json, PipelineFileContext context, string kind) =>
        context.ResolvePath(PipelineJson.GetString(json, "modelPath", null)
            ?? throw new InvalidDataException($"The {kind} transform's options have no 'modelPath'."));
}
