using Microsoft.Extensions.Logging;
using MLNetTransformers.OnnxRuntime.Native;

namespace MLNetTransformers.OnnxRuntime;

/// <summary>How far ONNX Runtime rewrites the graph before running it (<c>GraphOptimizationLevel</c>).</summary>
public enum GraphOptimizationLevel
{
    /// <summary>No graph optimization.</summary>
    DisableAll = 0,
    /// <summary>Semantics-preserving rewrites such as constant folding and redundant node elimination.</summary>
    Basic = 1,
    /// <summary>Basic plus fusions (attention, layer normalization, GELU, ...).</summary>
    Extended = 2,
    /// <summary>Extended plus layout optimizations.</summary>
    Layout = 3,
    /// <summary>Everything, including hardware-specific layouts. ONNX Runtime's default.</summary>
    All = 99,
}

/// <summary>Whether independent nodes of a graph run one after another or in parallel (<c>ExecutionMode</c>).</summary>
public enum ExecutionMode
{
    /// <summary>One node at a time (each may use the intra-op threads). The default and usually the fastest.</summary>
    Sequential = 0,
    /// <summary>Independent branches at once, on the inter-op threads.</summary>
    Parallel = 1,
}

/// <summary>
/// Options for creating an <see cref="InferenceSession"/>. A plain description: nothing native is held, the native
/// <c>OrtSessionOptions</c> is built when a session is created, so one instance can configure any number of sessions.
/// <see langword="null"/> properties keep ONNX Runtime's defaults. Not thread-safe while being modified.
/// </summary>
public sealed class SessionOptions
{
    /// <summary>Graph optimization level. Default: ONNX Runtime's (<see cref="GraphOptimizationLevel.All"/>).</summary>
    public GraphOptimizationLevel? GraphOptimizationLevel { get; set; }

    /// <summary>Threads used inside one operator. Default: ONNX Runtime's (one per physical core). Use 1 for tiny models.</summary>
    public int? IntraOpThreads { get; set; }

    /// <summary>Threads used to run independent nodes under <see cref="ExecutionMode.Parallel"/>.</summary>
    public int? InterOpThreads { get; set; }

    /// <summary>Sequential or parallel execution of independent nodes.</summary>
    public ExecutionMode? ExecutionMode { get; set; }

    /// <summary>Whether memory planning is reused across runs with the same shapes. Default: on.</summary>
    public bool? EnableMemoryPattern { get; set; }

    /// <summary>Whether the CPU allocator uses an arena. Default: on.</summary>
    public bool? EnableCpuMemArena { get; set; }

    /// <summary>Session configuration entries (ONNX Runtime's <c>session.*</c> keys, e.g. <c>session.intra_op.allow_spinning</c>).</summary>
    public IDictionary<string, string> ConfigEntries { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Fixes a symbolic dimension by name (e.g. <c>batch</c> = 1) so the graph can be optimized for it.</summary>
    public IDictionary<string, long> FreeDimensionOverrides { get; } = new Dictionary<string, long>(StringComparer.Ordinal);

    /// <summary>Fixes a dimension by ONNX denotation (e.g. <c>DATA_BATCH</c>).</summary>
    public IDictionary<string, long> FreeDimensionOverridesByDenotation { get; } = new Dictionary<string, long>(StringComparer.Ordinal);

    /// <summary>Where to save the optimized graph when the session is created (ONNX format unless a config entry says ORT).</summary>
    public string? OptimizedModelFilePath { get; set; }

    /// <summary>When set, profiling is on and the trace is written to a file starting with this prefix (see <see cref="InferenceSession.EndProfiling"/>).</summary>
    public string? ProfileFilePrefix { get; set; }

    /// <summary>The session's log identifier.</summary>
    public string? LogId { get; set; }

    /// <summary>The least severe ONNX Runtime log level for this session. Default: the environment's.</summary>
    public LogLevel? LogLevel { get; set; }

    /// <summary>
    /// Execution providers in order of preference. The CPU provider always comes last implicitly, for the nodes no earlier
    /// provider takes. Empty means the CPU only.
    /// </summary>
    public IList<ExecutionProvider> ExecutionProviders { get; } = new List<ExecutionProvider>();

    /// <summary>What to do when a preferred provider cannot be added. Default: <see cref="ExecutionProviderPolicy.Strict"/>.</summary>
    public ExecutionProviderPolicy ProviderPolicy { get; set; } = ExecutionProviderPolicy.Strict;

    /// <summary>Receives the binding's messages for sessions made with these options (provider fallbacks). Default: the environment's.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>
    /// Builds the native options, adding the execution providers in order under <see cref="ProviderPolicy"/>.
    /// </summary>
    internal unsafe SessionOptionsHandle CreateNative(ILogger logger, out IReadOnlyList<string> effectiveProviders, out IReadOnlyList<ExecutionProviderFallback> fallbacks)
    {
        var handle = new SessionOptionsHandle(NativeMethods.CreateSessionOptions());
        try
        {
            nint options = handle.Pointer;
            if (GraphOptimizationLevel is { } level)
            {
                NativeMethods.SetSessionGraphOptimizationLevel(options, (int)level);
            }

            if (IntraOpThreads is { } intra)
            {
                ArgumentOutOfRangeException.ThrowIfNegative(intra, nameof(IntraOpThreads));
                NativeMethods.SetIntraOpNumThreads(options, intra);
            }

            if (InterOpThreads is { } inter)
            {
                ArgumentOutOfRangeException.ThrowIfNegative(inter, nameof(InterOpThreads));
                NativeMethods.SetInterOpNumThreads(options, inter);
            }

            if (ExecutionMode is { } mode)
            {
                NativeMethods.SetSessionExecutionMode(options, (int)mode);
            }

            if (EnableMemoryPattern is { } memoryPattern)
            {
                if (memoryPattern)
                {
                    NativeMethods.EnableMemPattern(options);
                }
                else
                {
                    NativeMethods.DisableMemPattern(options);
                }
            }

            if (EnableCpuMemArena is { } arena)
            {
                if (arena)
                {
                    NativeMethods.EnableCpuMemArena(options);
                }
                else
                {
                    NativeMethods.DisableCpuMemArena(options);
                }
            }

            foreach (var entry in ConfigEntries)
            {
                fixed (byte* key = Utf8.Encode(entry.Key), value = Utf8.Encode(entry.Value))
                {
                    NativeMethods.AddSessionConfigEntry(options, key, value);
                }
            }

            foreach (var entry in FreeDimensionOverrides)
            {
                fixed (byte* name = Utf8.Encode(entry.Key))
                {
                    NativeMethods.AddFreeDimensionOverrideByName(options, name, entry.Value);
                }
            }

            foreach (var entry in FreeDimensionOverridesByDenotation)
            {
                fixed (byte* denotation = Utf8.Encode(entry.Key))
                {
                    NativeMethods.AddFreeDimensionOverride(options, denotation, entry.Value);
                }
            }

            if (OptimizedModelFilePath is { } optimizedPath)
            {
                fixed (byte* path = Utf8.EncodePath(Path.GetFullPath(optimizedPath)))
                {
                    NativeMethods.SetOptimizedModelFilePath(options, path);
                }
            }

            if (ProfileFilePrefix is { } prefix)
            {
                fixed (byte* p = Utf8.EncodePath(prefix))
                {
                    NativeMethods.EnableProfiling(options, p);
                }
            }

            if (LogId is { } logId)
            {
                fixed (byte* id = Utf8.Encode(logId))
                {
                    NativeMethods.SetSessionLogId(options, id);
                }
            }

            if (LogLevel is { } logLevel)
            {
                NativeMethods.SetSessionLogSeverityLevel(options, OnnxRuntimeEnvironment.ToOrtLevel(logLevel));
            }

            AppendProviders(options, logger, out effectiveProviders, out fallbacks);
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private void AppendProviders(nint options, ILogger logger, out IReadOnlyList<string> effectiveProviders, out IReadOnlyList<ExecutionProviderFallback> fallbacks)
    {
        var effective = new List<string>();
        var skipped = new List<ExecutionProviderFallback>();
        foreach (ExecutionProvider provider in ExecutionProviders)
        {
            if (provider.Name == ExecutionProvider.CpuName || effective.Contains(provider.Name))
            {
                continue;
            }

            try
            {
                AppendProvider(options, provider);
                effective.Add(provider.Name);
            }
            catch (OnnxRuntimeException ex) when (ProviderPolicy == ExecutionProviderPolicy.FallbackToCpu)
            {
                skipped.Add(new ExecutionProviderFallback(provider, ex.NativeMessage));
                Log.ProviderFallback(logger, provider.Name, ex.NativeMessage);
            }
            catch (OnnxRuntimeException ex)
            {
                throw new ExecutionProviderException(provider, ex);
            }
        }

        effective.Add(ExecutionProvider.CpuName);
        effectiveProviders = effective;
        fallbacks = skipped;
    }

    private static unsafe void AppendProvider(nint options, ExecutionProvider provider)
    {
        string[] keys = provider.Options.Keys.ToArray();
        string[] values = keys.Select(key => provider.Options[key]).ToArray();
        using var nativeKeys = new Utf8StringArray(keys);
        using var nativeValues = new Utf8StringArray(values);
        switch (provider.Name)
        {
            case ExecutionProvider.CudaName:
            {
                using var cuda = new CudaProviderOptionsHandle(NativeMethods.CreateCUDAProviderOptions());
                NativeMethods.UpdateCUDAProviderOptions(cuda.Pointer, nativeKeys.Pointers, nativeValues.Pointers, (nuint)keys.Length);
                NativeMethods.SessionOptionsAppendExecutionProvider_CUDA_V2(options, cuda.Pointer);
                break;
            }

            case ExecutionProvider.TensorRTName:
            {
                using var tensorRt = new TensorRtProviderOptionsHandle(NativeMethods.CreateTensorRTProviderOptions());
                NativeMethods.UpdateTensorRTProviderOptions(tensorRt.Pointer, nativeKeys.Pointers, nativeValues.Pointers, (nuint)keys.Length);
                NativeMethods.SessionOptionsAppendExecutionProvider_TensorRT_V2(options, tensorRt.Pointer);
                break;
            }

            default:
                fixed (byte* name = Utf8.Encode(provider.Name))
                {
                    NativeMethods.SessionOptionsAppendExecutionProvider(options, name, nativeKeys.Pointers, nativeValues.Pointers, (nuint)keys.Length);
                }

                break;
        }
    }
}

internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Execution provider {Provider} could not be added and was skipped (FallbackToCpu): {Reason}")]
    public static partial void ProviderFallback(ILogger logger, string provider, string reason);
}
