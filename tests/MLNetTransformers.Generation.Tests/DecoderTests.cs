using System.Text.Json;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Generation.Tests;

[TestClass]
public sealed class DecoderTests
{
    private static InferenceSession s_session = null!;

    [ClassInitialize]
    public static void Load(TestContext context)
    {
        _ = context;
        s_session = new InferenceSession(TestSupport.TinyLlamaModel, TestSupport.SessionOptions());
    }

    [ClassCleanup]
    public static void Unload() => s_session.Dispose();

    [TestMethod]
    public void SignatureOfTheTinyLlama()
    {
        DecoderSignature signature = DecoderSignature.FromSession(s_session);
        Assert.IsTrue(signature.HasAttentionMask);
        Assert.IsTrue(signature.HasPositionIds);
        Assert.IsFalse(signature.HasUseCacheBranch);
        Assert.IsFalse(signature.HasTokenTypeIds);
        Assert.AreEqual(4, signature.LayerCount);
        Assert.HasCount(8, signature.PastInputs);
        Assert.AreEqual(4096, signature.VocabularySize);
        Assert.AreEqual(TensorElementType.Float32, signature.LogitsElementType);
        PastKeyValueInput first = signature.PastInputs[0];
        Assert.AreEqual(new PastKeyValueInput("past_key_values.0.key", "present.0.key", 0, true, TensorElementType.Float32, 2, 32), first);
        Assert.AreEqual("past_key_values.3.value", signature.PastInputs[^1].Name);
    }

    [TestMethod]
    public void PositionIdsFollowHuggingFaceForLeftPadding()
    {
        long[] mask = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1];
        long[] positions = new long[mask.Length];
        DecoderInputs.ComputePositionIds(mask, 2, positions);
        CollectionAssert.AreEqual(new long[] { 1, 1, 0, 1, 2, 0, 1, 2, 3, 4 }, positions);
    }

    [TestMethod]
    public void LogitsProbesMatchThePyTorchReference()
    {
        DecoderSignature signature = DecoderSignature.FromSession(s_session);
        using var probes = JsonDocument.Parse(File.ReadAllText(TestSupport.Reference("logits_probe.json")));
        int checkedProbes = 0;
        foreach (JsonElement probe in probes.RootElement.GetProperty("probes").EnumerateArray())
        {
            long[] ids = probe.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            using var inputs = DecoderInputs.CreateWithEmptyPast(signature, ids);
            Assert.AreEqual(1, inputs.BatchSize);
            Assert.AreEqual(ids.Length, inputs.SequenceLength);
            Assert.HasCount(3 + 8, inputs.Feeds);
            using SessionOutputs outputs = s_session.Run(inputs.Feeds);
            float[] logits = outputs["logits"].ToArray<float>();
            int position = probe.GetProperty("last_position").GetInt32();
            float[] last = logits.AsSpan(position * 4096, 4096).ToArray();
            double[] expected = probe.GetProperty("first_16_logits").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.AreEqual(expected[i], last[i], 1e-4, $"probe {checkedProbes} logit {i}");
            }

            Assert.AreEqual(probe.GetProperty("argmax").GetInt32(), Array.IndexOf(last, last.Max()));
            double norm = Math.Sqrt(last.Sum(v => (double)v * v));
            Assert.AreEqual(probe.GetProperty("l2_norm").GetDouble(), norm, 1e-4 * norm);
            checkedProbes++;
        }

        Assert.AreEqual(2, checkedProbes);
    }

    [TestMethod]
    public void WindowNllIsTheSumOfLogSoftmaxComputedByHand()
    {
        using var probes = JsonDocument.Parse(File.ReadAllText(TestSupport.Reference("logits_probe.json")));
        int[] ids = probes.RootElement.GetProperty("probes")[0].GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();

        // By hand: one forward pass over all but the last token, then -log softmax at each position for the next token.
        DecoderSignature signature = DecoderSignature.FromSession(s_session);
        using var inputs = DecoderInputs.CreateWithEmptyPast(signature, ids[..^1].Select(i => (long)i).ToArray());
        using SessionOutputs outputs = s_session.Run(inputs.Feeds);
        float[] logits = outputs["logits"].ToArray<float>();
        double expected = 0;
        for (int position = 0; position < ids.Length - 1; position++)
        {
            double[] row = logits.Skip(position * 4096).Take(4096).Select(v => (double)v).ToArray();
            double logSumExp = Math.Log(row.Select(v => Math.Exp(v)).Sum());
            expected += logSumExp - row[ids[position + 1]];
        }

        var evaluator = new PerplexityEvaluator(s_session);
        PerplexityResult result = evaluator.Evaluate(ids, new PerplexityOptions { Window = ids.Length - 1 });
        Assert.HasCount(1, result.Windows);
        Assert.AreEqual(ids.Length - 1, result.PredictedTokens);
        Assert.AreEqual(expected, result.Nll, 1e-7 * expected);
        Assert.AreEqual(Math.Exp(expected / (ids.Length - 1)), result.Perplexity, 1e-7 * result.Perplexity);

        // The same stream in windows of 8 predicts the same tokens with less context: a different (finite) loss.
        PerplexityResult shortWindows = evaluator.Evaluate(ids, new PerplexityOptions { Window = 8 });
        Assert.AreEqual(ids.Length - 1, shortWindows.PredictedTokens);
        Assert.AreNotEqual(result.Nll, shortWindows.Nll);
        Assert.IsTrue(double.IsFinite(shortWindows.Nll));
    }

    [TestMethod]
    public void NegativeLogLikelihoodMatchesDoublePrecisionForAnyLength()
    {
        var random = new Random(7);
        foreach (int length in new[] { 1, 3, 8, 9, 31, 4096, 50257 })
        {
            float[] logits = Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() * 40) - 20)).ToArray();
            int target = random.Next(length);
            double max = logits.Max();
            double expected = Math.Log(logits.Sum(v => Math.Exp(v - max))) + max - logits[target];
            Assert.AreEqual(expected, PerplexityEvaluator.NegativeLogLikelihood(logits, target), 1e-6 * Math.Max(1, Math.Abs(expected)), $"length {length}");
        }
    }

    [TestMethod]
    public void NegativeLogLikelihoodIsStableForLargeLogits()
    {
        float[] logits = [1000f, 1000f, -1000f];
        Assert.AreEqual(Math.Log(2), PerplexityEvaluator.NegativeLogLikelihood(logits, 0), 1e-12);
        Assert.IsGreaterThan(1000.0, PerplexityEvaluator.NegativeLogLikelihood(logits, 2));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => PerplexityEvaluator.NegativeLogLikelihood(logits, 3));
    }
}
