using System.Globalization;
using MLNetTransformers.Onnx.Builders;
using MLNetTransformers.Onnx.Model;
using MLNetTransformers.OnnxRuntime;
using static MLNetTransformers.Onnx.Tests.Builders.ReferenceMath;

namespace MLNetTransformers.Onnx.Tests.Builders;

/// <summary>The BERT builder's graph (post-LN encoder, pooler, classifier) against a plain C# BERT over the same weights.</summary>
[TestClass]
public sealed class BertBuilderTests
{
    internal static readonly BertBuilderOptions Tiny = new()
    {
        Layers = 2, Hidden = 32, Heads = 4, Intermediate = 64, Vocab = 200, MaxPositions = 16, NumLabels = 3, PoolerOutput = true, Seed = 9, InitializerRange = 0.1f,
    };

    [TestMethod]
    public void HiddenStatesPoolerAndLogitsMatchTheReferenceWithPadding()
    {
        using OnnxModel model = new BertBuilder(Tiny).BuildModel();
        using var session = new InferenceSession(model.ToBytes(), TestSupport.SessionOptions());
        CollectionAssert.AreEqual(new[] { "input_ids", "attention_mask", "token_type_ids" }, session.InputNames.ToArray());
        CollectionAssert.AreEqual(new[] { "last_hidden_state", "pooler_output", "logits" }, session.OutputNames.ToArray());

        long[][] ids = [[2, 50, 61, 3, 70, 3], [2, 99, 14, 3, 0, 0]];
        long[][] mask = [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]];
        long[][] types = [[0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0]];
        (float[][][] hidden, float[][] pooled, float[][] logits) = Forward(new ModelWeights(model), Tiny, ids, mask, types);

        int batch = ids.Length, length = ids[0].Length;
        using var inputIds = OrtValue.CreateTensor(ids.SelectMany(r => r).ToArray(), [batch, length]);
        using var attentionMask = OrtValue.CreateTensor(mask.SelectMany(r => r).ToArray(), [batch, length]);
        using var tokenTypes = OrtValue.CreateTensor(types.SelectMany(r => r).ToArray(), [batch, length]);
        using SessionOutputs outputs = session.Run(new Dictionary<string, OrtValue> { ["input_ids"] = inputIds, ["attention_mask"] = attentionMask, ["token_type_ids"] = tokenTypes });

        AssertClose(hidden.SelectMany(r => r.SelectMany(v => v)).ToArray(), outputs["last_hidden_state"].GetTensorReadOnlySpan<float>(), 1e-4f, "last_hidden_state");
        AssertClose(pooled.SelectMany(r => r).ToArray(), outputs["pooler_output"].GetTensorReadOnlySpan<float>(), 1e-5f, "pooler_output");
        AssertClose(logits.SelectMany(r => r).ToArray(), outputs["logits"].GetTensorReadOnlySpan<float>(), 1e-5f, "logits");
        CollectionAssert.AreEqual(new long[] { batch, Tiny.NumLabels }, outputs["logits"].TensorInfo.Shape.ToArray());
    }

    [TestMethod]
    public void EncoderWithoutHeadsHasOnlyLastHiddenState()
    {
        BertBuilderOptions options = Tiny with { NumLabels = 0, PoolerOutput = false };
        using OnnxModel model = new BertBuilder(options).BuildModel();
        CollectionAssert.AreEqual(new[] { "last_hidden_state" }, model.Graph.Output.Select(o => o.Name).ToArray());
        Assert.IsFalse(model.Graph.Initializer.Any(t => t.Name.StartsWith("bert.pooler", StringComparison.Ordinal) || t.Name.StartsWith("classifier", StringComparison.Ordinal)));
        var ops = model.AllNodes().GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count());
        Assert.AreEqual(2 * options.Layers + 1, ops["LayerNormalization"]);
        Assert.AreEqual(options.Layers, ops["Erf"]);
    }

    [TestMethod]
    public void ClassifierWithoutPoolerOutputStillPools()
    {
        BertBuilderOptions options = Tiny with { PoolerOutput = false, NumLabels = 2, LabelNames = ["negative", "positive"] };
        using OnnxModel model = new BertBuilder(options).BuildModel();
        using var session = new InferenceSession(model.ToBytes(), TestSupport.SessionOptions());
        CollectionAssert.AreEqual(new[] { "last_hidden_state", "logits" }, session.OutputNames.ToArray());
        long[][] ids = [[2, 7, 8, 3]];
        long[][] ones = [[1, 1, 1, 1]];
        long[][] zeros = [[0, 0, 0, 0]];
        (_, _, float[][] logits) = Forward(new ModelWeights(model), options, ids, ones, zeros);
        using var inputIds = OrtValue.CreateTensor(ids[0], [1, 4]);
        using var attentionMask = OrtValue.CreateTensor(ones[0], [1, 4]);
        using var tokenTypes = OrtValue.CreateTensor(zeros[0], [1, 4]);
        using SessionOutputs outputs = session.Run(new Dictionary<string, OrtValue> { ["input_ids"] = inputIds, ["attention_mask"] = attentionMask, ["token_type_ids"] = tokenTypes });
        AssertClose(logits[0], outputs["logits"].GetTensorReadOnlySpan<float>(), 1e-5f, "logits");
    }

    /// <summary>BertModel + BertForSequenceClassification as modeling_bert.py computes them, row by row.</summary>
    private static (float[][][] Hidden, float[][] Pooled, float[][] Logits) Forward(ModelWeights w, BertBuilderOptions o, long[][] ids, long[][] mask, long[][] types)
    {
        int hidden = o.Hidden, heads = o.Heads, headDim = o.HeadDim, inner = o.Intermediate ?? (4 * hidden);
        double eps = o.LayerNormEpsilon;
        var states = new float[ids.Length][][];
        var pooled = new float[ids.Length][];
        var logits = new float[ids.Length][];
        for (int b = 0; b < ids.Length; b++)
        {
            int n = ids[b].Length;
            bool[] allowed = mask[b].Select(m => m == 1).ToArray();
            float[][] x = Enumerable.Range(0, n).Select(t => LayerNorm(
                Add(Add(Row(w["bert.embeddings.word_embeddings.weight"], ids[b][t], hidden), Row(w["bert.embeddings.position_embeddings.weight"], t, hidden)), Row(w["bert.embeddings.token_type_embeddings.weight"], types[b][t], hidden)),
                w["bert.embeddings.LayerNorm.weight"], w["bert.embeddings.LayerNorm.bias"], eps)).ToArray();
            for (int l = 0; l < o.Layers; l++)
            {
                string p = string.Create(CultureInfo.InvariantCulture, $"bert.encoder.layer.{l}.");
                float[][][] Project(string name) => x.Select(row => Heads(Linear(row, w[p + name + ".weight"], hidden, w[p + name + ".bias"]), heads, headDim)).ToArray();
                float[][] context = Attention(Project("attention.self.query"), Project("attention.self.key"), Project("attention.self.value"), causal: false, allowed);
                for (int t = 0; t < n; t++)
                {
                    float[] attention = Linear(context[t], w[p + "attention.output.dense.weight"], hidden, w[p + "attention.output.dense.bias"]);
                    x[t] = LayerNorm(Add(attention, x[t]), w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps);
                    float[] intermediate = GeluErf(Linear(x[t], w[p + "intermediate.dense.weight"], inner, w[p + "intermediate.dense.bias"]));
                    float[] output = Linear(intermediate, w[p + "output.dense.weight"], hidden, w[p + "output.dense.bias"]);
                    x[t] = LayerNorm(Add(output, x[t]), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps);
                }
            }

            states[b] = x;
            pooled[b] = Linear(x[0], w["bert.pooler.dense.weight"], hidden, w["bert.pooler.dense.bias"]).Select(MathF.Tanh).ToArray();
            logits[b] = o.NumLabels > 0 ? Linear(pooled[b], w["classifier.weight"], o.NumLabels, w["classifier.bias"]) : [];
        }

        return (states, pooled, logits);
    }
}
