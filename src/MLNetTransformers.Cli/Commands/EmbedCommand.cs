using System.CommandLine;
using System.Globalization;
using MLNetTransformers.Generation.Encoding;

namespace MLNetTransformers.Cli.Commands;

/// <summary><c>mlnt embed</c>: one vector per input line, <c>{"embedding":[...]}</c> with <c>--json</c>.</summary>
internal static class EmbedCommand
{
    public static Command Create(CliConsole console)
    {
        var model = TokenizeCommands.ModelOption();
        var text = new Option<string?>("--text") { Description = "The text to embed (one input)." };
        var file = new Option<string?>("--file") { Description = "A UTF-8 file: each line is one input." };
        var json = new Option<bool>("--json") { Description = "One JSON object per input line: {\"embedding\": [...]}." };
        var pooling = new Option<string>("--pooling") { Description = "mean (mask-weighted), cls (first token) or last (last non-padding token).", DefaultValueFactory = _ => "mean" };
        pooling.AcceptOnlyFromAmong("mean", "cls", "last");
        var normalize = new Option<bool>("--normalize") { Description = "Scale every vector to unit L2 norm." };
        var batch = EncoderCommandSupport.Batch();
        var truncate = EncoderCommandSupport.Truncate();
        var runtime = new RuntimeOptions();
        var command = new Command("embed", "Embed text with an encoder model (pooled last_hidden_state).") { model, text, file, json, pooling, normalize, batch, truncate };
        runtime.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                BatchPolicy? policy = EncoderCommandSupport.ParseBatch(parse.GetValue(batch)!);
                string[] inputs = EncoderCommandSupport.ReadInputs(parse.GetValue(text), parse.GetValue(file));
                var options = new EmbedderOptions
                {
                    Pooling = parse.GetValue(pooling) switch { "cls" => PoolingStrategy.Cls, "last" => PoolingStrategy.LastToken, _ => PoolingStrategy.Mean },
                    Normalize = parse.GetValue(normalize),
                    BatchPolicy = policy ?? BatchPolicy.PaddingAware(),
                };
                using var embedder = new Embedder(EncoderCommandSupport.OpenEncoder(parse.GetValue(model)!, runtime.CreateSessionOptions(console, parse), parse.GetValue(truncate)), options, ownsEncoder: true);
                if (policy is null && inputs.Length > 1)
                {
                    BatchPolicy chosen = await EncoderCommandSupport.Score(() => embedder.ChooseBatchPolicyAsync(inputs, cancellationToken: cancellationToken)).ConfigureAwait(false);
                    console.Err.WriteLine($"mlnt: batch policy: {chosen}");
                }

                float[][] vectors = await EncoderCommandSupport.Score(() => embedder.EmbedAsync(inputs, cancellationToken)).ConfigureAwait(false);
                bool asJson = parse.GetValue(json);
                foreach (float[] vector in vectors)
                {
                    if (asJson)
                    {
                        console.WriteJsonLine(w =>
                        {
                            w.WriteStartArray("embedding");
                            foreach (float v in vector)
                            {
                                w.WriteNumberValue(v);
                            }

                            w.WriteEndArray();
                        });
                    }
                    else
                    {
                        console.Out.WriteLine(string.Join(' ', vector.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
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
