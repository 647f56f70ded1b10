using System.CommandLine;
using MLNetTransformers.Cli.Commands;

namespace MLNetTransformers.Cli;

/// <summary>Exit codes of the tool (the command-line contract).</summary>
internal static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Success = 0;

    /// <summary>Any failure that is not the user's input: the runtime, the machine, a provider that cannot start.</summary>
    public const int Failure = 1;

    /// <summary>Bad usage or bad input (unknown option, missing or unreadable file, invalid model).</summary>
    public const int BadInput = 2;
}

/// <summary>
/// The <c>mlnt</c> command line. Output contract: with <c>--json</c>, stdout carries one JSON object per line and nothing else;
/// reports, progress and logs go to stderr. Errors are one line on stderr, <c>mlnt: error: ...</c>, with exit code 2 for bad
/// usage or input and 1 for other failures; never a stack trace.
/// </summary>
internal static class CliApp
{
    /// <summary>Parses and runs a command with the given output streams.</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="stdout">Machine-readable output.</param>
    /// <param name="stderr">Human-readable output, logs and errors.</param>
    /// <param name="cancellationToken">Stops long-running commands.</param>
    /// <returns>The exit code.</returns>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var console = new CliConsole(stdout, stderr);
        var root = new RootCommand("mlnt: run Hugging Face-style transformer models exported to ONNX.")
        {
            GenerateCommand.Create(console),
            InspectCommand.Create(console),
            TokenizeCommands.CreateTokenize(console),
            TokenizeCommands.CreateDetokenize(console),
            BenchCommand.Create(console),
            QuantizeCommand.Create(console),
            PerplexityCommand.Create(console),
            OptimizeCommand.Create(console),
            EmbedCommand.Create(console),
            ClassifyCommand.Create(console),
            ServeCommand.Create(console),
            ScoreCommand.Create(console),
        };

        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            string help = ReferenceEquals(parse.CommandResult.Command, root) ? "mlnt --help" : $"mlnt {parse.CommandResult.Command.Name} --help";
            console.Error($"{string.Join("; ", parse.Errors.Select(e => e.Message))} (see '{help}')");
            return ExitCodes.BadInput;
        }

        var invocation = new InvocationConfiguration { Output = stderr, Error = stderr, EnableDefaultExceptionHandler = false };
        try
        {
            return await parse.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            return console.Fail(ex);
        }
    }
}
