using System.Text.Json;
using MLNetTransformers.OnnxRuntime;
using MLNetTransformers.Tokenizers;

namespace MLNetTransformers.Generation.Tests;

[TestClass]
public sealed class PerplexityTests
{
    private static InferenceSession s_session = null!;
    private static int[] s_stream = null!;
    private static JsonDocument s_reference = null!;

    [ClassInitialize]
    public static void Load(TestContext context)
    {
        _ = context;
        s_session = new InferenceSession(TestSupport.TinyLlamaModel, TestSupport.SessionOptions());
        Tokenizer tokenizer = ModelFolder.Open(TestSupport.TinyLlamaDirectory).LoadTokenizer();
        s_stream = PerplexityEvaluator.BuildTokenStream(tokenizer, TestSupport.ValidationLines());
        s_reference = JsonDocument.Parse(File.ReadAllText(TestSupport.Reference("perplexity.json")));
    }

    [ClassCleanup]
    public static void Unload()
    {
        s_session.Dispose();
        s_reference.Dispose();
    }

    [TestMethod]
    public void TheStreamAndWindowsAreTheReferenceProcedures()
    {
        JsonElement reference = s_reference.RootElement;
        Assert.AreEqual(reference.GetProperty("num_tokens_in_stream").GetInt32(), s_stream.Length);
        Assert.AreEqual(1, s_stream[0]);
        Assert.AreEqual(2, s_stream[^1]);

        IReadOnlyList<PerplexityWindow> plan = PerplexityEvaluator.PlanWindows(s_stream.Length, 256, 256);
        Assert.AreEqual(reference.GetProperty("num_windows").GetInt32(), plan.Count);
        Assert.AreEqual(reference.GetProperty("num_predicted_tokens").GetInt32(), plan.Sum(w => w.PredictedTokens));
        Assert.AreEqual(reference.GetProperty("last_window_predicted_tokens").GetInt32(), plan[^1].PredictedTokens);
        Assert.IsTrue(plan.All(w => w.FirstPredicted == 0 && w.Start % 256 == 0));
    }

    [TestMethod]
    public void OverlappingWindowsPredictEveryTokenOnce()
    {
        foreach ((int count, int window, int stride) in new[] { (1000, 256, 128), (1000, 64, 1), (257, 256, 256), (258, 256, 200), (2, 5, 3), (50, 7, 7) })
        {
            var predicted = new List<int>();
            foreach (PerplexityWindow w in PerplexityEvaluator.PlanWindows(count, window, stride))
            {
                Assert.IsLessThanOrEqualTo(window, w.Length);
                Assert.IsGreaterThan(0, w.PredictedTokens);
                predicted.AddRange(Enumerable.Range(w.Start + w.FirstPredicted + 1, w.PredictedTokens));
            }

            CollectionAssert.AreEqual(Enumerable.Range(1, count - 1).ToArray(), predicted.ToArray(), $"{count}/{window}/{stride}");
        }
    }

    [TestMethod]
    public void FirstFiveWindowsMatchThePyTorchReference()
    {
        int[] slice = s_stream[..((5 * 256) + 1)];
        PerplexityResult result = new PerplexityEvaluator(s_session).Evaluate(slice);
        double[] expected = s_reference.RootElement.GetProperty("first_5_window_mean_nll").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.HasCount(5, result.Windows);
        for (int i = 0; i < 5; i++)
        {
            Assert.AreEqual(256, result.Windows[i].Window.PredictedTokens);
            Assert.AreEqual(expected[i], result.Windows[i].MeanNll, 1e-4, $"window {i}");
        }
    }

    [TestMethod]
    public void ASliceAtTwoWindowSizesAndBatchSizes()
    {
        int[] slice = s_stream[..3001];
        var evaluator = new PerplexityEvaluator(s_session);
        var reports = new List<PerplexityProgress>();
        PerplexityResult w256 = evaluator.Evaluate(slice, new PerplexityOptions { Window = 256 }, new SyncProgress(reports.Add));
        PerplexityResult w64 = evaluator.Evaluate(slice, new PerplexityOptions { Window = 64, BatchSize = 8 });
        PerplexityResult overlapping = evaluator.Evaluate(slice, new PerplexityOptions { Window = 256, Stride = 128 });
        PerplexityResult batched = evaluator.Evaluate(slice, new PerplexityOptions { Window = 256, BatchSize = 4 });

        foreach (PerplexityResult result in new[] { w256, w64, overlapping, batched })
        {
            Assert.AreEqual(3000, result.PredictedTokens);
            Assert.IsTrue(double.IsFinite(result.Perplexity) && result.Perplexity is > 5 and < 200, result.ToString());
        }

        Assert.HasCount(12, w256.Windows);
        Assert.HasCount(47, w64.Windows);
        Assert.AreNotEqual(w256.Perplexity, w64.Perplexity);
        Assert.IsGreaterThan(w256.Perplexity, w64.Perplexity, "less context predicts worse");
        Assert.IsLessThan(w256.Perplexity, overlapping.Perplexity, "more context predicts better");
        Assert.AreEqual(w256.Nll, batched.Nll, 1e-5 * w256.Nll, "batching windows does not change the result");

        Assert.HasCount(12, reports);
        Assert.AreEqual(12, reports[^1].WindowsDone);
        Assert.AreEqual(3000, reports[^1].PredictedTokens);
        Assert.AreEqual(w256.Perplexity, reports[^1].Perplexity, 1e-12);
    }

    [TestMethod]
    public void CancellationStopsTheEvaluation()
    {
        using var cts = new CancellationTokenSource();
        var evaluator = new PerplexityEvaluator(s_session);
        int reports = 0;
        Assert.Throws<OperationCanceledException>(() => evaluator.Evaluate(s_stream[..2001], new PerplexityOptions { Window = 64 }, new SyncProgress(_ =>
        {
            if (++reports == 2)
            {
                cts.Cancel();
            }
        }), cts.Token));
        Assert.AreEqual(2, reports);
    }

    [TestMethod]
    public void BadArgumentsAreRefused()
    {
        var evaluator = new PerplexityEvaluator(s_session);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => evaluator.Evaluate([1])).Message, "at least 2 tokens");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => evaluator.Evaluate([1, 2, 3], new PerplexityOptions { Window = 2, Stride = 3 })).Message, "stride");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => evaluator.Evaluate([1, 2, 3], new PerplexityOptions { Window = 0 })).Message, "window");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => evaluator.Evaluate([1, 4096, 3])).Message, "4096");
    }

    private sealed class SyncProgress(Action<PerplexityProgress> report) : IProgress<PerplexityProgress>
    {
        public void Report(PerplexityProgress value) => report(value);
    }
}
