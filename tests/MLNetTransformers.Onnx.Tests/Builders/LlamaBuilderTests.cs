using MLNetTransformers.Onnx.Builders;
using MLNetTransformers.Onnx.Model;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Onnx.Tests.Builders;

/// <summary>The Llama builder's graph (grouped-query attention, rotary, SwiGLU, RMSNorm) against a plain C# Llama.</summary>
[TestClass]
public sealed class LlamaBuilderTests
{
    internal static readonly LlamaBuilderOptions Tiny = new()
    {
        Layers = 2, Hidden = 64, Heads = 4, KvHeads = 2, Intermediate = 96, Vocab = 300, MaxPositions = 64, RopeTheta = 500, Seed = 1, InitializerRange = 0.1f,
    };

    private static OnnxModel? s_model;
    private static InferenceSession? s_session;

    private static DecoderShape Shape => new(Tiny.Layers, Tiny.KeyValueHeads, Tiny.HeadDim, Tiny.Vocab);

    [ClassInitialize]
    public static void Build(TestContext context)
    {
        _ = context;
        s_model = new LlamaBuilder(Tiny).BuildModel();
        s_session = new InferenceSession(s_model.ToBytes(), TestSupport.SessionOptions());
    }

    [ClassCleanup]
    public static void Release()
    {
        s_session?.Dispose();
        s_model?.Dispose();
    }

    [TestMethod]
    public void GroupedQueryPromptWithEmptyPastThenCachedStepsMatchTheReference()
    {
        var weights = new ModelWeights(s_model!);
        DecoderChecks.PromptThenCachedSteps(s_session!, Shape, ids => LlamaReference.Forward(weights, Tiny, ids));
    }

    [TestMethod]
    public void LeftPaddedBatchMatchesSingleUnpaddedRows()
    {
        var weights = new ModelWeights(s_model!);
        DecoderChecks.LeftPaddedBatch(s_session!, Shape, ids => LlamaReference.Forward(weights, Tiny, ids), padId: LlamaBuilder.EosId);
    }

    [TestMethod]
    public void MultiHeadAttentionAndTiedHeadMatchTheReference()
    {
        LlamaBuilderOptions options = Tiny with { Hidden = 48, Heads = 3, KvHeads = null, TieWordEmbeddings = true, Vocab = 120, RopeTheta = 10000, Seed = 5 };
        using OnnxModel model = new LlamaBuilder(options).BuildModel();
        using var session = new InferenceSession(model.ToBytes(), TestSupport.SessionOptions());
        var weights = new ModelWeights(model);
        Assert.IsFalse(weights.Has("lm_head.weight"));
        DecoderChecks.PromptThenCachedSteps(session, new DecoderShape(options.Layers, options.Heads, options.HeadDim, options.Vocab), ids => LlamaReference.Forward(weights, options, ids));
    }

    [TestMethod]
    public void GraphHasLlamaShapedWeightsAndStandardOperators()
    {
        var dims = s_model!.Graph.Initializer.ToDictionary(t => t.Name, t => t.Dims.ToArray());
        CollectionAssert.AreEqual(new long[] { 64, 64 }, dims["model.layers.0.self_attn.q_proj.weight"]);
        CollectionAssert.AreEqual(new long[] { 64, 32 }, dims["model.layers.0.self_attn.k_proj.weight"]);
        CollectionAssert.AreEqual(new long[] { 64, 32 }, dims["model.layers.1.self_attn.v_proj.weight"]);
        CollectionAssert.AreEqual(new long[] { 64, 96 }, dims["model.layers.1.mlp.gate_proj.weight"]);
        CollectionAssert.AreEqual(new long[] { 96, 64 }, dims["model.layers.1.mlp.down_proj.weight"]);
        CollectionAssert.AreEqual(new long[] { 64, 300 }, dims["lm_head.weight"]);
        CollectionAssert.AreEqual(new long[] { 8 }, dims["model.rotary_emb.inv_freq"]);
        Assert.AreEqual(1_100_048_384L, new LlamaBuilder(LlamaBuilderOptions.TinyLlama1B).ParameterCount, "TinyLlama-1.1B's count; inv_freq is a buffer");
        Assert.IsFalse(dims.Keys.Any(k => k.Contains("bias", StringComparison.Ordinal)), "Llama has no biases");
        var ops = s_model.AllNodes().GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count());
        Assert.IsFalse(ops.ContainsKey("LayerNormalization"));
        Assert.AreEqual(2 * Tiny.Layers + 1, ops["ReduceMean"]);
        Assert.AreEqual(Tiny.Layers, ops["Sigmoid"]);
        Assert.AreEqual(2 * Tiny.Layers, ops["Neg"], "rotate_half on q and k");
        Assert.AreEqual(1, ops["Cos"]);
        Assert.IsTrue(s_model.AllNodes().All(n => string.IsNullOrEmpty(n.Domain)));
    }

    [TestMethod]
    public void InvalidSizesAreRejectedWithTheirNames()
    {
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new LlamaBuilder(Tiny with { KvHeads = 3 })).Message, "KvHeads");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new LlamaBuilder(Tiny with { Hidden = 60, Heads = 4, KvHeads = 2 })).Message, "even");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new Gpt2Builder(Gpt2BuilderTests.Tiny with { Hidden = 30 })).Message, "Hidden");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new BertBuilder(new BertBuilderOptions { Vocab = 3 })).Message, "Vocab");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new BertBuilder(new BertBuilderOptions { NumLabels = 2, LabelNames = ["a"] })).Message, "LabelNames");
    }
}
