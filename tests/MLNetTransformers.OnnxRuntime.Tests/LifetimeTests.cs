using System.Diagnostics;

namespace MLNetTransformers.OnnxRuntime.Tests;

[TestClass]
public sealed class CancellationTests
{
    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public void TokenTerminatesALongRunAndTheSessionStillWorks()
    {
        using var session = new InferenceSession(Models.CountingLoop(), TestEnvironment.Options());
        using var trips = OrtValue.CreateTensor(new long[] { long.MaxValue }, []);
        using var start = OrtValue.CreateTensor(new float[64 * 64], [64, 64]);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var stopwatch = Stopwatch.StartNew();
        var ex = Assert.ThrowsExactly<OperationCanceledException>(() => session.Run(["trips", "start"], [trips, start], null, null, cts.Token));
        Assert.AreEqual(cts.Token, ex.CancellationToken);
        Assert.IsInstanceOfType<OnnxRuntimeException>(ex.InnerException);
        Assert.IsLessThan(30_000L, stopwatch.ElapsedMilliseconds, "terminated long before the loop could finish");

        using var three = OrtValue.CreateTensor(new long[] { 3 }, []);
        using var outputs = session.Run(["trips", "start"], [three, start]);
        Assert.IsTrue(outputs[0].ToArray<float>().All(v => v == 3f), "the session runs normally after a cancelled run");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task RunAsyncIsCancelledAndCallersRunOptionsAreReset()
    {
        using var session = new InferenceSession(Models.CountingLoop(), TestEnvironment.Options());
        using var trips = OrtValue.CreateTensor(new long[] { long.MaxValue }, []);
        using var start = OrtValue.CreateTensor(new float[64 * 64], [64, 64]);
        using var runOptions = new RunOptions();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAsync<OperationCanceledException>(() => session.RunAsync(new Dictionary<string, OrtValue> { ["trips"] = trips, ["start"] = start }, null, runOptions, cts.Token));
        Assert.IsFalse(runOptions.IsTerminateRequested, "the terminate flag set for the token is cleared afterwards");

        using var two = OrtValue.CreateTensor(new long[] { 2 }, []);
        using var outputs = session.Run(["trips", "start"], [two, start], null, runOptions);
        Assert.AreEqual(2f, outputs[0].ToArray<float>()[0]);
    }

    [TestMethod]
    public void AlreadyCancelledTokenDoesNotStartTheRun()
    {
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        using var value = OrtValue.CreateTensor(new float[3], [1, 3]);
        Assert.ThrowsExactly<OperationCanceledException>(() => session.Run(["x"], [value], null, null, new CancellationToken(canceled: true)));
    }

    [TestMethod]
    public void UncancelledTokenLetsTheRunFinish()
    {
        using var session = new InferenceSession(Models.CountingLoop(), TestEnvironment.Options());
        using var trips = OrtValue.CreateTensor(new long[] { 5 }, []);
        using var start = OrtValue.CreateTensor(new float[64 * 64], [64, 64]);
        using var cts = new CancellationTokenSource();
        using var outputs = session.Run(["trips", "start"], [trips, start], null, null, cts.Token);
        Assert.AreEqual(5f, outputs[0].ToArray<float>()[4095]);
    }
}

[TestClass]
public sealed class DisposalTests
{
    [TestMethod]
    public void CreatingAndDisposingSessionsAndValuesDoesNotGrowNativeMemory()
    {
        byte[] model = Models.MatMulAddSoftmax();
        void Cycle(int count)
        {
            for (int i = 0; i < count; i++)
            {
                using var session = new InferenceSession(model, TestEnvironment.Options());
                using var x = OrtValue.CreateTensor(new float[300], [100, 3]);
                using var pooled = OrtValue.CreatePooledTensor<float>([100, 3]);
                using var strings = OrtValue.CreateStringTensor(["a", "b"], [2]);
                using var outputs = session.Run(["x"], [x]);
                using var again = session.Run(["x"], [pooled]);
            }
        }

        Cycle(100); // warm up arenas, pools and the JIT
        long before = ResidentBytes();
        Cycle(400);
        long after = ResidentBytes();
        long growthMb = (after - before) / (1024 * 1024);
        Assert.IsLessThan(40L, growthMb, $"resident memory grew by {growthMb} MB over 400 create/dispose cycles");
    }

    [TestMethod]
    public void ConstructorsThatFailHalfwayLeakNothing()
    {
        byte[] model = Models.MatMulAddSoftmax();
        byte[] corrupt = model[..(model.Length / 2)];
        void Cycle(int count)
        {
            for (int i = 0; i < count; i++)
            {
                var strict = TestEnvironment.Options();
                strict.ExecutionProviders.Add(ExecutionProvider.Cuda());
                Assert.ThrowsExactly<ExecutionProviderException>(() => new InferenceSession(model, strict));
                Assert.ThrowsExactly<OnnxRuntimeException>(() => new InferenceSession(corrupt, TestEnvironment.Options()));
                Assert.ThrowsExactly<ArgumentException>(() => OrtValue.CreateStringTensor(["a", "b", "c"], [2]));
                Assert.ThrowsExactly<ArgumentException>(() => OrtValue.CreateTensor(new float[3], [4]));
            }
        }

        Cycle(50);
        long before = ResidentBytes();
        Cycle(300);
        long growthMb = (ResidentBytes() - before) / (1024 * 1024);
        Assert.IsLessThan(30L, growthMb, $"resident memory grew by {growthMb} MB over 300 cycles of failing constructors");
    }

    [TestMethod]
    public void DisposingTwiceIsHarmless()
    {
        var value = OrtValue.CreateTensor(new float[3], [3]);
        value.Dispose();
        value.Dispose();
        var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        session.Dispose();
        session.Dispose();
    }

    private static long ResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        return Environment.WorkingSet;
    }
}
