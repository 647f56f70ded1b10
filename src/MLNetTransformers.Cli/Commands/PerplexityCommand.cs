using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MLNetTransformers.Generation;
using MLNetTransformers.OnnxRuntime;
using MLNetTransformers.Tokenizers;

namespace MLNetTransformers.Cli.Commands;

/// <summary>
/// <c>mlnt perplexity --model DIR --file F [--window N] [--stride N]</c>: the perplexity of a causal decoder on a text file, by the
/// reference procedure (each line <c>[bos] + ids + [eos]</c>, lines concatenated, independent windows of <c>--window</c> inputs
/// every <c>--stride</c> tokens). JSON: <c>{"perplexity", "tokens", "windows", "nll", ...}</c>.
/// </summary>
internal static class PerplexityCommand
{
    public static Command Create(CliConsole console)
    {
        var model = new Option<string>("--model") { Description = "A model folder (Hugging Face layout, with a tokenizer), or an .onnx file in one.", Required = true };
        var file = new Option<string>("--file") { Description = "A UTF-8 text file; each line is one document ([bos] + tokens + [eos]).", Required = true };
        var window = new Option<int>("--window") { Description = "Input tokens per window (default 256).", DefaultValueFactory = _ => 256 };
        var stride = new Option<int?>("--stride") { Description = "Tokens between window starts, 1..window (default: the window; smaller strides give later tokens more context)." };
        var batch = new Option<int>("--batch-size") { Description = "Windows of equal length per run (default 1).", DefaultValueFactory = _ => 1 };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "Evaluate only the first N tokens of the stream." };
        var variant = new Option<string?>("--variant") { Description = "The ONNX file of the folder to use: a variant (quantized, fp16, q4, ...) or a file name in onnx/." };
        var json = new Option<bool>("--json") { Description = "Write the result as one JSON object to stdout." };
        var runtime = new RuntimeOptions();
        var command = new Command("perplexity", "Perplexity of a causal language model on a text file (independent fixed windows; every token but the first predicted once).")
        {
            model, file, window, stride, batch, maxTokens, variant, json,
        };
        runtime.AddTo(command);
        command.SetAction((parse, cancellationToken) =>
        {
            try
            {
                var request = new Request(
                    parse.GetValue(model)!,
                    parse.GetValue(file)!,
                    parse.GetValue(window),
                    parse.GetValue(stride),
                    parse.GetValue(batch),
                    parse.GetValue(maxTokens),
                    parse.GetValue(variant),
                    parse.GetValue(json));
                return Task.FromResult(Run(console, request, parse, runtime, cancellationToken));
            }
            catch (Exception ex)
            {
                return Task.FromResult(console.Fail(ex));
            }
        });
        return command;
    }

    /// <summary>
    /// Reads the lines of a text file the way the reference procedure does: split on <c>\n</c>, the final empty element (after a
    /// trailing newline) dropped; a <c>\r</c> before the <c>\n</c> is removed.
    /// </summary>
    internal static string[] ReadLines(string path)
    {
        string text = File.ReadAllText(path);
        if (text.Length == 0)
        {
            return [];
        }

        string[] lines = text.Split('\n');
        if (lines[^1].Length == 0)
        {
            lines = lines[..^1];
        }

        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].EndsWith('\r'))
            {
                lines[i] = lines[i][..^1];
            }
        }

        return lines;
    }

    private static int Run(CliConsole console, Request request, ParseResult parse, RuntimeOptions runtime, CancellationToken cancellationToken)
    {
        if (request.Window < 1)
        {
            throw new CliException($"--window: expected a positive number of tokens, got {request.Window}.");
        }

        int stride = request.Stride ?? request.Window;
        if (stride < 1 || stride > request.Window)
        {
            throw new CliException($"--stride: expected 1..{request.Window} (at most the window), got {stride}.");
        }

        if (request.BatchSize < 1)
        {
            throw new CliException($"--batch-size: expected a positive number, got {request.BatchSize}.");
        }

        if (request.MaxTokens is < 2)
        {
            throw new CliException($"--max-tokens: expected at least 2, got {request.MaxTokens}.");
        }

        string textFile = Path.GetFullPath(request.File);
        if (!File.Exists(textFile))
        {
            throw new CliException($"--file: no such file: {textFile}");
        }

        ModelFolder folder = OpenFolder(request.Model);
        string modelFile = folder.ModelFile;
        if (request.Variant is not null)
        {
            modelFile = Guard(() => folder.ResolveOnnxFile(request.Variant), "--variant");
        }

        if (folder.Config?.MaxPositionEmbeddings is { } maxPositions && request.Window > maxPositions)
        {
            throw new CliException($"--window: {request.Window} is longer than the model's max_position_embeddings ({maxPositions}, config.json).");
        }

        if (!folder.HasTokenizer)
        {
            throw new CliException($"--model: no tokenizer.json or tokenizer.model in {folder.Directory}; perplexity needs the model's tokenizer.");
        }

        Tokenizer tokenizer = Guard(folder.LoadTokenizer, "--model");
        var stopwatch = Stopwatch.StartNew();
        int[] tokens = PerplexityEvaluator.BuildTokenStream(tokenizer, ReadLines(textFile), cancellationToken: cancellationToken);
        if (request.MaxTokens is { } max && tokens.Length > max)
        {
            tokens = tokens[..max];
        }

        if (tokens.Length < 2)
        {
            throw new CliException($"--file: {textFile} has no tokens to evaluate ({(tokens.Length == 0 ? "it is empty" : "one token")}).");
        }

        double tokenizeSeconds = stopwatch.Elapsed.TotalSeconds;
        SessionOptions options = runtime.CreateSessionOptions(console, parse);
        using var session = new InferenceSession(modelFile, options);
        var evaluator = new PerplexityEvaluator(session, DecoderSignature.FromSession(session, folder.Config));
        var evaluation = new PerplexityOptions { Window = request.Window, Stride = stride, BatchSize = request.BatchSize };
        int windows = PerplexityEvaluator.PlanWindows(tokens.Length, request.Window, stride).Count;
        console.Err.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mlnt: perplexity: {Path.GetFileName(textFile)}: {tokens.Length} tokens, {windows} window{(windows == 1 ? string.Empty : "s")} of {request.Window} (stride {stride}) on {string.Join(", ", session.EffectiveProviders)}"));

        stopwatch.Restart();
        PerplexityResult result;
        try
        {
            result = evaluator.Evaluate(tokens, evaluation, new ProgressLines(console.Err, stopwatch), cancellationToken);
        }
        catch (ArgumentException ex)
        {
            throw new CliException($"--file: {ex.Message.Split(" (Parameter", 2)[0]}", ExitCodes.BadInput, ex);
        }

        double seconds = stopwatch.Elapsed.TotalSeconds;
        if (request.Json)
        {
            console.WriteJsonLine(w =>
            {
                WriteFinite(w, "perplexity", result.Perplexity);
                w.WriteNumber("tokens", result.PredictedTokens);
                w.WriteNumber("windows", result.Windows.Count);
                WriteFinite(w, "nll", result.Nll);
                WriteFinite(w, "mean_nll", result.MeanNll);
                w.WriteNumber("stream_tokens", result.StreamTokens);
                w.WriteNumber("window", result.Window);
                w.WriteNumber("stride", result.Stride);
                w.WriteString("model", modelFile);
                w.WriteString("file", textFile);
                w.WriteNumber("seconds", Math.Round(seconds, 3));
                w.WriteNumber("tokenize_seconds", Math.Round(tokenizeSeconds, 3));
                w.WriteNumber("tokens_per_s", Math.Round(result.PredictedTokens / Math.Max(seconds, 1e-9), 1));
            });
        }
        else
        {
            console.Err.WriteLine(string.Create(CultureInfo.InvariantCulture, $"perplexity:        {result.Perplexity:F4}"));
            console.Err.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mean NLL:          {result.MeanNll:F6} nats (total {result.Nll:F3})"));
            console.Err.WriteLine(string.Create(CultureInfo.InvariantCulture, $"predicted tokens:  {result.PredictedTokens} of {result.StreamTokens} in the stream"));
            console.Err.WriteLine(string.Create(CultureInfo.InvariantCulture, $"windows:           {result.Windows.Count} of {result.Window} tokens, stride {result.Stride}"));
            console.Err.WriteLine($"model:             {modelFile}");
            console.Err.WriteLine(string.Create(CultureInfo.InvariantCulture, $"time:              {seconds:F2} s ({result.PredictedTokens / Math.Max(seconds, 1e-9):F0} tokens/s; tokenizing {tokenizeSeconds:F2} s)"));
        }

        return ExitCodes.Success;
    }

    /// <summary>JSON has no NaN or infinity: a broken model's non-finite loss is written as null.</summary>
    private static void WriteFinite(System.Text.Json.Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value))
        {
            w.WriteNumber(name, value);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static ModelFolder OpenFolder(string model) => Guard(() => ModelFolder.Open(model), "--model");

    /// <summary>Turns the model folder's file errors into one-line usage errors prefixed with the option.</summary>
    private static T Guard<T>(Func<T> body, string option)
    {
        try
        {
            return body();
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or NotSupportedException or ArgumentException)
        {
            throw new CliException($"{option}: {ex.Message.Split(" (Parameter", 2)[0]}", ExitCodes.BadInput, ex);
        }
    }

    private sealed record Request(string Model, string File, int Window, int? Stride, int BatchSize, int? MaxTokens, string? Variant, bool Json);

    /// <summary>Progress on stderr: a line at most every 2 seconds, synchronously on the evaluating thread.</summary>
    private sealed class ProgressLines(TextWriter writer, Stopwatch stopwatch) : IProgress<PerplexityProgress>
    {
        private TimeSpan _last = TimeSpan.Zero;

        public void Report(PerplexityProgress value)
        {
            if (value.WindowsDone == value.Windows || stopwatch.Elapsed - _last < TimeSpan.FromSeconds(2))
            {
                return;
            }

            _last = stopwatch.Elapsed;
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mlnt: perplexity: {value.WindowsDone}/{value.Windows} windows, {value.PredictedTokens} tokens, running perplexity {value.Perplexity:F4}"));
        }
    }
}
