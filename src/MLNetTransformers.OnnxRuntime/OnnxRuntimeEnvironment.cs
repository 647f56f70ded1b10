using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MLNetTransformers.OnnxRuntime.Native;

namespace MLNetTransformers.OnnxRuntime;

/// <summary>Options for the process-wide <see cref="OnnxRuntimeEnvironment"/>.</summary>
public sealed class OnnxRuntimeEnvironmentOptions
{
    /// <summary>Receives ONNX Runtime's own log lines (category <c>OnnxRuntime</c>) and the binding's warnings. Default: none.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>The least severe ONNX Runtime log level forwarded. Default: <see cref="LogLevel.Warning"/>.</summary>
    public LogLevel? LogLevel { get; set; }

    /// <summary>An explicit native library file or folder (first in the search order of <see cref="OnnxRuntimeLibrary"/>).</summary>
    public string? LibraryPath { get; set; }

    /// <summary>The log identifier ONNX Runtime attaches to its messages. Default: <c>mlnt</c>.</summary>
    public string? LogId { get; set; }
}

/// <summary>
/// The one ONNX Runtime environment of the process (<c>OrtEnv</c>). It routes ONNX Runtime's log to
/// <see cref="Microsoft.Extensions.Logging"/> through the C API's custom-logger callback, so nothing is written to the console
/// behind the application's back. It lives until the process ends. All members are thread-safe.
/// </summary>
public sealed class OnnxRuntimeEnvironment
{
    private static readonly Lock s_gate = new();
    private static OnnxRuntimeEnvironment? s_instance;
    private static ILogger s_nativeLogger = NullLogger.Instance;

    private LogLevel _logLevel;

    private OnnxRuntimeEnvironment(EnvHandle handle, ILoggerFactory loggerFactory, LogLevel logLevel)
    {
        Handle = handle;
        LoggerFactory = loggerFactory;
        _logLevel = logLevel;
    }

    /// <summary>The environment, created with default options on first use if <see cref="Initialize"/> was not called.</summary>
    public static OnnxRuntimeEnvironment Instance
    {
        get
        {
            OnnxRuntimeEnvironment? instance = Volatile.Read(ref s_instance);
            return instance ?? Initialize(new OnnxRuntimeEnvironmentOptions());
        }
    }

    /// <summary>Whether the environment has been created.</summary>
    public static bool IsInitialized => Volatile.Read(ref s_instance) is not null;

    /// <summary>Logger factory used for ONNX Runtime's log and the binding's own messages.</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>The least severe ONNX Runtime log level forwarded; settable at any time.</summary>
    public LogLevel LogLevel
    {
        get => _logLevel;
        set
        {
            NativeMethods.UpdateEnvWithCustomLogLevel(Handle.Pointer, ToOrtLevel(value));
            _logLevel = value;
        }
    }

    internal EnvHandle Handle { get; }

    /// <summary>
    /// Creates the environment with the given options. Call it before anything else uses ONNX Runtime; it can be called once.
    /// </summary>
    /// <param name="options">Logging and library location.</param>
    /// <returns>The environment.</returns>
    /// <exception cref="InvalidOperationException">The environment already exists.</exception>
    /// <exception cref="OnnxRuntimeLibraryException">The native library could not be loaded.</exception>
    public static unsafe OnnxRuntimeEnvironment Initialize(OnnxRuntimeEnvironmentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        lock (s_gate)
        {
            if (s_instance is not null)
            {
                // Instance's lazy default path reaches here only when racing a concurrent creation.
                if (options.LoggerFactory is null && options.LibraryPath is null && options.LogLevel is null && options.LogId is null)
                {
                    return s_instance;
                }

                throw new InvalidOperationException("The ONNX Runtime environment already exists; call OnnxRuntimeEnvironment.Initialize before any other use of ONNX Runtime.");
            }

            OrtApi.Load(options.LibraryPath);
            ILoggerFactory factory = options.LoggerFactory ?? NullLoggerFactory.Instance;
            LogLevel level = options.LogLevel ?? LogLevel.Warning;
            s_nativeLogger = factory.CreateLogger("OnnxRuntime");
            byte[] logId = Utf8.Encode(options.LogId ?? "mlnt");
            nint env;
            fixed (byte* id = logId)
            {
                env = NativeMethods.CreateEnvWithCustomLogger(&OnNativeLog, 0, ToOrtLevel(level), id);
            }

            var instance = new OnnxRuntimeEnvironment(new EnvHandle(env), factory, level);
            Volatile.Write(ref s_instance, instance);
            return instance;
        }
    }

    internal static int ToOrtLevel(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => 0,
        LogLevel.Information => 1,
        LogLevel.Warning => 2,
        LogLevel.Error => 3,
        _ => 4,
    };

    internal static LogLevel FromOrtLevel(int severity) => severity switch
    {
        0 => LogLevel.Debug,
        1 => LogLevel.Information,
        2 => LogLevel.Warning,
        3 => LogLevel.Error,
        _ => LogLevel.Critical,
    };

    [UnmanagedCallersOnly]
    private static unsafe void OnNativeLog(nint param, int severity, byte* category, byte* logId, byte* codeLocation, byte* message)
    {
        // An exception must never cross back into native code.
        try
        {
            LogLevel level = FromOrtLevel(severity);
            ILogger logger = s_nativeLogger;
            if (logger.IsEnabled(level))
            {
#pragma warning disable CA1848, CA2254 // ONNX Runtime's message is the template-free text itself.
                logger.Log(level, "[{LogId}] {Message} ({CodeLocation})", Utf8.FromNative(logId), Utf8.FromNative(message), Utf8.FromNative(codeLocation));
#pragma warning restore CA1848, CA2254
            }
        }
#pragma warning disable CA1031 // Swallowing is the only safe choice inside a native callback.
        catch
        {
        }
#pragma warning restore CA1031
    }
}
