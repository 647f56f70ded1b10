using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace MLNetTransformers.Cli.Commands;

/// <summary>
/// <c>mlnt serve --load-test</c>: C clients, each sending streaming chat requests one after another over real HTTP for the given
/// time; counts failed requests (a non-200 answer, an error event, or a stream without a finish reason and <c>[DONE]</c>), the
/// time to the first content chunk, and the process's resident memory before and after.
/// </summary>
internal static class ServeLoadTest
{
    private static readonly string[] Questions = ["POLITICS, n.", "CAT, n.", "PEACE, n.", "LAWYER, n.", "HISTORY, n.", "DEBT, n.", "FUTURE, n.", "WAR, n."];

    internal sealed record Report(int Clients, double Seconds, int Requests, int Failed, long Chunks, double RssBeforeMb, double RssMidMb, double RssAfterMb, double PeakRssMb, double TtftP50, double TtftP95, double LatencyP50, double LatencyP95, string? FirstError);

    public static async Task<Report> RunAsync(Uri address, string model, string? apiKey, int clients, TimeSpan duration, int maxTokens, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = clients * 2, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        using var http = new HttpClient(handler) { BaseAddress = address, Timeout = TimeSpan.FromMinutes(5) };
        if (apiKey is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        // One warm-up request, then the measurement.
        _ = await OneAsync(http, model, Questions[0], maxTokens, 0, cancellationToken).ConfigureAwait(false);
        GC.Collect();
        double rssBefore = Process.GetCurrentProcess().WorkingSet64 / (1024.0 * 1024.0);
        var ttft = new List<double>();
        var latency = new List<double>();
        int requests = 0;
        int failed = 0;
        long chunks = 0;
        string? firstError = null;
        var gate = new Lock();
        var clock = Stopwatch.StartNew();
        // RSS half-way as well as at the end: equal values mean memory has levelled off under the steady load (growth before
        // the middle is warm-up: arenas for the batch sizes seen, the server's buffers).
        double rssMid = rssBefore;
        Task middle = Task.Delay(duration / 2, cancellationToken).ContinueWith(_ => rssMid = Process.GetCurrentProcess().WorkingSet64 / (1024.0 * 1024.0), TaskScheduler.Default);
        await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            int n = 0;
            while (clock.Elapsed < duration && !cancellationToken.IsCancellationRequested)
            {
                Outcome outcome = await OneAsync(http, model, Questions[(client + n) % Questions.Length], maxTokens, (client * 1000) + n, cancellationToken).ConfigureAwait(false);
                n++;
                lock (gate)
                {
                    requests++;
                    chunks += outcome.Chunks;
                    if (outcome.Error is not null)
                    {
                        failed++;
                        firstError ??= outcome.Error;
                    }
                    else
                    {
                        ttft.Add(outcome.TtftMs);
                        latency.Add(outcome.TotalMs);
                    }
                }
            }
        }, CancellationToken.None))).ConfigureAwait(false);
        double seconds = clock.Elapsed.TotalSeconds;
        await middle.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        ttft.Sort();
        latency.Sort();
        double rssAfter = Process.GetCurrentProcess().WorkingSet64 / (1024.0 * 1024.0);
        return new Report(clients, seconds, requests, failed, chunks, rssBefore, rssMid, rssAfter, BenchCommand.PeakRssMegabytes(),
            Percentile(ttft, 0.5), Percentile(ttft, 0.95), Percentile(latency, 0.5), Percentile(latency, 0.95), firstError);
    }

    public static void Write(CliConsole console, Report r, bool json)
    {
        if (json)
        {
            console.WriteJsonLine(w =>
            {
                w.WriteString("scenario", "serve-load");
                w.WriteNumber("clients", r.Clients);
                w.WriteNumber("seconds", Math.Round(r.Seconds, 1));
                w.WriteNumber("requests", r.Requests);
                w.WriteNumber("failed", r.Failed);
                w.WriteNumber("chunks_per_s", Math.Round(r.Chunks / r.Seconds, 1));
                w.WriteNumber("ttft_p50_ms", Math.Round(r.TtftP50, 2));
                w.WriteNumber("ttft_p95_ms", Math.Round(r.TtftP95, 2));
                w.WriteNumber("latency_p50_ms", Math.Round(r.LatencyP50, 2));
                w.WriteNumber("latency_p95_ms", Math.Round(r.LatencyP95, 2));
                w.WriteNumber("rss_before_mb", Math.Round(r.RssBeforeMb, 1));
                w.WriteNumber("rss_mid_mb", Math.Round(r.RssMidMb, 1));
                w.WriteNumber("rss_after_mb", Math.Round(r.RssAfterMb, 1));
                w.WriteNumber("peak_rss_mb", Math.Round(r.PeakRssMb, 1));
                if (r.FirstError is not null)
                {
                    w.WriteString("first_error", r.FirstError);
                }
            });
        }

        console.Err.WriteLine(
            $"mlnt: load test: {r.Clients} clients, {r.Seconds:F1} s, {r.Requests} requests, {r.Failed} failed, {r.Chunks / r.Seconds:F1} content chunks/s; " +
            $"time to first token p50 {r.TtftP50:F1} ms p95 {r.TtftP95:F1} ms; request p50 {r.LatencyP50:F1} ms p95 {r.LatencyP95:F1} ms; " +
            $"RSS {r.RssBeforeMb:F0} MB before, {r.RssMidMb:F0} MB half-way, {r.RssAfterMb:F0} MB after (peak {r.PeakRssMb:F0} MB){(r.FirstError is null ? string.Empty : "; first error: " + r.FirstError)}");
    }

    private static double Percentile(List<double> sorted, double fraction) => sorted.Count == 0 ? double.NaN : BenchCommand.Percentile(sorted, fraction);

    private sealed record Outcome(double TtftMs, double TotalMs, int Chunks, string? Error);

    private static async Task<Outcome> OneAsync(HttpClient http, string model, string question, int maxTokens, int seed, CancellationToken cancellationToken)
    {
        string body = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model"] = model,
            ["messages"] = new[] { new Dictionary<string, string> { ["role"] = "system", ["content"] = "You define words." }, new Dictionary<string, string> { ["role"] = "user", ["content"] = question } },
            ["stream"] = true,
            ["max_tokens"] = maxTokens,
            ["temperature"] = 0.8,
            ["seed"] = seed,
        });
        long start = Stopwatch.GetTimestamp();
        double ttft = double.NaN;
        int chunks = 0;
        bool finished = false;
        bool done = false;
        try
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = content };
            using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return new Outcome(0, 0, 0, $"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}");
            }

            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    continue;
                }

                string data = line[6..];
                if (data == "[DONE]")
                {
                    done = true;
                    break;
                }

                using var chunk = JsonDocument.Parse(data);
                if (chunk.RootElement.TryGetProperty("error", out JsonElement error))
                {
                    return new Outcome(0, 0, chunks, "error event: " + error.GetRawText());
                }

                JsonElement choices = chunk.RootElement.GetProperty("choices");
                if (choices.GetArrayLength() == 0)
                {
                    continue;
                }

                JsonElement choice = choices[0];
                if (choice.GetProperty("delta").TryGetProperty("content", out JsonElement text) && text.GetString() is { Length: > 0 })
                {
                    chunks++;
                    if (double.IsNaN(ttft))
                    {
                        ttft = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    }
                }

                finished |= choice.GetProperty("finish_reason").ValueKind == JsonValueKind.String;
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return new Outcome(0, 0, chunks, $"{ex.GetType().Name}: {ex.Message}");
        }

        double total = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        return finished && done ? new Outcome(double.IsNaN(ttft) ? total : ttft, total, chunks, null) : new Outcome(0, 0, chunks, "the stream ended without a finish reason and [DONE]");
    }
}
