using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MLNetTransformers.Data;
using MLNetTransformers.Data.IO;
using MLNetTransformers.Data.Scoring;
using MLNetTransformers.Generation.Encoding;

namespace MLNetTransformers.Cli.Commands;

/// <summary>
/// <c>mlnt score --model DIR --task generate|embed|classify|tokenize --input F --output F [--batch auto|N] [--resume]
/// [--shard i/n|auto [--shard-count N]] [--text-column NAME] [--id-column NAME]</c>: batch scoring of a data file into a
/// row-aligned output (the id or <c>row</c>, the task's columns, <c>error</c>), written ahead batch by batch so that
/// <c>--resume</c> continues after a crash, and shardable into contiguous row ranges. See docs/scoring.md.
/// </summary>
internal static class ScoreCommand
{
    public static Command Create(CliConsole console)
    {
        var model = new Option<string>("--model") { Description = "A model folder (Hugging Face layout); for tokenize, a tokenizer folder or tokenizer.json.", Required = true };
        var task = new Option<string>("--task") { Description = "generate (columns generated, finish_reason), embed (embedding), classify (label, score, scores), or tokenize (input_ids, attention_mask).", Required = true };
        task.AcceptOnlyFromAmong(ScoreTasks.Names);
        var input = new Option<string>("--input") { Description = "The input file: .csv, .tsv, .jsonl or .idv (by extension).", Required = true };
        var output = new Option<string>("--output") { Description = "The output file: .csv, .tsv, .jsonl or .idv (by extension). .idv output is journaled to OUTPUT.partial.jsonl until the end.", Required = true };
        var batch = new Option<string>("--batch") { Description = "auto (the task measures and picks its batching) or N: rows per model batch, and rows written and flushed together.", DefaultValueFactory = _ => "auto" };
        var resume = new Option<bool>("--resume") { Description = "Keep the complete rows of an existing output (a torn last line is dropped) and score only the rows after them." };
        var shard = new Option<string?>("--shard") { Description = "i/n: score the i-th of n contiguous row ranges (0-based); auto: from JOB_COMPLETION_INDEX (Kubernetes indexed Job) or SLURM_ARRAY_TASK_ID (Slurm array)." };
        var shardCount = new Option<int?>("--shard-count") { Description = "With --shard auto: the number of shards (default: MLNT_SHARD_COUNT, or SLURM_ARRAY_TASK_COUNT)." };
        var textColumn = new Option<string>("--text-column") { Description = "The input's text column.", DefaultValueFactory = _ => "text" };
        var idColumn = new Option<string?>("--id-column") { Description = "An input column copied to the output to identify rows (default: the 0-based input row number as 'row')." };
        var maxLength = new Option<int?>("--max-length") { Description = "embed/classify/tokenize: the most tokens per input." };
        var truncate = new Option<bool>("--truncate") { Description = "Cut inputs longer than the model allows instead of giving those rows an error." };
        var pooling = new Option<string>("--pooling") { Description = "embed: mean (mask-weighted), cls (first token) or last (last non-padding token).", DefaultValueFactory = _ => "mean" };
        pooling.AcceptOnlyFromAmong("mean", "cls", "last");
        var normalize = new Option<bool>("--normalize") { Description = "embed: scale every vector to unit L2 norm." };
        var generation = new GenerationCliOptions();
        var runtime = new RuntimeOptions();
        var command = new Command("score", "Score a data file (CSV, TSV, JSON Lines, .idv) with a model, row by row, restartably and shardably.")
        {
            model, task, input, output, batch, resume, shard, shardCount, textColumn, idColumn, maxLength, truncate, pooling, normalize,
        };
        generation.AddTo(command);
        runtime.AddTo(command);
        command.SetAction((parse, cancellationToken) =>
        {
            try
            {
                int? batchSize = ParseBatch(parse.GetValue(batch)!);
                Shard selected = ParseShard(parse.GetValue(shard), parse.GetValue(shardCount));
                string inputPath = parse.GetValue(input)!;
                string outputPath = parse.GetValue(output)!;
                if (!ScoreOutputWriter.IsSupported(inputPath))
                {
                    throw new CliException($"--input: cannot tell the format of '{inputPath}' from its extension; use .csv, .tsv, .jsonl or .idv.");
                }

                if (!ScoreOutputWriter.IsSupported(outputPath))
                {
                    throw new CliException($"--output: cannot tell the format of '{outputPath}' from its extension; use .csv, .tsv, .jsonl or .idv.");
                }

                if (string.Equals(Path.GetFullPath(inputPath), Path.GetFullPath(outputPath), StringComparison.Ordinal))
                {
                    throw new CliException($"--output: '{outputPath}' is the input file; write the output elsewhere.");
                }

                if (!parse.GetValue(resume) && File.Exists(outputPath + ".partial.jsonl") && Path.GetExtension(outputPath).Equals(".idv", StringComparison.OrdinalIgnoreCase))
                {
                    File.Delete(outputPath + ".partial.jsonl");
                }

                ScoreTasks.Definition definition = ScoreTasks.Get(parse.GetValue(task)!);
                var settings = new ScoreTasks.Settings(
                    parse.GetValue(model)!,
                    parse.GetValue(textColumn)!,
                    batchSize,
                    parse.GetValue(maxLength),
                    parse.GetValue(truncate),
                    definition.Name == "generate" ? generation.Build(parse) : null,
                    () => runtime.CreateSessionOptions(console, parse))
                {
                    Pooling = parse.GetValue(pooling) switch { "cls" => PoolingStrategy.Cls, "last" => PoolingStrategy.LastToken, _ => PoolingStrategy.Mean },
                    Normalize = parse.GetValue(normalize),
                    Report = line => console.Err.WriteLine("mlnt: " + line),
                };
                var context = new TransformersContext();
                var progress = new ProgressLine(console.Err);
                var options = new ScoringJobOptions
                {
                    InputPath = inputPath,
                    OutputPath = outputPath,
                    TextColumnName = settings.TextColumn,
                    IdColumnName = parse.GetValue(idColumn),
                    OutputColumns = definition.Outputs,
                    Shard = selected,
                    Resume = parse.GetValue(resume),
                    WriteBatchSize = batchSize ?? 32,
                    OnBadRow = bad => console.Err.WriteLine($"mlnt: warning: {bad} (its output row carries this error; the job goes on)"),
                    Progress = progress,
                };

                ScoringResult result;
                try
                {
                    result = ScoringJob.Run(context, options, () => definition.Create(context, settings), cancellationToken);
                }
                catch (ScoringColumnException ex)
                {
                    throw new CliException($"{(ex.ParamName == nameof(ScoringJobOptions.IdColumnName) ? "--id-column" : "--text-column")}: {ex.Message.Split(" (Parameter", 2)[0]}", ExitCodes.BadInput, ex);
                }
                catch (DataFormatException ex)
                {
                    throw new CliException($"--input: {ex.Message}", ExitCodes.BadInput, ex);
                }
                catch (IOException ex) when (ex is not FileNotFoundException && ex.Message.Contains(inputPath, StringComparison.Ordinal))
                {
                    throw new CliException($"--input: {ex.Message}", ExitCodes.BadInput, ex);
                }
                catch (IOException ex) when (ex is not FileNotFoundException && ex.Message.Contains(outputPath, StringComparison.Ordinal))
                {
                    throw new CliException($"--output: {ex.Message}", ExitCodes.BadInput, ex);
                }
                catch (InvalidDataException ex)
                {
                    throw new CliException($"--resume: {ex.Message}", ExitCodes.BadInput, ex);
                }

                progress.Finish();
                console.Err.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"mlnt: scored {result.Written} rows ({result.Errors} with errors) of shard {selected} (rows {result.ShardStart}..{result.ShardEnd - 1} of {result.InputRows}){(result.Resumed > 0 ? $", {result.Resumed} kept from before" : string.Empty)} into {outputPath}"));
                return Task.FromResult(ExitCodes.Success);
            }
            catch (Exception ex)
            {
                return Task.FromResult(console.Fail(ex));
            }
        });
        return command;
    }

    /// <summary>Parses <c>--batch</c>: <see langword="null"/> for auto.</summary>
    internal static int? ParseBatch(string text)
    {
        if (string.Equals(text, "auto", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int rows) && rows >= 1
            ? rows
            : throw new CliException($"--batch: expected 'auto' or a positive integer, got '{text}'.");
    }

    /// <summary>Parses <c>--shard</c> and <c>--shard-count</c>.</summary>
    internal static Shard ParseShard(string? text, int? count)
    {
        if (text is null)
        {
            return count is null ? Shard.All : throw new CliException("--shard-count: only with --shard auto.");
        }

        try
        {
            if (string.Equals(text, "auto", StringComparison.OrdinalIgnoreCase))
            {
                return Shard.FromEnvironment(count);
            }

            return count is null ? Shard.Parse(text) : throw new CliException("--shard-count: only with --shard auto.");
        }
        catch (FormatException ex)
        {
            throw new CliException($"--shard: {ex.Message}", ExitCodes.BadInput, ex);
        }
    }

    /// <summary>Progress on stderr: a self-rewriting line on a terminal, else a plain line every few seconds.</summary>
    private sealed class ProgressLine(TextWriter writer) : IProgress<ScoringProgress>
    {
        private readonly bool _terminal = ReferenceEquals(writer, Console.Error) && !Console.IsErrorRedirected;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private TimeSpan? _last;
        private ScoringProgress _latest;
        private bool _drawn;

        public void Report(ScoringProgress value)
        {
            _latest = value;
            TimeSpan interval = _terminal ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromSeconds(5);
            if (_last is { } last && _clock.Elapsed - last < interval && value.Done < value.Total)
            {
                return;
            }

            _last = _clock.Elapsed;
            Draw();
        }

        public void Finish()
        {
            if (_terminal && _drawn)
            {
                writer.WriteLine();
            }
        }

        private void Draw()
        {
            ScoringProgress p = _latest;
            double seconds = Math.Max(_clock.Elapsed.TotalSeconds, 1e-3);
            double rate = (p.Done - p.Resumed) / seconds;
            string eta = rate > 0 && p.Total > p.Done ? TimeSpan.FromSeconds(Math.Round((p.Total - p.Done) / rate)).ToString("c", CultureInfo.InvariantCulture) : "--";
            double percent = p.Total > 0 ? 100.0 * p.Done / p.Total : 100;
            string bar = _terminal ? "[" + new string('#', (int)(percent / 5)).PadRight(20, '.') + "] " : string.Empty;
            string line = string.Create(CultureInfo.InvariantCulture, $"{bar}{p.Done}/{p.Total} rows ({percent:0.0}%), {rate:0.0} rows/s, ETA {eta}, {p.Errors} errors");
            if (_terminal)
            {
                writer.Write("\r" + line.PadRight(79));
            }
            else
            {
                writer.WriteLine("mlnt: progress: " + line);
            }

            writer.Flush();
            _drawn = true;
        }
    }
}
