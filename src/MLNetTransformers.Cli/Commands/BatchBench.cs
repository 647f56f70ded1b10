using System.Diagnostics;
using MLNetTransformers.Generation;
using MLNetTransformers.Generation.Decoding;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Cli.Commands;

/// <summary>
/// <c>mlnt bench --scenario batch [--concurrency C]</c>: C concurrent streams, each generating <c>--new-tokens</c> tokens per
/// request again and again for the measured time, all through one <see cref="ContinuousBatchScheduler"/>; reports the aggregate
/// tokens/s, the time to first token and the per-token latency seen by the streams. Without <c>--concurrency</c>: 1, 4, 8 and 16
/// streams, one JSON line each, with the speed-up over one stream.
/// </summary>
internal static class BatchBench
{
    private static readonly string[] Prompts =
    [
        "POLITICS, n.", "CAT, n.", "PEACE, n. In international affairs,", "LAWYER, n.", "HISTORY, n.", "DEBT, n.", "FUTURE, n.", "WAR, n.",
    ];

    public static void Run(CliConsole console, string model, int newTokens, TimeSpan duration, int? concurrency, SessionOptions sessionOptions, bool json)
    {
        ModelFolder folder = GenerationBench.OpenFolder(model);
        int[] levels = concurrency is { } c ? [c] : [1, 4, 8, 16];
        using var generator = new Generator(folder, sessionOptions);
        using var scheduler = new ContinuousBatchScheduler(generator, new ContinuousBatchingOptions { MaxBatchSize = levels.Max(), MaxQueueLength = 1024 });
        int[][] prompts = [.. Prompts.Select(generator.Encode)];
        var options = new GenerationOptions { MaxNewTokens = newTokens, EosTokenIds = [] };
        _ = scheduler.GenerateResultAsync(prompts[0], options).GetAwaiter().GetResult(); // warm-up

        double single = 0;
        foreach (int level in levels)
        {
            Measurement m = Measure(scheduler, prompts, options, level, duration);
            single = level == 1 ? m.TokensPerSecond : single;
            double rss = BenchCommand.PeakRssMegabytes();
            if (json)
            {
                console.WriteJsonLine(w =>
                {
                    w.WriteString("scenario", "batch");
                    w.WriteNumber("concurrency", level);
                    w.WriteNumber("tokens_per_s", Math.Round(m.TokensPerSecond, 1));
                    w.WriteNumber("per_stream_tokens_per_s", Math.Round(m.TokensPerSecond / level, 1));
                    w.WriteNumber("ttft_ms", Math.Round(m.TtftP50, 3));
                    w.WriteNumber("ttft_p95_ms", Math.Round(m.TtftP95, 3));
                    w.WriteNumber("p50_ms", Math.Round(m.TokenP50, 3));
                    w.WriteNumber("p95_ms", Math.Round(m.TokenP95, 3));
                    w.WriteNumber("peak_rss_mb", Math.Round(rss, 1));
                    w.WriteNumber("requests", m.Requests);
                    if (single > 0)
                    {
                        w.WriteNumber("speedup_vs_1", Math.Round(m.TokensPerSecond / single, 2));
                    }
                });
            }
            else
            {
                console.Err.WriteLine(
                    $"scenario batch, {level} streams: {m.TokensPerSecond:F1} tokens/s aggregate ({m.TokensPerSecond / level:F1} per stream), time to first token p50 {m.TtftP50:F2} ms p95 {m.TtftP95:F2} ms, per token p50 {m.TokenP50:F3} ms p95 {m.TokenP95:F3} ms, peak RSS {rss:F0} MB, {m.Requests} requests{(single > 0 ? $", {m.TokensPerSecond / single:F2}x one stream" : string.Empty)}");
            }
        }
    }

    private static Measurement Measure(ContinuousBatchScheduler scheduler, int[][] prompts, GenerationOptions options, int streams, TimeSpan duration)
    {
        var ttft = new List<double>();
        var perToken = new List<double>();
        long tokens = 0;
        int requests = 0;
        var gate = new Lock();
        var clock = Stopwatch.StartNew();
        Task[] tasks = [.. Enumerable.Range(0, streams).Select(stream => Task.Run(async () =>
        {
            int round = 0;
            while (clock.Elapsed < duration)
            {
                int[] prompt = prompts[(stream + round++) % prompts.Length];
                long start = Stopwatch.GetTimestamp(), previous = start;
                var steps = new List<double>(options.MaxNewTokens ?? 16);
                double first = 0;
                int count = 0;
                await foreach (GenerationUpdate update in scheduler.GenerateAsync(prompt, options))
                {
                    if (update.TokenId < 0)
                    {
                        continue;
                    }

                    long now = Stopwatch.GetTimestamp();
                    if (count++ == 0)
                    {
                        first = Stopwatch.GetElapsedTime(start, now).TotalMilliseconds;
                    }
                    else
                    {
                        steps.Add(Stopwatch.GetElapsedTime(previous, now).TotalMilliseconds);
                    }

                    previous = now;
                }

                lock (gate)
                {
                    ttft.Add(first);
                    perToken.AddRange(steps);
                    tokens += count;
                    requests++;
                }
            }
        }))];
        Task.WaitAll(tasks);
        double seconds = clock.Elapsed.TotalSeconds;
        ttft.Sort();
        perToken.Sort();
        return new Measurement(
            tokens / seconds,
            BenchCommand.Percentile(ttft, 0.5),
            BenchCommand.Percentile(ttft, 0.95),
            BenchCommand.Percentile(perToken, 0.5),
            BenchCommand.Percentile(perToken, 0.95),
            requests);
    }

    private sealed record Measurement(double TokensPerSecond, double TtftP50, double TtftP95, double TokenP50, double TokenP95, int Requests);
}
