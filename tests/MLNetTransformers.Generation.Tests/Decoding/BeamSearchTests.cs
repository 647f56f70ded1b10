using System.Text.Json;
using MLNetTransformers.Generation.Decoding;
using MLNetTransformers.Generation.Logits;
using MLNetTransformers.Generation.Text;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Generation.Tests.Decoding;

[TestClass]
public sealed class BeamSearchTests
{
    private static Generator s_llama = null!;

    [ClassInitialize]
    public static void Load(TestContext context)
    {
        _ = context;
        s_llama = new Generator(ModelFolder.Open(TestSupport.TinyLlamaDirectory), TestSupport.SessionOptions());
    }

    [ClassCleanup]
    public static void Unload() => s_llama.Dispose();

    [TestMethod]
    public void OneBeamEqualsGreedy()
    {
        foreach ((int[] prompt, int[] newIds) in References())
        {
            GenerationResult greedy = s_llama.Generate(prompt, new GenerationOptions { MaxNewTokens = 40 });
            CollectionAssert.AreEqual(newIds, greedy.NewIds.ToArray());
            IReadOnlyList<GenerationResult> beams = s_llama.GenerateBeams(prompt, new GenerationOptions { MaxNewTokens = 40, NumBeams = 1 });
            Assert.HasCount(1, beams);
            CollectionAssert.AreEqual(newIds, beams[0].NewIds.ToArray());
            Assert.AreEqual(greedy.FinishReason, beams[0].FinishReason);
            Assert.AreEqual(greedy.Text, beams[0].Text);
        }
    }

    [TestMethod]
    [DataRow(1.0, false)]
    [DataRow(1.0, true)]
    [DataRow(0.5, false)]
    [DataRow(2.0, false)]
    public void FourBeamScoresAreSortedAndEqualTheRecomputedLogProbabilities(double lengthPenalty, bool earlyStopping)
    {
        var options = new GenerationOptions { MaxNewTokens = 16, NumBeams = 4, NumReturnSequences = 4, LengthPenalty = lengthPenalty, EarlyStopping = earlyStopping };
        int eosFinished = 0;
        foreach ((int[] prompt, _) in References().Take(3))
        {
            IReadOnlyList<GenerationResult> results = s_llama.GenerateBeams(prompt, options);
            Assert.HasCount(4, results);
            for (int i = 1; i < results.Count; i++)
            {
                Assert.IsGreaterThanOrEqualTo(results[i].Score!.Value, results[i - 1].Score!.Value);
            }

            foreach (GenerationResult result in results)
            {
                CollectionAssert.AreEqual(prompt, result.PromptIds.ToArray());
                double sum = RecomputeLogProbability(prompt, [.. result.NewIds]);
                double expected = sum / Math.Pow(result.NewIds.Count, lengthPenalty);
                Assert.AreEqual(expected, result.Score!.Value, 1e-3, $"ids {string.Join(",", result.NewIds)}");
                Assert.AreEqual(result.NewIds[^1] == 2 ? FinishReason.Eos : FinishReason.Length, result.FinishReason);
            }

            // The sequences are distinct hypotheses.
            Assert.HasCount(4, results.Select(r => string.Join(",", r.NewIds)).Distinct());
            eosFinished += results.Count(r => r.FinishReason == FinishReason.Eos);
        }

        // Hypotheses ended by EOS are scored with the EOS token counted in the length (transformers' cur_len + 1 - prompt_len).
        Assert.IsGreaterThan(0, eosFinished);
    }

    [TestMethod]
    public void CacheIsReorderedAndScoresStillMatchANoCacheRecompute()
    {
        (int[] prompt, _) = References().First();
        (GenerationResult[] results, int reordered) = s_llama.GenerateBeamsCore(prompt, new GenerationOptions { MaxNewTokens = 12, NumBeams = 4, NumReturnSequences = 4, EosTokenIds = [] }, default);
        Assert.IsGreaterThan(0, reordered, "no step chose beams out of order");
        foreach (GenerationResult result in results)
        {
            Assert.HasCount(12, result.NewIds);
            Assert.AreEqual(FinishReason.Length, result.FinishReason);
            Assert.AreEqual(RecomputeLogProbability(prompt, [.. result.NewIds]) / 12, result.Score!.Value, 1e-3);
        }
    }

    [TestMethod]
    public void OptionsAreValidated()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GenerationOptions { NumBeams = 0 });
        ArgumentOutOfRangeException ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GenerationOptions { NumReturnSequences = 0 });
        Assert.AreEqual("NumReturnSequences", ex.ParamName);
        Assert.AreEqual("NumBeams", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GenerationOptions { NumBeams = 0 }).ParamName);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => s_llama.GenerateBeams([1, 450], new GenerationOptions { NumBeams = 2, NumReturnSequences = 3 }));
        var defaults = new GenerationOptions();
        Assert.AreEqual(1, defaults.NumBeams);
        Assert.AreEqual(1.0, defaults.LengthPenalty);
        Assert.IsFalse(defaults.EarlyStopping);
        Assert.AreEqual(1, defaults.NumReturnSequences);
    }

    /// <summary>Full forward over prompt + ids without a cache; Σ log-softmax at each generated position.</summary>
    private static double RecomputeLogProbability(int[] prompt, int[] ids)
    {
        long[] all = [.. prompt.Select(i => (long)i), .. ids.Select(i => (long)i)];
        using DecoderInputs inputs = DecoderInputs.CreateWithEmptyPast(s_llama.Signature, all);
        using SessionOutputs outputs = s_llama.Session.Run(inputs.Feeds, [DecoderSignature.LogitsName], null, default);
        OrtValue logits = outputs[DecoderSignature.LogitsName];
        int vocabulary = checked((int)logits.TensorInfo.Shape[2]);
        float[] row = new float[vocabulary];
        double sum = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            int position = prompt.Length - 1 + i;
            logits.GetTensorReadOnlySpan<float>().Slice(position * vocabulary, vocabulary).CopyTo(row);
            TokenSelection.LogSoftmax(row, row);
            sum += row[ids[i]];
        }

        return sum;
    }

    private static IEnumerable<(int[] Prompt, int[] NewIds)> References()
    {
        foreach (string line in File.ReadLines(TestSupport.Reference("greedy.jsonl")))
        {
            if (line.Length == 0)
            {
                continue;
            }

            using var document = JsonDocument.Parse(line);
            JsonElement root = document.RootElement;
            yield return (Ids(root, "prompt_ids"), Ids(root, "new_ids"));
        }

        static int[] Ids(JsonElement root, string name) => root.GetProperty(name).EnumerateArray().Select(e => e.GetInt32()).ToArray();
    }
}
