using System.Diagnostics;
using MLNetTransformers.Generation;
using MLNetTransformers.Generation.Decoding;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Cli.Commands;

/// <summary>What a decode or prefill benchmark runs.</summary>
internal sealed record GenerationBenchRequest(string Scenario, string Model, string? Prompt, int NewTokens, TimeSpan Duration);

/// <summary>
/// <c>mlnt bench --scenario decode|prefill</c>: greedy generation through <see cref="Generator"/> after a warm-up run.
/// decode: time to first token, then the time of every later token; prefill: the prompt pass (time to first token) of a long
/// prompt. EOS is ignored so that every run generates the same number of tokens.
/// </summary>
internal static class GenerationBench
{
    private const string DefaultPrompt = "POLITICS, n. A strife of interests masquerading as a contest of principles.";

    public static void Run(CliConsole console, GenerationBenchRequest request, SessionOptions sessionOptions, bool json)
    {
        ModelFolder folder = OpenFolder(request.Model);
        using var generator = new Generator(folder, sessionOptions);
        bool prefill = request.Scenario == "prefill";
        string prompt = request.Prompt ?? DefaultPrompt;
        int[] promptIds = generator.Encode(prompt);
        if (prefill && request.Prompt is null)
        {
            // A long prompt: the default one repeated to about 200 tokens.
            promptIds = Enumerable.Repeat(generator.Encode(" " + DefaultPrompt).Skip(1), 1 + (200 / Math.Max(promptIds.Length, 1)))
                .SelectMany(ids => ids).Prepend(promptIds[0]).Take(200).ToArray();
        }

        var options = new GenerationOptions { MaxNewTokens = prefill ? 1 : request.NewTokens, EosTokenIds = [] };
        // Warm-up: long enough for the JIT's tiered compilation to settle on the per-step code (≥ 3 runs and ≥ 1 s).
        var warmUp = Stopwatch.StartNew();
        for (int i = 0; i < 3 || warmUp.Elapsed < TimeSpan.FromSeconds(1); i++)
        {
            _ = RunOnce(generator, promptIds, options, out _, out _);
        }

        var firstTokenMs = new List<double>();
        var tokenMs = new List<double>();
        long generated = 0;
        double decodeSeconds = 0;
        int runs = 0;
        TimeSpan stepTime = TimeSpan.Zero, modelTime = TimeSpan.Zero;
        var total = Stopwatch.StartNew();
        do
        {
            GenerationTimings timings = RunOnce(generator, promptIds, options, out double ttft, out List<double> steps);
            firstTokenMs.Add(ttft);
            tokenMs.AddRange(steps);
            generated += steps.Count;
            decodeSeconds += steps.Sum() / 1000;
            stepTime += prefill ? timings.PrefillTime : timings.DecodeTime;
            modelTime += prefill ? timings.PrefillModelTime : timings.DecodeModelTime;
            runs++;
        }
        while (total.Elapsed < request.Duration || runs < 3);

        // Our share of each step: the generator's own step time (feeds, logits processing, token choice, text) over the time inside
        // ONNX Runtime's run call; the streamed share adds the async hand-over to the consumer, measured from the updates' arrival.
        double overheadPercent = 100 * ((stepTime / modelTime) - 1);
        double modelMsPerToken = modelTime.TotalMilliseconds / Math.Max(1, prefill ? runs : generated);
        double streamedOverheadPercent = 100 * ((decodeSeconds * 1000 / Math.Max(1, generated) / modelMsPerToken) - 1);

        firstTokenMs.Sort();
        tokenMs.Sort();
        double ttftMedian = BenchCommand.Percentile(firstTokenMs, 0.5);
        List<double> latencies = prefill ? firstTokenMs : tokenMs;
        double tokensPerSecond = prefill ? promptIds.Length / (ttftMedian / 1000) : generated / Math.Max(decodeSeconds, 1e-9);
        double p50 = BenchCommand.Percentile(latencies, 0.5), p95 = BenchCommand.Percentile(latencies, 0.95), rss = BenchCommand.PeakRssMegabytes();
        if (json)
        {
            console.WriteJsonLine(w =>
            {
                w.WriteString("scenario", request.Scenario);
                w.WriteNumber("tokens_per_s", Math.Round(tokensPerSecond, 1));
                w.WriteNumber("ttft_ms", Math.Round(ttftMedian, 3));
                w.WriteNumber("p50_ms", Math.Round(p50, 3));
                w.WriteNumber("p95_ms", Math.Round(p95, 3));
                w.WriteNumber("peak_rss_mb", Math.Round(rss, 1));
                w.WriteNumber("prompt_tokens", promptIds.Length);
                w.WriteNumber("new_tokens", options.MaxNewTokens ?? 0);
                w.WriteNumber("runs", runs);
                w.WriteNumber("ort_run_ms_per_token", Math.Round(modelMsPerToken, 4));
                w.WriteNumber("overhead_pct", Math.Round(overheadPercent, 2));
                if (!prefill)
                {
                    w.WriteNumber("streamed_overhead_pct", Math.Round(streamedOverheadPercent, 2));
                }
            });
        }
        else
        {
            console.Err.WriteLine(
                $"scenario {request.Scenario}: {tokensPerSecond:F1} tokens/s, time to first token {ttftMedian:F2} ms, {(prefill ? "prefill" : "per token")} p50 {p50:F3} ms p95 {p95:F3} ms, peak RSS {rss:F0} MB ({promptIds.Length} prompt tokens, {runs} runs)");
            console.Err.WriteLine(
                $"inside ONNX Runtime's run: {modelMsPerToken:F4} ms per {(prefill ? "prefill" : "token")}; our overhead {overheadPercent:F2}%{(prefill ? string.Empty : $" ({streamedOverheadPercent:F2}% with streaming to the consumer)")}");
        }
    }

    /// <summary>Opens <c>--model</c>, turning a missing or malformed folder into a bad-input error.</summary>
    public static ModelFolder OpenFolder(string model)
    {
        try
        {
            return ModelFolder.Open(model);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or ArgumentException)
        {
            throw new CliException($"--model: {ex.Message}", ExitCodes.BadInput, ex);
        }
    }

    /// <summary>One generation, timing the first token and every later token from update to update; returns the generator's own timings.</summary>
    private static GenerationTimings RunOnce(Generator generator, int[] promptIds, GenerationOptions options, out double firstTokenMs, out List<double> stepMs)
    {
        GenerationTimings? timings = null;
        stepMs = new List<double>(options.MaxNewTokens ?? 16);
        firstTokenMs = 0;
        long start = Stopwatch.GetTimestamp(), previous = start;
        bool first = true;
        foreach (GenerationUpdate update in generator.GenerateAsync(promptIds, options).ToBlockingEnumerable())
        {
            timings = update.Result?.Timings ?? timings;
            if (update.TokenId < 0)
            {
                continue;
            }

            long now = Stopwatch.GetTimestamp();
            if (first)
            {
                firstTokenMs = Stopwatch.GetElapsedTime(start, now).TotalMilliseconds;
                first = false;
            }
            else
            {
                stepMs.Add(Stopwatch.GetElapsedTime(previous, now).TotalMilliseconds);
            }

            previous = now;
        }

        return timings ?? throw new InvalidOperationException("The generation ended without a result.");
    }
}
