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
        var maxNewTokens = new Option<int?>("--max-new-tokens") { Description = "Most tokens to generate (default: generation_config.json, else 20)." };
        var greedy = new Option<bool>("--greedy") { Description = "Pick the most likely token at every step (the default unless a sampling option is given)." };
        var temperature = new Option<float?>("--temperature") { Description = "Sampling temperature (> 0; 0 means greedy)." };
        var topK = new Option<int?>("--top-k") { Description = "Sample among the K most likely tokens (0 = all)." };
        var topP = new Option<float?>("--top-p") { Description = "Sample among the most likely tokens holding probability P, in (0, 1]." };
        var minP = new Option<float?>("--min-p") { Description = "Drop tokens less likely than M times the most likely one, in [0, 1]." };
        var seed = new Option<ulong?>("--seed") { Description = "Random seed: the same seed gives the same output." };
        var repetitionPenalty = new Option<float?>("--repetition-penalty") { Description = "Penalty for tokens already present (> 0; 1 = none)." };
        var numBeams = new Option<int>("--num-beams") { Description = "Beam search width (1 = no beam search). Beam search prints the best sequence when it is done.", DefaultValueFactory = _ => 1 };
        var stop = new Option<string[]>("--stop") { Description = "Stop when this text is generated (trimmed from the output). Repeatable.", Arity = ArgumentArity.ZeroOrMore };
        var json = new Option<bool>("--json") { Description = "Write one JSON object with ids, text and finish reason instead of streaming text." };
        var sequences = new Option<int>("--num-return-sequences") { Description = "Sequences to return: beam search's best N, or N samples (with --json one object per sequence).", DefaultValueFactory = _ => 1 };
        var dtype = new Option<string?>("--dtype") { Description = $"The ONNX variant, named as transformers.js names them: {string.Join(", ", ModelFolder.Dtypes)} (default: onnx/model.onnx)." };
        var truncate = new Option<string>("--truncate") { Description = "A prompt too long for the context: 'none' (an error) or 'left' (drop its oldest tokens, keeping BOS).", DefaultValueFactory = _ => "none" };
        truncate.AcceptOnlyFromAmong("none", "left");
        var runtime = new RuntimeOptions();
        var command = new Command("generate", "Generate text with a decoder model, streaming it to stdout.")
        {
            model, prompt, promptArgument, maxNewTokens, greedy, temperature, topK, topP, minP, seed, repetitionPenalty, numBeams, stop, json, dtype, truncate, sequences,
        };
        runtime.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                string text = parse.GetValue(prompt) ?? parse.GetValue(promptArgument) ?? string.Empty;
                int beams = parse.GetValue(numBeams);
                if (beams < 1)
                {
                    throw new CliException($"--num-beams: expected a positive number, got {beams}.");
                }

                bool sampling = !parse.GetValue(greedy)
                    && (parse.GetValue(temperature) is not null || parse.GetValue(topK) is not null || parse.GetValue(topP) is not null
                        || parse.GetValue(minP) is not null || parse.GetValue(seed) is not null);
                GenerationOptions options;
                try
                {
                    options = new GenerationOptions
                    {
                        MaxNewTokens = parse.GetValue(maxNewTokens),
                        DoSample = sampling,
                        Temperature = parse.GetValue(temperature) ?? 1f,
                        TopK = parse.GetValue(topK) ?? 50,
                        TopP = parse.GetValue(topP) ?? 1f,
                        MinP = parse.GetValue(minP),
                        Seed = parse.GetValue(seed),
                        RepetitionPenalty = parse.GetValue(repetitionPenalty) ?? 1f,
                        StopStrings = parse.GetValue(stop) is { Length: > 0 } stops ? stops : null,
                        NumBeams = beams,
                        NumReturnSequences = parse.GetValue(sequences),
                        Truncation = parse.GetValue(truncate) == "left" ? PromptTruncation.Left : PromptTruncation.None,
                    };
                }
                catch (ArgumentOutOfRangeException ex)
                {
                    throw new CliException($"--{Kebab(ex.ParamName)}: {ex.Message.Split(" (Parameter", 2)[0]}");
                }

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

    private static string Kebab(string? name) => string.Concat((name ?? "option").Select((c, i) => char.IsUpper(c) ? (i > 0 ? "-" : string.Empty) + char.ToLowerInvariant(c) : c.ToString()));
}
