using MLNetTransformers.Onnx.Builders;
using MLNetTransformers.Onnx.Model;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Onnx.Tests.Builders;

/// <summary>The GPT-2 builder's graph in ONNX Runtime against a plain C# GPT-2 over the same weights.</summary>
[TestClass]
public sealed class Gpt2BuilderTests
{
    internal static readonly Gpt2BuilderOptions Tiny = new() { Layers = 2, Hidden = 32, Heads = 4, Vocab = 300, MaxPositions = 32, Seed = 3, InitializerRange = 0.1f };

    private static OnnxModel? s_model;
    private static InferenceSession? s_session;

    private static DecoderShape Shape => new(Tiny.Layers, Tiny.Heads, Tiny.HeadDim, Tiny.Vocab);

    [ClassInitialize]
    public static void Build(TestContext context)
    {
        _ = context;
        s_model = new Gpt2Builder(Tiny).BuildModel();
        s_session = new InferenceSession(s_model.ToBytes(), TestSupport.SessionOptions());
    }

    [ClassCleanup]
    public static void Release()
    {
        s_session?.Dispose();
        s_model?.Dispose();
    }

    [TestMethod]
    public void PromptWithEmptyPastThenCachedStepsMatchTheReference()
    {
        var weights = new ModelWeights(s_model!);
        DecoderChecks.PromptThenCachedSteps(s_session!, Shape, ids => Gpt2Reference.Forward(weights, Tiny, ids));
    }

    [TestMethod]
    public void LeftPaddedBatchMatchesSingleUnpaddedRows()
    {
        var weights = new ModelWeights(s_model!);
        DecoderChecks.LeftPaddedBatch(s_session!, Shape, ids => Gpt2Reference.Forward(weights, Tiny, ids), padId: Tiny.Vocab - 1);
    }

    [TestMethod]
    public void UntiedHeadAndWordLevelVocabularyMatchTheReference()
    {
        Gpt2BuilderOptions options = Tiny with { TieWordEmbeddings = false, Vocab = 120, Intermediate = 48, Seed = 11 };
        using OnnxModel model = new Gpt2Builder(options).BuildModel();
        Assert.IsTrue(model.Graph.Initializer.Any(t => t.Name == "lm_head.weight" && t.Dims.SequenceEqual(new long[] { 32, 120 })));
        Assert.IsFalse(model.Graph.Node.Any(n => n.OpType == "Transpose" && n.Input[0] == "transformer.wte.weight"));
        using var session = new InferenceSession(model.ToBytes(), TestSupport.SessionOptions());
        var weights = new ModelWeights(model);
        DecoderChecks.PromptThenCachedSteps(session, new DecoderShape(options.Layers, options.Heads, options.HeadDim, options.Vocab), ids => Gpt2Reference.Forward(weights, options, ids));
    }

    [TestMethod]
    public void GraphUsesStandardOpset17OperatorsOfGpt2()
    {
        Assert.AreEqual(1, s_model!.Proto.OpsetImport.Count);
        Assert.AreEqual(string.Empty, s_model.Proto.OpsetImport[0].Domain);
        Assert.AreEqual(17L, s_model.Proto.OpsetImport[0].Version);
        Assert.IsTrue(s_model.AllNodes().All(n => string.IsNullOrEmpty(n.Domain)));
        var ops = s_model.AllNodes().GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count());
        Assert.AreEqual(2 * Tiny.Layers + 1, ops["LayerNormalization"]);
        Assert.AreEqual(Tiny.Layers, ops["Tanh"]);
        Assert.AreEqual(Tiny.Layers, ops["Split"]);
        Assert.AreEqual(Tiny.Layers, ops["Softmax"]);
        Assert.IsTrue(s_model.AllNodes().Any(n => n.OpType == "Transpose" && n.Input[0] == "transformer.wte.weight"), "tied lm_head");
        Assert.AreEqual(new Gpt2Builder(Tiny).ParameterCount, s_model.Graph.Initializer.Where(t => t.Name.StartsWith("transformer.", StringComparison.Ordinal)).Sum(t => t.Dims.Aggregate(1L, (a, b) => a * b)));
    }

    [TestMethod]
    public void DistilGpt2ShapeHasDistilGpt2sParameterCount() =>
        Assert.AreEqual(81_912_576L, new Gpt2Builder(Gpt2BuilderOptions.DistilGpt2).ParameterCount);
}
