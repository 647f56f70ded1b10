using System.CommandLine;
using Microsoft.Extensions.Logging;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Cli.Commands;

/// <summary>Options shared by every command that creates an ONNX Runtime session.</summary>
internal sealed class RuntimeOptions
{
    public Option<string[]> Provider { get; } = new("--provider")
    {
        Description = "Execution provider(s) in order of preference: cpu, cuda[:DEVICE], tensorrt[:DEVICE], or another ONNX Runtime provider name. Repeatable.",
        AllowMultipleArgumentsPerToken = false,
        Arity = ArgumentArity.ZeroOrMore,
    };

    public Option<bool> ProviderFallback { get; } = new("--provider-fallback")
    {
        Description = "If a provider cannot start, warn and continue on the CPU instead of failing.",
    };

    public Option<int?> Threads { get; } = new("--threads")
    {
        Description = "Intra-op threads (default: ONNX Runtime's, one per core).",
    };

    public Option<bool> Verbose { get; } = new("--verbose")
    {
        Description = "Show ONNX Runtime's informational log on stderr.",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Provider);
        command.Options.Add(ProviderFallback);
        command.Options.Add(Threads);
        command.Options.Add(Verbose);
    }

    /// <summary>Creates the process environment with stderr logging at the level the options ask for.</summary>
    /// <summary>
    /// Routes logs to this invocation's stderr, creates the ONNX Runtime environment if needed, and builds session options.
    /// </summary>
    public SessionOptions CreateSessionOptions(CliConsole console, ParseResult parse)
    {
        LogLevel level = parse.GetValue(Verbose) ? LogLevel.Information : LogLevel.Warning;
        CliLogging.Enter(console.Err, level);
        var options = new SessionOptions
        {
            ProviderPolicy = parse.GetValue(ProviderFallback) ? ExecutionProviderPolicy.FallbackToCpu : ExecutionProviderPolicy.Strict,
            Logger = console.CreateLogger("mlnt", level),
        };

        if (parse.GetValue(Threads) is { } threads)
        {
            if (threads < 0)
            {
                throw new CliException($"--threads: expected a non-negative integer, got {threads}.");
            }

            options.IntraOpThreads = threads;
        }

        foreach (string text in parse.GetValue(Provider) ?? [])
        {
            try
            {
                options.ExecutionProviders.Add(ExecutionProvider.Parse(text));
            }
            catch (FormatException ex)
            {
                throw new CliException("--provider: " + ex.Message);
            }
        }

        CliLogging.EnsureEnvironment(level);
        return options;
    }
}
