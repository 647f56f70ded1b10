using System.Diagnostics.Metrics;

namespace MLNetTransformers.Extensions.AI;

/// <summary>
/// The <see cref="System.Diagnostics.Metrics"/> instruments of the chat clients, on the meter <see cref="MeterName"/>: generated
/// tokens (<c>mlnt.generation.tokens</c>), requests (<c>mlnt.generation.requests</c>), time to first token
/// (<c>mlnt.generation.time_to_first_token</c>, seconds), per-request throughput (<c>mlnt.generation.tokens_per_second</c>), and
/// the scheduler's queue length and running requests (<c>mlnt.generation.queue_length</c>, <c>mlnt.generation.active_requests</c>).
/// Every measurement carries the tag <c>model</c>. Collect them with OpenTelemetry (<c>AddMeter("MLNetTransformers")</c>) or
/// <c>dotnet-counters</c>.
/// </summary>
public static class GenerationMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "MLNetTransformers";

    private static readonly Meter Meter = new(MeterName, "1.0");

    internal static readonly Counter<long> Tokens = Meter.CreateCounter<long>("mlnt.generation.tokens", "{token}", "Tokens generated.");

    internal static readonly Counter<long> Requests = Meter.CreateCounter<long>("mlnt.generation.requests", "{request}", "Generation requests completed, by finish reason or error.");

    internal static readonly Histogram<double> TimeToFirstToken = Meter.CreateHistogram<double>("mlnt.generation.time_to_first_token", "s", "From a request's arrival to its first token.");

    internal static readonly Histogram<double> TokensPerSecond = Meter.CreateHistogram<double>("mlnt.generation.tokens_per_second", "{token}/s", "A request's generated tokens over its time after the first token.");

    /// <summary>Observes a scheduler's queue length and running requests for as long as <paramref name="isAlive"/> says.</summary>
    internal static void Observe(string model, Func<int> queueLength, Func<int> active, Func<bool> isAlive)
    {
        var tag = new KeyValuePair<string, object?>("model", model);
        Meter.CreateObservableGauge("mlnt.generation.queue_length", () => isAlive() ? [new Measurement<int>(queueLength(), tag)] : Array.Empty<Measurement<int>>(), "{request}", "Requests waiting to join the batch.");
        Meter.CreateObservableGauge("mlnt.generation.active_requests", () => isAlive() ? [new Measurement<int>(active(), tag)] : Array.Empty<Measurement<int>>(), "{request}", "Requests in the running batch.");
    }
}
