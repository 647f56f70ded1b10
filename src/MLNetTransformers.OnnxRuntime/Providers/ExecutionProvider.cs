using System.Globalization;

namespace MLNetTransformers.OnnxRuntime;

/// <summary>What a session does when a preferred execution provider cannot be added.</summary>
public enum ExecutionProviderPolicy
{
    /// <summary>Throw an <see cref="ExecutionProviderException"/> carrying ONNX Runtime's text. The default: nothing falls back silently.</summary>
    Strict = 0,

    /// <summary>
    /// Skip the provider, log a warning, and go on with the next one (the CPU in the end); the session reports what it really
    /// uses in <see cref="InferenceSession.EffectiveProviders"/> and why in <see cref="InferenceSession.ProviderFallbacks"/>.
    /// </summary>
    FallbackToCpu = 1,
}

/// <summary>
/// An execution provider to add to a session, with its options. Build with <see cref="Cpu"/>, <see cref="Cuda"/>,
/// <see cref="TensorRT"/>, <see cref="Create"/> (any provider ONNX Runtime's generic entry point knows, e.g. <c>XNNPACK</c>,
/// <c>OpenVINO</c>, <c>QNN</c>) or <see cref="Parse"/>. Immutable.
/// </summary>
public sealed class ExecutionProvider : IEquatable<ExecutionProvider>
{
    /// <summary>Name of the CPU provider.</summary>
    public const string CpuName = "CPU";

    /// <summary>Name of the CUDA provider.</summary>
    public const string CudaName = "CUDA";

    /// <summary>Name of the TensorRT provider.</summary>
    public const string TensorRTName = "TensorRT";

    private ExecutionProvider(string name, IReadOnlyDictionary<string, string> options)
    {
        Name = name;
        Options = options;
    }

    /// <summary>The CPU provider. Always present as the last resort; listing it only documents the preference.</summary>
    public static ExecutionProvider Cpu { get; } = new(CpuName, new Dictionary<string, string>());

    /// <summary>The provider's name: <c>CPU</c>, <c>CUDA</c>, <c>TensorRT</c>, or the name given to <see cref="Create"/>.</summary>
    public string Name { get; }

    /// <summary>Provider options as ONNX Runtime's key/value strings (e.g. CUDA's <c>device_id</c>, <c>gpu_mem_limit</c>).</summary>
    public IReadOnlyDictionary<string, string> Options { get; }

    /// <summary>The CUDA provider on device <paramref name="deviceId"/>.</summary>
    /// <param name="deviceId">The CUDA device.</param>
    /// <param name="options">Further options (ONNX Runtime's CUDA provider option names).</param>
    /// <returns>The provider.</returns>
    public static ExecutionProvider Cuda(int deviceId = 0, IReadOnlyDictionary<string, string>? options = null) =>
        new(CudaName, WithDevice(deviceId, options));

    /// <summary>The TensorRT provider on device <paramref name="deviceId"/>.</summary>
    /// <param name="deviceId">The CUDA device.</param>
    /// <param name="options">Further options (ONNX Runtime's TensorRT provider option names, e.g. <c>trt_fp16_enable</c>).</param>
    /// <returns>The provider.</returns>
    public static ExecutionProvider TensorRT(int deviceId = 0, IReadOnlyDictionary<string, string>? options = null) =>
        new(TensorRTName, WithDevice(deviceId, options));

    /// <summary>Any provider by the name ONNX Runtime's generic <c>SessionOptionsAppendExecutionProvider</c> accepts.</summary>
    /// <param name="name">The provider name, e.g. <c>XNNPACK</c>.</param>
    /// <param name="options">The provider's options.</param>
    /// <returns>The provider.</returns>
    public static ExecutionProvider Create(string name, IReadOnlyDictionary<string, string>? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (string.Equals(name, CpuName, StringComparison.OrdinalIgnoreCase))
        {
            return Cpu;
        }

        if (string.Equals(name, CudaName, StringComparison.OrdinalIgnoreCase))
        {
            return new(CudaName, Copy(options));
        }

        if (string.Equals(name, TensorRTName, StringComparison.OrdinalIgnoreCase))
        {
            return new(TensorRTName, Copy(options));
        }

        return new(name, Copy(options));
    }

    /// <summary>
    /// Parses a provider as written on a command line: <c>cpu</c>, <c>cuda</c>, <c>cuda:1</c>, <c>tensorrt</c>, <c>tensorrt:0</c>,
    /// or another provider name.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <returns>The provider.</returns>
    /// <exception cref="FormatException">The device id is not a non-negative integer.</exception>
    public static ExecutionProvider Parse(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        string[] parts = text.Trim().Split(':', 2);
        int deviceId = 0;
        if (parts.Length == 2 && (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out deviceId) || deviceId < 0))
        {
            throw new FormatException($"Invalid device id '{parts[1]}' in execution provider '{text}': expected a non-negative integer, e.g. cuda:0.");
        }

        return parts[0].ToUpperInvariant() switch
        {
            "CPU" => Cpu,
            "CUDA" => Cuda(deviceId),
            "TENSORRT" or "TRT" => TensorRT(deviceId),
            _ => Create(parts[0]),
        };
    }

    /// <inheritdoc/>
    public bool Equals(ExecutionProvider? other) =>
        other is not null && Name == other.Name && Options.Count == other.Options.Count
        && Options.All(pair => other.Options.TryGetValue(pair.Key, out string? value) && value == pair.Value);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ExecutionProvider);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Name);

    /// <inheritdoc/>
    public override string ToString() =>
        Options.Count == 0 ? Name : $"{Name}({string.Join(", ", Options.Select(pair => $"{pair.Key}={pair.Value}"))})";

    private static Dictionary<string, string> WithDevice(int deviceId, IReadOnlyDictionary<string, string>? options)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(deviceId);
        Dictionary<string, string> copy = Copy(options);
        copy["device_id"] = deviceId.ToString(CultureInfo.InvariantCulture);
        return copy;
    }

    private static Dictionary<string, string> Copy(IReadOnlyDictionary<string, string>? options) =>
        options is null ? new Dictionary<string, string>(StringComparer.Ordinal) : new Dictionary<string, string>(options, StringComparer.Ordinal);
}

/// <summary>A provider that was asked for but skipped under <see cref="ExecutionProviderPolicy.FallbackToCpu"/>, and why.</summary>
/// <param name="Provider">The provider that could not be added.</param>
/// <param name="Reason">ONNX Runtime's text.</param>
public sealed record ExecutionProviderFallback(ExecutionProvider Provider, string Reason);

/// <summary>An execution provider could not be added to a session under <see cref="ExecutionProviderPolicy.Strict"/>.</summary>
public sealed class ExecutionProviderException : OnnxRuntimeException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="provider">The provider that could not be added.</param>
    /// <param name="inner">ONNX Runtime's error.</param>
    public ExecutionProviderException(ExecutionProvider provider, OnnxRuntimeException inner)
        : base(
            (inner ?? throw new ArgumentNullException(nameof(inner))).ErrorCode,
            inner.Operation,
            $"execution provider {provider?.Name} could not be added: {inner.NativeMessage} (use ExecutionProviderPolicy.FallbackToCpu, or the CLI's --provider-fallback, to continue on the CPU)",
            inner)
    {
        Provider = provider!;
    }

    /// <summary>The provider that could not be added.</summary>
    public ExecutionProvider Provider { get; }
}
