using System.CommandLine;
using MLNetTransformers.Generation;
using MLNetTransformers.Generation.Decoding;
using MLNetTransformers.Generation.Text;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Cli.Commands;

/// <summary>
/// <c>mlnt generate --model DIR [--prompt T | T] ...</c>: streams generated text to stdout; with <c>--json</c> one object
/// <c>{"prompt_ids", "new_ids", "text", "finish_reason"}</c>.
/// </summary>
internal static class GenerateCommand
{
    public static Command Create(CliConsole console)
    {
        var model = new Option<string>("--model") { Description = "A model folder (Hugging Face layout: config, tokenizer, onnx/model.onnx).", Required = true };
        var prompt = new Option<string?>("--prompt") { Description = "The prompt (or give it as the argument)." };
        var promptArgument = new Argument<string?>("prompt") { Description = "The prompt.", Arity = ArgumentArity.ZeroOrOne };
        var generation = new GenerationCliOptions();
        var json = new Option<bool>("--json") { Description = "Write one JSON object with ids, text and finish reason instead of streaming text." };
        var sequences = new Option<int>("--num-return-sequences") { Description = "Sequences to return: beam search's best N, or N samples (with --json one object per sequence).", DefaultValueFactory = _ => 1 };
        var dtype = new Option<string?>("--dtype") { Description = $"The ONNX variant, named as transformers.js names them: {string.Join(", ", ModelFolder.Dtypes)} (default: onnx/model.onnx)." };
        var truncate = new Option<string>("--truncate") { Description = "A prompt too long for the context: 'none' (an error) or 'left' (drop its oldest tokens, keeping BOS).", DefaultValueFactory = _ => "none" };
        truncate.AcceptOnlyFromAmong("none", "left");
        var runtime = new RuntimeOptions();
        var command = new Command("generate", "Generate text with a decoder model, streaming it to stdout.")
        {
            model, prompt, promptArgument, json, dtype, truncate, sequences,
        };
        generation.AddTo(command);
        runtime.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                string text = parse.GetValue(prompt) ?? parse.GetValue(promptArgument) ?? string.Empty;
                GenerationOptions options = generation.Build(
                    parse, parse.GetValue(sequences), parse.GetValue(truncate) == "left" ? PromptTruncation.Left : PromptTruncation.None);
                int beams = options.NumBeams;

                SessionOptions sessionOptions = runtime.CreateSessionOptions(console, parse);
                ModelFolder folder;
                try
                {
                    folder = ModelFolder.Open(parse.GetValue(model)!, parse.GetValue(dtype));
                }
                catch (ArgumentException ex) when (ex.ParamName == "dtype")
                {
                    throw new CliException($"--dtype: {ex.Message.Split(" (Parameter", 2)[0]}", ExitCodes.BadInput, ex);
                }
                catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or ArgumentException)
                {
                    throw new CliException($"--model: {ex.Message}", ExitCodes.BadInput, ex);
                }

                using var generator = new Generator(folder, sessionOptions);
                GenerationResult? result = null;
                IReadOnlyList<GenerationResult> results = [];
                try
                {
                    if (beams > 1 || options.NumReturnSequences > 1)
                    {
                        results = generator.GenerateSequences(generator.Encode(text), options, cancellationToken);
                        result = results[0];
                        if (!parse.GetValue(json))
                        {
                            await console.Out.WriteAsync(string.Join(Environment.NewLine, results.Select(r => r.Text))).ConfigureAwait(false);
                        }
                    }
                    else
                    {
                        await foreach (GenerationUpdate update in generator.GenerateAsync(text, options, cancellationToken).ConfigureAwait(false))
                        {
                            if (!parse.GetValue(json) && update.Text.Length > 0)
                            {
                                await console.Out.WriteAsync(update.Text).ConfigureAwait(false);
                                await console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
                            }

                            result = update.Result ?? result;
                        }
                    }
                }
                catch (ArgumentException ex)
                {
                    throw new CliException(ex.Message.Split(" (Parameter", 2)[0], ExitCodes.BadInput, ex);
                }

                if (result is null)
                {
                    throw new InvalidOperationException("generation ended without a result");
                }

                if (parse.GetValue(json))
                {
                    foreach (GenerationResult sequence in results.Count > 0 ? results : [result])
                    {
                        WriteJson(console, sequence);
                    }
                }
                else
                {
                    await console.Out.WriteLineAsync().ConfigureAwait(false);
                    console.Err.WriteLine($"[{result.NewIds.Count} tokens, finish reason {result.FinishReason.ToJsonString()}]");
                }

                return ExitCodes.Success;
            }
            catch (Exception ex)
            {
                return console.Fail(ex);
            }
        });
        return command;
    }

    private static void WriteJson(CliConsole console, GenerationResult result) =>
        console.WriteJsonLine(w =>
        {
            w.WriteStartArray("prompt_ids");
            foreach (int id in result.PromptIds)
            {
                w.WriteNumberValue(id);
            }

            w.WriteEndArray();
            w.WriteStartArray("new_ids");
            foreach (int id in result.NewIds)
            {
                w.WriteNumberValue(id);
            }

            w.WriteEndArray();
            w.WriteString("text", result.Text);
            w.WriteString("finish_reason", result.FinishReason.ToJsonString());
            if (result.Score is { } score)
            {
                w.WriteNumber("score", score);
            }
        });
}
