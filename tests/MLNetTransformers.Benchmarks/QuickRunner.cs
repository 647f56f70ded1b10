using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Benchmarks;

/// <summary>
/// The run-overhead cases timed with a plain <see cref="Stopwatch"/> loop: a number in seconds, without BenchmarkDotNet. Each
/// case is warmed up (at least half a second, so that tiered compilation has settled), then timed over several rounds of
/// <c>iterations</c> runs; the best and median rounds are reported in ns/run, with the bytes this thread allocated per run
/// (<see cref="GC.GetAllocatedBytesForCurrentThread"/>) and the collections that happened while timing.
/// </summary>
internal static class QuickRunner
{
    private static readonly TimeSpan WarmUpTime = TimeSpan.FromSeconds(0.5);

    public static int Run(int iterations, int rounds)
    {
        using var fixture = new RunOverheadFixture();
        fixture.Verify();
        using var raw = new RawOrtApi();
        raw.Verify();

        Console.WriteLine(Invariant($"ONNX Runtime {OnnxRuntimeLibrary.Version} ({OnnxRuntimeLibrary.LoadedFrom})"));
        Console.WriteLine(Invariant($"{RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}, {Environment.ProcessorCount} processors"));
        Console.WriteLine(Invariant($"graph: y = x + c, float[1,4], IntraOpThreads = 1; {rounds} rounds x {iterations} runs per case after warm-up"));
        Console.WriteLine();
        Console.WriteLine(Invariant($"{"case",-44} {"best ns/run",12} {"median ns/run",14} {"bytes/run",10} {"gen0 GCs",9}"));

        var cases = new (string Name, Action Body)[]
        {
            ("Run(dictionary)", fixture.RunDictionary),
            ("Run(names, values)", fixture.RunLists),
            ("Run(names, values, outputNames)", fixture.RunListsNamedOutput),
            ("Run(names, values, outputNames, outputValues)", fixture.RunPreallocated),
            ("RunWithBinding(binding)", fixture.RunWithBinding),
            ("raw C# fn pointers: Run + ReleaseValue", raw.RunAllocating),
            ("raw C# fn pointers: Run preallocated", raw.RunPreallocated),
        };

        foreach (var (name, body) in cases)
        {
            Measure(name, body, iterations, rounds);
        }

        return 0;
    }

    private static void Measure(string name, Action body, int iterations, int rounds)
    {
        var warmUp = Stopwatch.StartNew();
        int warmUpRuns = 0;
        while (warmUp.Elapsed < WarmUpTime || warmUpRuns < 20_000)
        {
            body();
            warmUpRuns++;
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        var nsPerRun = new double[rounds];
        long allocated = 0;
        int gen0 = GC.CollectionCount(0);
        for (int round = 0; round < rounds; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < iterations; i++)
            {
                body();
            }

            long end = Stopwatch.GetTimestamp();
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            nsPerRun[round] = (end - start) * (1e9 / Stopwatch.Frequency) / iterations;
        }

        gen0 = GC.CollectionCount(0) - gen0;
        Array.Sort(nsPerRun);
        double median = rounds % 2 == 1 ? nsPerRun[rounds / 2] : (nsPerRun[(rounds / 2) - 1] + nsPerRun[rounds / 2]) / 2;
        double bytesPerRun = (double)allocated / ((long)iterations * rounds);
        Console.WriteLine(Invariant($"{name,-44} {nsPerRun[0],12:F1} {median,14:F1} {bytesPerRun,10:F1} {gen0,9}"));
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
