using System.CommandLine;
using System.Globalization;
using MLNetTransformers.Generation.Encoding;

namespace MLNetTransformers.Cli.Commands;

/// <summary><c>mlnt classify</c>: per input line <c>{"label","score","scores":{label: probability}}</c> with <c>--json</c>.</summary>
internal static class ClassifyCommand
{
    public static Command Create(CliConsole console)
    {
        var model = TokenizeCommands.ModelOption();
        var text = new Option<string?>("--text") { Description = "The text to classify (one input)." };
        var file = new Option<string?>("--file") { Description = "A UTF-8 file: each line is one input." };
        var json = new Option<bool>("--json") { Description = "One JSON object per input line: {\"label\", \"score\", \"scores\"}." };
        var batch = EncoderCommandSupport.Batch();
        var truncate = EncoderCommandSupport.Truncate();
        var runtime = new RuntimeOptions();
        var command = new Command("classify", "Classify text with a sequence-classification model (softmax over logits, labels from config.json id2label).")
        {
            model, text, file, json, batch, truncate,
        };
        runtime.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                BatchPolicy? policy = EncoderCommandSupport.ParseBatch(parse.GetValue(batch)!);
                string[] inputs = EncoderCommandSupport.ReadInputs(parse.GetValue(text), parse.GetValue(file));
                TextEncoder encoder = EncoderCommandSupport.OpenEncoder(parse.GetValue(model)!, runtime.CreateSessionOptions(console, parse), parse.GetValue(truncate));
                Classifier classifier;
                try
                {
                    classifier = new Classifier(encoder, new ClassifierOptions { BatchPolicy = policy ?? BatchPolicy.PaddingAware() }, ownsEncoder: true);
                }
                catch (InvalidDataException ex)
                {
                    encoder.Dispose();
                    throw new CliException($"--model: {ex.Message}", ExitCodes.BadInput, ex);
                }

                using (classifier)
                {
                    if (policy is null && inputs.Length > 1)
                    {
                        string[] sample = inputs.Take(64).ToArray();
                        BatchPolicy chosen = await EncoderCommandSupport.Score(() => BatchPolicy.ChooseAsync(
                            null,
                            (candidate, token) => Task.Run(() => classifier.Encoder.Score(sample, [classifier.Options.OutputName], new PaddingAwareBatcher(candidate), o => new int[o.Rows], token), token),
                            cancellationToken: cancellationToken)).ConfigureAwait(false);
                        classifier.UseBatchPolicy(chosen);
                        console.Err.WriteLine($"mlnt: batch policy: {chosen}");
                    }

                    ClassificationResult[] results = await EncoderCommandSupport.Score(() => classifier.ClassifyAsync(inputs, cancellationToken)).ConfigureAwait(false);
                    bool asJson = parse.GetValue(json);
                    foreach (ClassificationResult result in results)
                    {
                        if (asJson)
                        {
                            console.WriteJsonLine(w =>
                            {
                                w.WriteString("label", result.Label);
                                w.WriteNumber("score", result.Score);
                                w.WriteStartObject("scores");
                                foreach (var (label, score) in result.Scores)
                                {
                                    w.WriteNumber(label, score);
                                }

                                w.WriteEndObject();
                            });
                        }
                        else
                        {
                            console.Out.WriteLine($"{result.Label}\t{result.Score.ToString("R", CultureInfo.InvariantCulture)}");
                        }
                    }
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
}
