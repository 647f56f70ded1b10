using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Benchmarks;

/// <summary>
/// The run-overhead cases timed with a plain <see cref="Stopwatch"/> loop: a number in seconds, without BenchmarkDotNet. Each
/// case is warmed up (at least half a second, so that tiered compilation has settled), then timed over several rounds of
/// <c>iterations</c> runs, interleaved across cases; the best and median rounds are reported in ns/run, with the bytes this
/// thread allocated per run (<see cref="GC.GetAllocatedBytesForCurrentThread"/>) and the gen-0 collections while timing.
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
        Console.WriteLine(Invariant($"graph: y = x + c, float[1,4], IntraOpThreads = 1; {rounds} rounds x {iterations} runs per case after warm-up, interleaved"));
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

        foreach (var (_, body) in cases)
        {
            WarmUp(body);
        }

        // Rounds are interleaved across the cases, so that whatever else the machine does at the time weighs on every case alike.
        var nsPerRun = new double[cases.Length][];
        var allocated = new long[cases.Length];
        var gen0 = new int[cases.Length];
        for (int c = 0; c < cases.Length; c++)
        {
            nsPerRun[c] = new double[rounds];
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        for (int round = 0; round < rounds; round++)
        {
            for (int c = 0; c < cases.Length; c++)
            {
                Action body = cases[c].Body;
                int collections = GC.CollectionCount(0);
                long before = GC.GetAllocatedBytesForCurrentThread();
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < iterations; i++)
                {
                    body();
                }

                long end = Stopwatch.GetTimestamp();
                allocated[c] += GC.GetAllocatedBytesForCurrentThread() - before;
                gen0[c] += GC.CollectionCount(0) - collections;
                nsPerRun[c][round] = (end - start) * (1e9 / Stopwatch.Frequency) / iterations;
            }
        }

        for (int c = 0; c < cases.Length; c++)
        {
            double[] times = nsPerRun[c];
            Array.Sort(times);
            double median = rounds % 2 == 1 ? times[rounds / 2] : (times[(rounds / 2) - 1] + times[rounds / 2]) / 2;
            double bytesPerRun = (double)allocated[c] / ((long)iterations * rounds);
            Console.WriteLine(Invariant($"{cases[c].Name,-44} {times[0],12:F1} {median,14:F1} {bytesPerRun,10:F1} {gen0[c],9}"));
        }

        return 0;
    }

    private static void WarmUp(Action body)
    {
        var warmUp = Stopwatch.StartNew();
        int runs = 0;
        while (warmUp.Elapsed < WarmUpTime || runs < 20_000)
        {
            body();
            runs++;
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
