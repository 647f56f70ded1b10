using Microsoft.Extensions.Logging;
using MLNetTransformers.OnnxRuntime.Native;

namespace MLNetTransformers.OnnxRuntime;

/// <summary>
/// Options for one or more runs (<c>OrtRunOptions</c>): a log tag, a log level, config entries, and the terminate flag that
/// stops every run using these options. Setting the flag is thread-safe (that is its purpose); other setters are not.
/// </summary>
public sealed class RunOptions : IDisposable
{
    private string? _logTag;
    private LogLevel? _logLevel;

    /// <summary>Creates run options.</summary>
    public RunOptions()
    {
        Handle = new RunOptionsHandle(NativeMethods.CreateRunOptions());
    }

    /// <summary>The tag ONNX Runtime prints with log lines of runs using these options.</summary>
    public unsafe string? LogTag
    {
        get => _logTag;
        set
        {
            fixed (byte* tag = Utf8.Encode(value ?? string.Empty))
            {
                NativeMethods.RunOptionsSetRunTag(Handle.Pointer, tag);
            }

            _logTag = value;
        }
    }

    /// <summary>The least severe ONNX Runtime log level for these runs.</summary>
    public LogLevel? LogLevel
    {
        get => _logLevel;
        set
        {
            NativeMethods.RunOptionsSetRunLogSeverityLevel(Handle.Pointer, OnnxRuntimeEnvironment.ToOrtLevel(value ?? Microsoft.Extensions.Logging.LogLevel.Warning));
            _logLevel = value;
        }
    }

    /// <summary>Whether <see cref="Terminate"/> was called and not yet <see cref="ResetTerminate"/>.</summary>
    public bool IsTerminateRequested { get; private set; }

    internal RunOptionsHandle Handle { get; }

    /// <summary>Adds a run configuration entry (ONNX Runtime's run-level keys).</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    public unsafe void AddConfigEntry(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        fixed (byte* k = Utf8.Encode(key), v = Utf8.Encode(value))
        {
            NativeMethods.AddRunConfigEntry(Handle.Pointer, k, v);
        }
    }

    /// <summary>Asks every run using these options to stop as soon as it can (between nodes); such runs fail.</summary>
    public void Terminate()
    {
        NativeMethods.RunOptionsSetTerminate(Handle.Pointer);
        IsTerminateRequested = true;
    }

    /// <summary>Clears the terminate flag so these options can be used again.</summary>
    public void ResetTerminate()
    {
        NativeMethods.RunOptionsUnsetTerminate(Handle.Pointer);
        IsTerminateRequested = false;
    }

    /// <inheritdoc/>
    public void Dispose() => Handle.Dispose();
}
