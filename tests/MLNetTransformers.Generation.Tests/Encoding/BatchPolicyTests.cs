using System.Text.Json;
using MLNetTransformers.Generation.Encoding;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Generation.Tests.Encoding;

[TestClass]
public sealed class BatchPolicyTests
{
    private static int[] RandomLengths(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.Next(4) == 0 ? random.Next(100, 400) : random.Next(3, 20)).ToArray();
    }

    private static void AssertEveryRowOnce(IReadOnlyList<int[]> batches, int count)
    {
        int[] seen = new int[count];
        foreach (int row in batches.SelectMany(b => b))
        {
            seen[row]++;
        }

        CollectionAssert.AreEqual(Enumerable.Repeat(1, count).ToArray(), seen, "every row exactly once");
    }

    [TestMethod]
    [DataRow(500, 1000L, 0, 64)]
    [DataRow(333, 2048L, 50, 16)]
    [DataRow(97, 150L, 7, 100)]
    public void PaddingAwarePlanKeepsBudgetRowCapAndWindows(int count, long budget, int window, int maxRows)
    {
        int[] lengths = RandomLengths(count, seed: count);
        BatchPolicy policy = BatchPolicy.PaddingAware(budget, window, maxRows);
        IReadOnlyList<int[]> batches = policy.Plan(lengths);
        AssertEveryRowOnce(batches, count);
        foreach (int[] batch in batches)
        {
            long cost = (long)batch.Length * batch.Max(r => lengths[r]);
            Assert.IsTrue(cost <= budget || batch.Length == 1, $"batch of {batch.Length} rows costs {cost} > {budget}");
            Assert.IsTrue(batch.Length <= maxRows);
            Assert.IsTrue(batch.All(r => lengths[r] * 2 >= batch.Max(x => lengths[x])), "no row padded to more than twice its length");
            if (window > 0)
            {
                Assert.AreEqual(1, batch.Select(r => r / window).Distinct().Count(), "a batch never crosses a sort window");
            }
        }

        // Sorting pays: far fewer padded tokens than fixed batches of the same row cap in input order.
        long padded = batches.Sum(b => (long)b.Length * b.Max(r => lengths[r]));
        long fixedPadded = BatchPolicy.FixedSize(maxRows).Plan(lengths).Sum(b => (long)b.Length * b.Max(r => lengths[r]));
        Assert.IsLessThanOrEqualTo(fixedPadded, padded);
    }

    [TestMethod]
    public void SingleRowOverTheBudgetRunsAlone()
    {
        int[] lengths = [10, 500, 10, 10];
        IReadOnlyList<int[]> batches = BatchPolicy.PaddingAware(100).Plan(lengths);
        AssertEveryRowOnce(batches, lengths.Length);
        CollectionAssert.AreEqual(new[] { 1 }, batches.Single(b => b.Contains(1)));
        Assert.AreEqual(2, batches.Count, "the three short rows (3 x 10 <= 100) share one batch");
    }

    [TestMethod]
    public void ShortRowsDoNotRideWithLongRowsEvenWhenTheBudgetHasRoom()
    {
        int[] lengths = [20, 300, 20, 300, 20, 160];
        IReadOnlyList<int[]> batches = BatchPolicy.PaddingAware(100_000).Plan(lengths);
        CollectionAssert.AreEqual(new[] { 1, 3, 5 }, batches[0]);
        CollectionAssert.AreEqual(new[] { 0, 2, 4 }, batches[1]);
        Assert.AreEqual(2, batches.Count);
        Assert.AreEqual(1, BatchPolicy.FixedSize(6).Plan(lengths).Count, "fixed-size batches pad whatever comes");
    }

    [TestMethod]
    public void FixedSizeAndPerRowKeepInputOrder()
    {
        int[] lengths = RandomLengths(23, 5);
        IReadOnlyList<int[]> fixedBatches = BatchPolicy.FixedSize(5).Plan(lengths);
        CollectionAssert.AreEqual(new[] { 5, 5, 5, 5, 3 }, fixedBatches.Select(b => b.Length).ToArray());
        CollectionAssert.AreEqual(Enumerable.Range(0, 23).ToArray(), fixedBatches.SelectMany(b => b).ToArray());
        IReadOnlyList<int[]> perRow = BatchPolicy.PerRow.Plan(lengths);
        Assert.AreEqual(23, perRow.Count);
        CollectionAssert.AreEqual(Enumerable.Range(0, 23).ToArray(), perRow.Select(b => b.Single()).ToArray());
        Assert.AreEqual(0, BatchPolicy.PaddingAware().Plan([]).Count);
    }

    [TestMethod]
    public void RunScattersResultsBackToInputOrder()
    {
        int[] lengths = RandomLengths(200, 11);
        var batcher = new PaddingAwareBatcher(BatchPolicy.PaddingAware(600, 0, 32));
        var ran = new List<int[]>();
        int[] results = batcher.Run(lengths, (rows, _) =>
        {
            ran.Add(rows.ToArray());
            return rows.Select(r => (r * 7) + 1).ToArray();
        });
        CollectionAssert.AreEqual(Enumerable.Range(0, 200).Select(r => (r * 7) + 1).ToArray(), results);
        AssertEveryRowOnce(ran, lengths.Length);
        Assert.AreEqual(ran.Count, (int)batcher.Batches);
        Assert.AreEqual(lengths.Sum(), (int)batcher.RealTokens);
        Assert.AreEqual(ran.Sum(b => (long)b.Length * b.Max(r => lengths[r])), batcher.PaddedTokens);
    }

    internal static OnnxRuntimeException SimulatedOutOfMemory(long bytes) => new(
        OrtErrorCode.RuntimeException,
        "Run",
        $"Non-zero status code returned while running MatMul node. Name:'/bert/encoder/layer.0/MatMul' Status Message: /onnxruntime_src/onnxruntime/core/framework/bfc_arena.cc:376 void* onnxruntime::BFCArena::AllocateRawInternal(size_t, bool, onnxruntime::Stream*, bool, onnxruntime::WaitNotificationFn) Failed to allocate memory for requested buffer of size {bytes}");

    [TestMethod]
    public void OutOfMemoryHalvesTheBatchAndRemembersTheReducedBudget()
    {
        int[] lengths = Enumerable.Repeat(10, 200).ToArray();
        var batcher = new PaddingAwareBatcher(BatchPolicy.PaddingAware(400, 0, 64));
        int failures = 0;
        var succeeded = new List<int[]>();
        int[] results = batcher.Run(lengths, (rows, _) =>
        {
            if (rows.Count * 10 > 100)
            {
                failures++;
                throw SimulatedOutOfMemory(rows.Count * 10L * 4096);
            }

            succeeded.Add(rows.ToArray());
            return rows.ToArray();
        });

        CollectionAssert.AreEqual(Enumerable.Range(0, 200).ToArray(), results);
        AssertEveryRowOnce(succeeded, 200);
        // 40 rows fail, then 20 rows fail; from then on every batch is cut to 10 rows (100 tokens) before it runs.
        Assert.AreEqual(2, failures);
        Assert.AreEqual(2, batcher.OutOfMemorySplits);
        Assert.AreEqual(10, batcher.EffectiveMaxRows);
        Assert.AreEqual(100L, batcher.EffectiveTokenBudget);
        Assert.IsTrue(succeeded.All(b => b.Length == 10));
    }

    [TestMethod]
    public void OutOfMemoryOfASingleRowFailsTheJob()
    {
        var batcher = new PaddingAwareBatcher(BatchPolicy.PaddingAware(1000));
        int[] lengths = [5, 5, 300, 5];
        var ex = Assert.ThrowsExactly<OnnxRuntimeException>(() => batcher.Run<int>(lengths, (rows, _) =>
            rows.Any(r => lengths[r] >= 300) ? throw SimulatedOutOfMemory(1 << 30) : rows.ToArray()));
        StringAssert.Contains(ex.NativeMessage, "Failed to allocate memory");
    }

    [TestMethod]
    public void OtherRuntimeErrorsAreNotRetried()
    {
        var batcher = new PaddingAwareBatcher(BatchPolicy.FixedSize(8));
        int calls = 0;
        Assert.ThrowsExactly<OnnxRuntimeException>(() => batcher.Run<int>(Enumerable.Repeat(3, 16).ToArray(), (rows, _) =>
        {
            calls++;
            throw new OnnxRuntimeException(OrtErrorCode.InvalidArgument, "Run", "Got invalid dimensions for input: input_ids");
        }));
        Assert.AreEqual(1, calls);
        Assert.AreEqual(0, batcher.OutOfMemorySplits);
    }

    [TestMethod]
    [DataRow("Failed to allocate memory for requested buffer of size 1024", true)]
    [DataRow("CUDA failure 2: out of memory ; GPU=0 ; hostname=x ; expr=cudaMalloc((void**)&p, size);", true)]
    [DataRow("Available memory of 100 is smaller than requested bytes of 200", true)]
    [DataRow("CUBLAS failure 3: CUBLAS_STATUS_ALLOC_FAILED ; GPU=0", true)]
    [DataRow("std::bad_alloc", true)]
    [DataRow("Got invalid dimensions for input: input_ids for the following indices", false)]
    [DataRow("Non-zero status code returned while running Add node", false)]
    public void RecognisesAllocationFailures(string message, bool expected)
    {
        Assert.AreEqual(expected, PaddingAwareBatcher.IsOutOfMemory(new OnnxRuntimeException(OrtErrorCode.RuntimeException, "Run", message)));
        Assert.IsFalse(PaddingAwareBatcher.IsOutOfMemory(new InvalidOperationException(message)), "only ONNX Runtime errors count");
    }

    [TestMethod]
    public void PolicyRoundTripsThroughJson()
    {
        foreach (BatchPolicy policy in new[] { BatchPolicy.PerRow, BatchPolicy.FixedSize(32), BatchPolicy.PaddingAware(4096, 128, 48) })
        {
            string json = JsonSerializer.Serialize(policy);
            Assert.AreEqual(policy, JsonSerializer.Deserialize<BatchPolicy>(json), json);
        }

        StringAssert.Contains(JsonSerializer.Serialize(BatchPolicy.FixedSize(3)), "\"FixedSize\"");
        var bad = JsonSerializer.Deserialize<BatchPolicy>("{\"Kind\":\"PaddingAware\",\"MaxRows\":0}")!;
        var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(bad.Validate);
        Assert.AreEqual("MaxRows", ex.ParamName);
    }

    [TestMethod]
    public async Task MeasureTimesEveryCandidateAndChooseReturnsTheFirstOfTheRanking()
    {
        var calls = new List<BatchPolicy>();
        IReadOnlyList<BatchPolicyTiming> timings = await BatchPolicy.MeasureAsync(
            BatchPolicy.DefaultCandidates,
            (policy, _) =>
            {
                calls.Add(policy);
                return Task.CompletedTask;
            },
            repetitions: 2);
        Assert.AreEqual(3, timings.Count);
        CollectionAssert.AreEquivalent(BatchPolicy.DefaultCandidates.ToArray(), timings.Select(t => t.Policy).ToArray());
        Assert.AreEqual(9, calls.Count, "one warm-up and two timed runs per candidate");
        for (int i = 1; i < timings.Count; i++)
        {
            Assert.IsTrue(timings[i - 1].Elapsed <= timings[i].Elapsed);
        }

        BatchPolicy only = await BatchPolicy.ChooseAsync([BatchPolicy.FixedSize(4)], (_, _) => Task.CompletedTask);
        Assert.AreEqual(BatchPolicy.FixedSize(4), only);
        await Assert.ThrowsExactlyAsync<ArgumentException>(() => BatchPolicy.MeasureAsync([], (_, _) => Task.CompletedTask));
    }
}
