using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Cli;

/// <summary>A user-facing error: its message is shown as is (one line) with the exit code it carries.</summary>
internal sealed class CliException(string message, int exitCode = ExitCodes.BadInput, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The exit code.</summary>
    public int ExitCode { get; } = exitCode;
}

/// <summary>The two output streams, JSON-line writing, and the mapping from exceptions to one-line errors and exit codes.</summary>
internal sealed class CliConsole(TextWriter stdout, TextWriter stderr)
{
    public TextWriter Out { get; } = stdout;

    public TextWriter Err { get; } = stderr;

    /// <summary>Writes one JSON object as one line on stdout.</summary>
    public void WriteJsonLine(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        Out.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
        Out.Flush();
    }

    public void Error(string message) => Err.WriteLine("mlnt: error: " + OneLine(message));

    /// <summary>Reports an exception as one line and returns its exit code.</summary>
    public int Fail(Exception ex)
    {
        (int code, string message) = ex switch
        {
            CliException cli => (cli.ExitCode, cli.Message),
            FileNotFoundException notFound => (ExitCodes.BadInput, notFound.FileName is { } file && !notFound.Message.Contains(file, StringComparison.Ordinal) ? $"file not found: {file}" : notFound.Message),
            DirectoryNotFoundException notFound => (ExitCodes.BadInput, notFound.Message),
            UnauthorizedAccessException denied => (ExitCodes.BadInput, denied.Message),
            InvalidDataException invalid => (ExitCodes.BadInput, invalid.Message),
            ExecutionProviderException provider when provider.ErrorCode == OrtErrorCode.InvalidArgument => (ExitCodes.BadInput, $"--provider: {provider.Message}"),
            ExecutionProviderException provider => (ExitCodes.Failure, provider.Message),
            OnnxRuntimeException ort when ort.ErrorCode is OrtErrorCode.InvalidProtobuf or OrtErrorCode.InvalidGraph or OrtErrorCode.NoSuchFile or OrtErrorCode.NoModel
                => (ExitCodes.BadInput, $"invalid model: {ort.Message}"),
            OnnxRuntimeException ort => (ExitCodes.Failure, ort.Message),
            OnnxRuntimeLibraryException library => (ExitCodes.Failure, library.Message),
            OperationCanceledException => (ExitCodes.Failure, "cancelled"),
            _ => (ExitCodes.Failure, $"{ex.GetType().Name}: {ex.Message}"),
        };
        Error(message);
        return code;
    }

    /// <summary>A logger writing single lines to this invocation's stderr.</summary>
    public ILogger CreateLogger(string category, LogLevel minimum) => new CliLogger(category, () => (Err, minimum));

    internal static string OneLine(string text) =>
        string.Join(" | ", text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}

/// <summary>
/// Logging for the tool. ONNX Runtime's environment (and so its log callback) is process-wide, while each invocation of
/// <see cref="CliApp.RunAsync"/> has its own stderr: the process-wide factory forwards to the writer and level of the invocation
/// on whose call path a message is logged, and to <see cref="Console.Error"/> elsewhere (ONNX Runtime's own threads).
/// </summary>
internal static class CliLogging
{
    private static readonly AsyncLocal<(TextWriter Writer, LogLevel Level)?> s_current = new();
    private static readonly Lock s_gate = new();

    /// <summary>Routes this invocation's log lines to <paramref name="writer"/> at <paramref name="level"/> and up.</summary>
    public static void Enter(TextWriter writer, LogLevel level) => s_current.Value = (writer, level);

    /// <summary>Creates the process-wide ONNX Runtime environment once, logging through this class.</summary>
    public static void EnsureEnvironment(LogLevel level)
    {
        lock (s_gate)
        {
            if (!OnnxRuntimeEnvironment.IsInitialized)
            {
                OnnxRuntimeEnvironment.Initialize(new OnnxRuntimeEnvironmentOptions { LoggerFactory = new ForwardingFactory(), LogLevel = level });
            }
            else if (OnnxRuntimeEnvironment.Instance.LogLevel != level)
            {
                OnnxRuntimeEnvironment.Instance.LogLevel = level;
            }
        }
    }

    private static (TextWriter Writer, LogLevel Level) Current => s_current.Value ?? (Console.Error, LogLevel.Warning);

    private sealed class ForwardingFactory : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new CliLogger(categoryName, () => Current);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }
    }
}

/// <summary>Writes <c>mlnt: LEVEL: [category] message</c> lines.</summary>
internal sealed class CliLogger(string category, Func<(TextWriter Writer, LogLevel Level)> target) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= target().Level;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var (writer, level) = target();
        if (logLevel == LogLevel.None || logLevel < level)
        {
            return;
        }

        string line = $"mlnt: {logLevel.ToString().ToLowerInvariant()}: [{category}] {CliConsole.OneLine(formatter(state, exception))}";
        lock (writer)
        {
            writer.WriteLine(line);
        }
    }
}
