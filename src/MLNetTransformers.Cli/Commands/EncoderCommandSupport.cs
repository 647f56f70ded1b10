using System.CommandLine;
using System.Globalization;
using MLNetTransformers.Generation.Encoding;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Cli.Commands;

/// <summary>What <c>mlnt embed</c> and <c>mlnt classify</c> share: options, input reading, opening, batch policy, error mapping.</summary>
internal static class EncoderCommandSupport
{
    public static Option<string> Batch() => new("--batch")
    {
        Description = "auto (time per-row, fixed 32 and padding-aware batches on the first 64 inputs and use the fastest), or N: padding-aware batches of at most N rows (1 = one row per run).",
        DefaultValueFactory = _ => "auto",
    };

    public static Option<bool> Truncate() => new("--truncate") { Description = "Cut inputs longer than the model's max_position_embeddings instead of failing." };

    /// <summary>Parses <c>--batch</c>: <see langword="null"/> for auto.</summary>
    public static BatchPolicy? ParseBatch(string text)
    {
        if (string.Equals(text, "auto", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int rows) || rows < 1)
        {
            throw new CliException($"--batch: expected 'auto' or a positive integer, got '{text}'.");
        }

        return rows == 1 ? BatchPolicy.PerRow : BatchPolicy.PaddingAware(maxRows: rows);
    }

    /// <summary>Reads the inputs (one per line of --file, or the --text).</summary>
    public static string[] ReadInputs(string? text, string? file) => TokenizeCommands.Inputs(text, file).ToArray();

    /// <summary>Opens the encoder of --model, mapping loading problems to exit code 2.</summary>
    public static TextEncoder OpenEncoder(string model, SessionOptions sessionOptions, bool truncate)
    {
        try
        {
            return TextEncoder.Open(model, sessionOptions, new TextEncoderOptions { Truncate = truncate });
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or ArgumentException)
        {
            throw new CliException($"--model: {ex.Message}", ExitCodes.BadInput, ex);
        }
    }

    /// <summary>Runs the scoring body, turning bad inputs (a text too long for the model) into exit code 2.</summary>
    public static async Task<T> Score<T>(Func<Task<T>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (ArgumentException ex) when (ex.ParamName == "texts")
        {
            throw new CliException("input " + ex.Message.Split(" (Parameter", 2)[0], ExitCodes.BadInput, ex);
        }
    }
}
