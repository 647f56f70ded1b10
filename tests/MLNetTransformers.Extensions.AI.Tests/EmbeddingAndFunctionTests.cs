using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using MLNetTransformers.Generation.Encoding;
using MLNetTransformers.Onnx.Builders;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Extensions.AI.Tests;

[TestClass]
public sealed class EmbeddingAndFunctionTests
{
    private static string s_root = null!;
    private static string s_bert = null!;

    [ClassInitialize]
    public static void Build(TestContext context)
    {
        _ = context;
        s_root = Directory.CreateTempSubdirectory("mlnt-meai").FullName;
        s_bert = Path.Combine(s_root, "bert");
        new BertBuilder(new BertBuilderOptions { Layers = 2, Hidden = 32, Heads = 4, Vocab = 600, MaxPositions = 256, NumLabels = 3, LabelNames = ["negative", "neutral", "positive"], PoolerOutput = true, Seed = 3 })
            .WriteFolder(s_bert);
    }

    [ClassCleanup]
    public static void Cleanup() => Directory.Delete(s_root, recursive: true);

    private static readonly string[] Texts =
    [
        "the harbour was quiet",
        "boats rocked gently against the old stone quay while gulls circled and the tide came in slowly over the sand",
        "gulls",
        "the old quay",
    ];

    [TestMethod]
    public async Task EmbeddingsEqualTheEmbedderInInputOrderAndAreUnitLength()
    {
        using var generator = new OnnxEmbeddingGenerator(new OnnxEmbeddingGeneratorOptions { ModelPath = s_bert });
        GeneratedEmbeddings<Embedding<float>> embeddings = await generator.GenerateAsync(Texts);
        using Embedder reference = Embedder.Open(s_bert, new EmbedderOptions { Normalize = true, BatchPolicy = BatchPolicy.PerRow });
        Assert.HasCount(Texts.Length, embeddings);
        for (int i = 0; i < Texts.Length; i++)
        {
            float[] expected = reference.Embed(Texts[i]);
            float[] actual = embeddings[i].Vector.ToArray();
            Assert.HasCount(32, actual);
            for (int d = 0; d < expected.Length; d++)
            {
                Assert.AreEqual(expected[d], actual[d], 1e-5f, $"text {i} dim {d}");
            }

            Assert.AreEqual(1.0, Math.Sqrt(actual.Sum(v => (double)v * v)), 1e-5);
        }

        long tokens = Texts.Sum(t => (long)reference.Encoder.Tokenizer.CountTokens(t));
        Assert.AreEqual(tokens, embeddings.Usage!.InputTokenCount);
        var metadata = (EmbeddingGeneratorMetadata)generator.GetService(typeof(EmbeddingGeneratorMetadata))!;
        Assert.AreEqual("bert", metadata.DefaultModelId);
        Assert.AreEqual(32, metadata.DefaultModelDimensions);

        GeneratedEmbeddings<Embedding<float>> shortened = await generator.GenerateAsync(Texts[..1], new EmbeddingGenerationOptions { Dimensions = 8 });
        Assert.HasCount(8, shortened[0].Vector.ToArray());
        Assert.AreEqual(1.0, Math.Sqrt(shortened[0].Vector.ToArray().Sum(v => (double)v * v)), 1e-5);
        await Assert.ThrowsExactlyAsync<ArgumentOutOfRangeException>(() => generator.GenerateAsync(Texts, new EmbeddingGenerationOptions { Dimensions = 64 }));
        Assert.IsEmpty(await generator.GenerateAsync([]));
    }

    [TestMethod]
    public async Task ConcurrentCallsGiveTheSameVectors()
    {
        using var generator = new OnnxEmbeddingGenerator(new OnnxEmbeddingGeneratorOptions { ModelPath = s_bert });
        GeneratedEmbeddings<Embedding<float>>[] all = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => generator.GenerateAsync(Texts))));
        foreach (GeneratedEmbeddings<Embedding<float>> result in all)
        {
            for (int i = 0; i < Texts.Length; i++)
            {
                CollectionAssert.AreEqual(all[0][i].Vector.ToArray(), result[i].Vector.ToArray());
            }
        }
    }

    [TestMethod]
    public async Task DependencyInjectionRegistersEmbeddingGenerators()
    {
        var services = new ServiceCollection();
        services.AddOnnxEmbeddingGenerator(s_bert, o => o.Pooling = PoolingStrategy.Cls);
        services.AddKeyedOnnxEmbeddingGenerator("plain", s_bert, o => o.Normalize = false);
        using ServiceProvider provider = services.BuildServiceProvider();
        var generator = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        using Embedder cls = Embedder.Open(s_bert, new EmbedderOptions { Pooling = PoolingStrategy.Cls, Normalize = true });
        float[] expected = cls.Embed(Texts[0]);
        float[] actual = (await generator.GenerateAsync([Texts[0]]))[0].Vector.ToArray();
        for (int d = 0; d < expected.Length; d++)
        {
            Assert.AreEqual(expected[d], actual[d], 1e-5f);
        }

        var plain = provider.GetRequiredKeyedService<IEmbeddingGenerator<string, Embedding<float>>>("plain");
        float[] raw = (await plain.GenerateAsync([Texts[1]]))[0].Vector.ToArray();
        Assert.AreNotEqual(1.0, Math.Sqrt(raw.Sum(v => (double)v * v)), 1e-3, "not normalized");
    }

    [TestMethod]
    public async Task FunctionsCallTheLocalModels()
    {
        using var chat = new OnnxChatClient(new OnnxChatClientOptions { ModelPath = OnnxChatClientTests.ModelPath, ChatTemplate = OnnxChatClientTests.Zephyr });
        using var embeddings = new OnnxEmbeddingGenerator(new OnnxEmbeddingGeneratorOptions { ModelPath = s_bert });
        using Classifier classifier = Classifier.Open(s_bert);
        IList<AIFunction> functions = LocalModelFunctions.Create(chat, embeddings, classifier);
        CollectionAssert.AreEqual(new[] { "generate_text", "embed_text", "classify_text" }, functions.Select(f => f.Name).ToArray());

        object? generated = await functions[0].InvokeAsync(new AIFunctionArguments { ["prompt"] = "CAT, n.", ["maxTokens"] = 5 });
        string expectedText = (await chat.GetResponseAsync([new ChatMessage(ChatRole.User, "CAT, n.")], new ChatOptions { MaxOutputTokens = 5 })).Text;
        Assert.AreEqual(expectedText, ((JsonElement)generated!).GetString());

        object? vector = await functions[1].InvokeAsync(new AIFunctionArguments { ["text"] = Texts[0] });
        float[] expectedVector = (await embeddings.GenerateAsync([Texts[0]]))[0].Vector.ToArray();
        CollectionAssert.AreEqual(expectedVector, ((JsonElement)vector!).EnumerateArray().Select(e => e.GetSingle()).ToArray());

        object? label = await functions[2].InvokeAsync(new AIFunctionArguments { ["text"] = Texts[1] });
        ClassificationResult expectedLabel = classifier.Classify(Texts[1]);
        JsonElement answer = (JsonElement)label!;
        Assert.AreEqual(expectedLabel.Label, answer.GetProperty("label").GetString());
        Assert.AreEqual(expectedLabel.Score, answer.GetProperty("score").GetSingle(), 1e-6f);
        StringAssert.Contains(functions[2].Description, "positive");
        Assert.IsEmpty(LocalModelFunctions.Create());
    }
}
