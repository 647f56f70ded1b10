using System.CommandLine;
using System.Diagnostics;
using System.Text;
using MLNetTransformers.Generation.Encoding;
using MLNetTransformers.Tokenizers;

namespace MLNetTransformers.Cli.Commands;

/// <summary>
/// <c>mlnt bench</c>: in-process timings after a warm-up, as one JSON object
/// <c>{"scenario", "tokens_per_s", "ttft_ms", "p50_ms", "p95_ms", "peak_rss_mb"}</c> (tokenize adds <c>"mb_per_s"</c>).
/// </summary>
internal static class BenchCommand
{
    /// <summary>The scenarios.</summary>
    private static readonly string[] Scenarios = ["tokenize", "decode", "prefill", "batch", "encode"];

    public static Command Create(CliConsole console)
    {
        var model = TokenizeCommands.ModelOption();
        var scenario = new Option<string>("--scenario") { Description = "What to measure: tokenize, decode (per generated token), prefill (the prompt pass) or encode (embedding rows per second: per-row vs fixed-size vs padding-aware batches; builds a BERT-shaped model into --model when it has no ONNX file).", DefaultValueFactory = _ => "tokenize" };
        var prompt = new Option<string?>("--prompt") { Description = "decode/prefill: the prompt (default: a fixed dictionary-style prompt; prefill repeats it to about 200 tokens)." };
        var newTokens = new Option<int>("--new-tokens") { Description = "decode: tokens generated per run (default 64; EOS is ignored so every run has the same length).", DefaultValueFactory = _ => 64 };
        var runtime = new RuntimeOptions();
        var file = new Option<string?>("--file") { Description = "Input text, one item per line (default: about 1 MB of built-in English prose)." };
        var seconds = new Option<double>("--seconds") { Description = "How long to measure after the warm-up (default 3).", DefaultValueFactory = _ => 3.0 };
        var json = new Option<bool>("--json") { Description = "Write the result as one JSON object to stdout." };
        var concurrency = new Option<int?>("--concurrency") { Description = "batch: concurrent streams (default: 1, 4, 8 and 16 in turn)." };
        var rows = new Option<int>("--rows") { Description = "encode: rows scored per policy (default 2000).", DefaultValueFactory = _ => 2000 };
        var tokenBudget = new Option<long>("--token-budget") { Description = "encode: the padding-aware token budget, rows x padded length per run (default 8192).", DefaultValueFactory = _ => BatchPolicy.DefaultTokenBudget };
        var chunk = new Option<int>("--chunk") { Description = "encode: rows per interleaved chunk (every policy scores each chunk in turn; padding-aware sorts within it); 0 = all rows at once (default 250).", DefaultValueFactory = _ => 250 };
        var command = new Command("bench", "Measure throughput and latency in-process after a warm-up.") { model, scenario, file, seconds, json, prompt, newTokens, concurrency, rows, tokenBudget, chunk };
        runtime.AddTo(command);
        command.SetAction(parse => TokenizeCommands.Run(console, () =>
        {
            string name = parse.GetValue(scenario)!;
            if (!Scenarios.Contains(name))
            {
                throw new CliException($"--scenario: unknown scenario '{name}' (available: {string.Join(", ", Scenarios)}).");
            }

            double duration = parse.GetValue(seconds);
            if (duration <= 0)
            {
                throw new CliException($"--seconds: expected a positive number, got {duration}.");
            }

            if (name == "batch")
            {
                if (parse.GetValue(concurrency) is < 1 and var streams)
                {
                    throw new CliException($"--concurrency: expected a positive number, got {streams}.");
                }

                BatchBench.Run(console, parse.GetValue(model)!, Math.Max(1, parse.GetValue(newTokens)), TimeSpan.FromSeconds(duration), parse.GetValue(concurrency), runtime.CreateSessionOptions(console, parse), parse.GetValue(json));
                return;
            }

            if (name == "encode")
            {
                int count = parse.GetValue(rows);
                if (count < 1)
                {
                    throw new CliException($"--rows: expected a positive number, got {count}.");
                }

                long budget = parse.GetValue(tokenBudget);
                if (budget < 1)
                {
                    throw new CliException($"--token-budget: expected a positive number, got {budget}.");
                }

                EncodeBench.Run(console, new EncodeBenchRequest(parse.GetValue(model)!, count, FixedBatch: 32, budget, Seed: 1, Chunk: parse.GetValue(chunk)), runtime.CreateSessionOptions(console, parse), parse.GetValue(json));
                return;
            }

            if (name is "decode" or "prefill")
            {
                int tokensToGenerate = parse.GetValue(newTokens);
                if (tokensToGenerate < 1)
                {
                    throw new CliException($"--new-tokens: expected a positive number, got {tokensToGenerate}.");
                }

                var request = new GenerationBenchRequest(name, parse.GetValue(model)!, parse.GetValue(prompt), tokensToGenerate, TimeSpan.FromSeconds(duration));
                GenerationBench.Run(console, request, runtime.CreateSessionOptions(console, parse), parse.GetValue(json));
                return;
            }

            Tokenizer tokenizer = TokenizeCommands.LoadTokenizer(parse.GetValue(model)!);
            string? path = parse.GetValue(file);
            string[] lines = path is null ? BuiltInCorpus() : TokenizeCommands.Inputs(null, path).ToArray();
            BenchResult result = BenchTokenize(tokenizer, lines, TimeSpan.FromSeconds(duration));
            if (parse.GetValue(json))
            {
                console.WriteJsonLine(w =>
                {
                    w.WriteString("scenario", name);
                    w.WriteNumber("tokens_per_s", Math.Round(result.TokensPerSecond, 1));
                    w.WriteNull("ttft_ms");
                    w.WriteNumber("p50_ms", Math.Round(result.P50Ms, 4));
                    w.WriteNumber("p95_ms", Math.Round(result.P95Ms, 4));
                    w.WriteNumber("peak_rss_mb", Math.Round(result.PeakRssMb, 1));
                    w.WriteNumber("mb_per_s", Math.Round(result.MegabytesPerSecond, 2));
                    w.WriteNumber("items", lines.Length);
                    w.WriteNumber("passes", result.Passes);
                });
            }
            else
            {
                console.Err.WriteLine($"scenario tokenize: {result.MegabytesPerSecond:F2} MB/s, {result.TokensPerSecond:F0} tokens/s, per line p50 {result.P50Ms:F4} ms p95 {result.P95Ms:F4} ms, peak RSS {result.PeakRssMb:F0} MB ({lines.Length} lines x {result.Passes} passes)");
            }
        }));
        return command;
    }

    internal readonly record struct BenchResult(double TokensPerSecond, double MegabytesPerSecond, double P50Ms, double P95Ms, double PeakRssMb, int Passes);

    /// <summary>Encodes every line once to warm up, then passes over the lines until <paramref name="duration"/> has elapsed.</summary>
    internal static BenchResult BenchTokenize(Tokenizer tokenizer, string[] lines, TimeSpan duration)
    {
        long bytesPerPass = lines.Sum(l => (long)Encoding.UTF8.GetByteCount(l));
        foreach (string line in lines)
        {
            tokenizer.Encode(line);
        }

        var latencies = new List<double>();
        long tokens = 0;
        int passes = 0;
        var total = Stopwatch.StartNew();
        do
        {
            foreach (string line in lines)
            {
                long start = Stopwatch.GetTimestamp();
                tokens += tokenizer.Encode(line).Count;
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            passes++;
        }
        while (total.Elapsed < duration);

        double elapsed = total.Elapsed.TotalSeconds;
        latencies.Sort();
        return new BenchResult(
            tokens / elapsed,
            bytesPerPass * passes / elapsed / 1e6,
            Percentile(latencies, 0.50),
            Percentile(latencies, 0.95),
            PeakRssMegabytes(),
            passes);
    }

    internal static double Percentile(List<double> sorted, double fraction) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(fraction * sorted.Count) - 1)];

    internal static double PeakRssMegabytes()
    {
        if (File.Exists("/proc/self/status"))
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024;
                }
            }
        }

        return Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);
    }

    /// <summary>About 1 MB of English prose, deterministic, one paragraph per line.</summary>
    internal static string[] BuiltInCorpus()
    {
        string[] paragraphs =
        [
            "The harbour was quiet in the early morning, and the fishing boats rocked gently against the old stone quay while gulls circled overhead.",
            "Engineers measured the bridge twice before the inspection, because a single wrong number in the report would have delayed the whole project by months.",
            "She opened the letter slowly, read the first line, and then set it down on the kitchen table as if it might disappear if she looked away.",
            "In 1887 the town council voted to build a library, a school and a small observatory, funded by a tax on imported tea and sugar.",
            "Nobody could explain why the clock in the station always ran four minutes fast, but the trains kept to it, and so did everyone else.",
            "The recipe called for two cups of flour, a pinch of salt, three eggs and enough patience to let the dough rest overnight in a cool place.",
            "When the storm finally passed, the valley smelled of wet pine and cold earth, and the river ran brown and loud beneath the wooden bridge.",
            "He argued that the experiment was flawed from the start; the sample was too small, the controls were weak, and the results were never repeated.",
        ];
        var lines = new List<string>();
        long bytes = 0;
        for (int i = 0; bytes < 1_000_000; i++)
        {
            string line = $"{paragraphs[i % paragraphs.Length]} {paragraphs[(i * 3 + 1) % paragraphs.Length]} (section {i})";
            lines.Add(line);
            bytes += line.Length;
        }

        return lines.ToArray();
    }
}
