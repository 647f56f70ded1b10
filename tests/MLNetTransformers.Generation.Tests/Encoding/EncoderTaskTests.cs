using System.Text.Json.Nodes;
using MLNetTransformers.Generation.Encoding;
using MLNetTransformers.Onnx.Builders;
using MLNetTransformers.OnnxRuntime;
using MLNetTransformers.Tokenizers;

namespace MLNetTransformers.Generation.Tests.Encoding;

/// <summary>Embeddings and classification over a tiny BERT folder made by <see cref="BertBuilder"/>.</summary>
[TestClass]
public sealed class EncoderTaskTests
{
    private const int MaxPositions = 96;
    private static readonly string[] LabelNames = ["negative", "neutral", "positive"];
    private static string s_root = null!;
    private static string s_bert = null!;

    [ClassInitialize]
    public static void BuildModels(TestContext context)
    {
        _ = context;
        s_root = Path.Combine(Path.GetTempPath(), "mlnt-encoding-tests-" + Guid.NewGuid().ToString("N"));
        s_bert = Path.Combine(s_root, "bert");
        new BertBuilder(new BertBuilderOptions { Layers = 2, Hidden = 32, Heads = 4, Vocab = 600, MaxPositions = MaxPositions, PoolerOutput = true, NumLabels = 3, LabelNames = LabelNames, Seed = 7 })
            .WriteFolder(s_bert);
    }

    [ClassCleanup]
    public static void Cleanup()
    {
        if (Directory.Exists(s_root))
        {
            Directory.Delete(s_root, recursive: true);
        }
    }

    /// <summary>Rows of very different lengths (2 to ~70 tokens), shuffled with a fixed seed.</summary>
    private static string[] SkewedTexts(int count = 24)
    {
        string[] words = ["the", "harbour", "was", "quiet", "boats", "rocked", "gently", "against", "old", "stone", "quay", "while", "gulls", "circled"];
        var random = new Random(42);
        var texts = new List<string>();
        for (int i = 0; i < count; i++)
        {
            int n = (i % 3) switch { 0 => 1 + random.Next(3), 1 => 5 + random.Next(6), _ => 12 + random.Next(10) };
            texts.Add(string.Join(' ', Enumerable.Range(0, n).Select(_ => words[random.Next(words.Length)])));
        }

        return texts.OrderBy(_ => random.Next()).ToArray();
    }

    private static TextEncoder OpenEncoder(TextEncoderOptions? options = null) => TextEncoder.Open(s_bert, TestSupport.SessionOptions(), options);

    private static void AssertClose(float[] expected, float[] actual, float tolerance, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, what);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], actual[i], tolerance, $"{what}: element {i}");
        }
    }

    /// <summary>last_hidden_state [seq, hidden] of one unpadded text, read straight from a session.</summary>
    private static float[,] HiddenStates(InferenceSession session, TokenEncoding encoding)
    {
        long[] shape = [1, encoding.Count];
        using OrtValue ids = OrtValue.CreateTensor(encoding.Ids.Select(i => (long)i).ToArray(), shape);
        using OrtValue mask = OrtValue.CreateTensor(Enumerable.Repeat(1L, encoding.Count).ToArray(), shape);
        using OrtValue types = OrtValue.CreateTensor(encoding.TypeIds.Select(i => (long)i).ToArray(), shape);
        using SessionOutputs outputs = session.Run(new Dictionary<string, OrtValue> { ["input_ids"] = ids, ["attention_mask"] = mask, ["token_type_ids"] = types }, ["last_hidden_state"]);
        float[] data = outputs[0].ToArray<float>();
        int hidden = data.Length / encoding.Count;
        var result = new float[encoding.Count, hidden];
        Buffer.BlockCopy(data, 0, result, 0, data.Length * sizeof(float));
        return result;
    }

    [TestMethod]
    public void BatchedEmbeddingsEqualPerRowEmbeddingsInInputOrder()
    {
        string[] texts = SkewedTexts();
        using TextEncoder encoder = OpenEncoder();
        int[] lengths = encoder.Tokenize(texts).Select(e => e.Count).ToArray();
        Assert.IsGreaterThan(8 * lengths.Min(), lengths.Max(), "the rows differ a lot in length");
        var perRow = new Embedder(encoder, new EmbedderOptions { BatchPolicy = BatchPolicy.PerRow });
        float[][] expected = perRow.Embed(texts);
        Assert.AreEqual(texts.Length, (int)perRow.Batcher.Batches);

        foreach (BatchPolicy policy in new[] { BatchPolicy.PaddingAware(256, 0, 8), BatchPolicy.PaddingAware(100_000, 10, 64), BatchPolicy.FixedSize(5) })
        {
            var batched = new Embedder(encoder, new EmbedderOptions { BatchPolicy = policy });
            float[][] actual = batched.Embed(texts);
            Assert.AreEqual(texts.Length, actual.Length);
            Assert.IsLessThan(texts.Length, (int)batched.Batcher.Batches, $"{policy} batches rows together");
            for (int i = 0; i < texts.Length; i++)
            {
                AssertClose(expected[i], actual[i], 1e-5f, $"{policy}, row {i}");
            }
        }

        // Padding-aware batching feeds less padding than fixed batches over the same rows.
        var aware = new PaddingAwareBatcher(BatchPolicy.PaddingAware(256, 0, 8));
        var fixedSize = new PaddingAwareBatcher(BatchPolicy.FixedSize(8));
        new Embedder(encoder).Embed(texts, aware);
        new Embedder(encoder).Embed(texts, fixedSize);
        Assert.AreEqual(lengths.Sum(), (int)aware.RealTokens);
        Assert.IsLessThan(fixedSize.PaddedTokens, aware.PaddedTokens);
    }

    [TestMethod]
    public void PoolingMatchesHandComputationFromLastHiddenState()
    {
        string[] texts = ["gulls", "the old stone quay was quiet while the boats rocked gently against it"];
        using TextEncoder encoder = OpenEncoder();
        TokenEncoding[] encodings = encoder.Tokenize(texts);
        foreach (PoolingStrategy pooling in Enum.GetValues<PoolingStrategy>())
        {
            // Both rows in one right-padded batch: the short row's padding must not leak into its vector.
            using var embedder = new Embedder(encoder, new EmbedderOptions { Pooling = pooling, BatchPolicy = BatchPolicy.FixedSize(2) });
            float[][] vectors = embedder.Embed(texts);
            Assert.AreEqual(1, (int)embedder.Batcher.Batches);
            for (int r = 0; r < texts.Length; r++)
            {
                float[,] hidden = HiddenStates(encoder.Session, encodings[r]);
                int tokens = hidden.GetLength(0), size = hidden.GetLength(1);
                var expected = new float[size];
                for (int h = 0; h < size; h++)
                {
                    expected[h] = pooling switch
                    {
                        PoolingStrategy.Cls => hidden[0, h],
                        PoolingStrategy.LastToken => hidden[tokens - 1, h],
                        _ => (float)Enumerable.Range(0, tokens).Average(t => (double)hidden[t, h]),
                    };
                }

                AssertClose(expected, vectors[r], 1e-5f, $"{pooling}, row {r}");
            }
        }
    }

    [TestMethod]
    public void PoolHandlesLeftAndRightPadding()
    {
        // Four positions, two features: position p holds (p, 10p).
        float[] hidden = [0, 0, 1, 10, 2, 20, 3, 30];
        long[] right = [1, 1, 0, 0];
        long[] left = [0, 0, 1, 1];
        CollectionAssert.AreEqual(new float[] { 1, 10 }, Embedder.Pool(hidden, right, PoolingStrategy.LastToken, false));
        CollectionAssert.AreEqual(new float[] { 3, 30 }, Embedder.Pool(hidden, left, PoolingStrategy.LastToken, false));
        CollectionAssert.AreEqual(new float[] { 0, 0 }, Embedder.Pool(hidden, right, PoolingStrategy.Cls, false));
        CollectionAssert.AreEqual(new float[] { 2, 20 }, Embedder.Pool(hidden, left, PoolingStrategy.Cls, false));
        CollectionAssert.AreEqual(new float[] { 0.5f, 5 }, Embedder.Pool(hidden, right, PoolingStrategy.Mean, false));
        CollectionAssert.AreEqual(new float[] { 2.5f, 25 }, Embedder.Pool(hidden, left, PoolingStrategy.Mean, false));
        float[] unit = Embedder.Pool(hidden, left, PoolingStrategy.LastToken, true);
        AssertClose([3 / MathF.Sqrt(909), 30 / MathF.Sqrt(909)], unit, 1e-7f, "normalized");
        Assert.ThrowsExactly<ArgumentException>(() => Embedder.Pool(hidden, [0L, 0, 0, 0], PoolingStrategy.Cls, false));
        Assert.ThrowsExactly<ArgumentException>(() => Embedder.Pool(hidden, [1L, 1, 1], PoolingStrategy.Mean, false));
    }

    [TestMethod]
    public void NormalizeGivesUnitVectorsInTheSameDirection()
    {
        string[] texts = SkewedTexts(9);
        using TextEncoder encoder = OpenEncoder();
        float[][] raw = new Embedder(encoder).Embed(texts);
        float[][] unit = new Embedder(encoder, new EmbedderOptions { Normalize = true }).Embed(texts);
        for (int i = 0; i < texts.Length; i++)
        {
            double norm = Math.Sqrt(raw[i].Sum(v => (double)v * v));
            Assert.IsGreaterThan(1e-3, norm);
            Assert.AreEqual(1.0, Math.Sqrt(unit[i].Sum(v => (double)v * v)), 1e-5, $"row {i}");
            AssertClose(raw[i].Select(v => (float)(v / norm)).ToArray(), unit[i], 1e-5f, $"row {i} direction");
        }
    }

    [TestMethod]
    public void ClassifierSoftmaxesLogitsWithLabelsFromId2Label()
    {
        string[] texts = SkewedTexts(10);
        using Classifier classifier = Classifier.Open(s_bert, new ClassifierOptions { BatchPolicy = BatchPolicy.PaddingAware(200, 0, 4) }, TestSupport.SessionOptions());
        CollectionAssert.AreEqual(LabelNames, classifier.Labels.ToArray());
        ClassificationResult[] results = classifier.Classify(texts);
        TokenEncoding[] encodings = classifier.Encoder.Tokenize(texts);
        for (int i = 0; i < texts.Length; i++)
        {
            ClassificationResult result = results[i];
            CollectionAssert.AreEqual(LabelNames, result.Scores.Select(s => s.Key).ToArray());
            Assert.AreEqual(1.0, result.Scores.Sum(s => (double)s.Value), 1e-6);

            // Independent expectation: the logits of this row alone, straight from the session, through a softmax written here.
            long[] shape = [1, encodings[i].Count];
            using OrtValue ids = OrtValue.CreateTensor(encodings[i].Ids.Select(x => (long)x).ToArray(), shape);
            using OrtValue mask = OrtValue.CreateTensor(Enumerable.Repeat(1L, encodings[i].Count).ToArray(), shape);
            using OrtValue types = OrtValue.CreateTensor(new long[encodings[i].Count], shape);
            using SessionOutputs outputs = classifier.Encoder.Session.Run(new Dictionary<string, OrtValue> { ["input_ids"] = ids, ["attention_mask"] = mask, ["token_type_ids"] = types }, ["logits"]);
            float[] logits = outputs[0].ToArray<float>();
            double[] exp = logits.Select(l => Math.Exp(l)).ToArray();
            double[] probabilities = exp.Select(e => e / exp.Sum()).ToArray();
            int best = Array.IndexOf(probabilities, probabilities.Max());
            Assert.AreEqual(LabelNames[best], result.Label, $"row {i}");
            Assert.AreEqual(probabilities[best], result.Score, 1e-5);
            for (int k = 0; k < 3; k++)
            {
                Assert.AreEqual(probabilities[k], result.Scores[k].Value, 1e-5, $"row {i}, label {k}");
            }
        }
    }

    [TestMethod]
    public void LabelsFallBackToLabelIWithoutId2Label()
    {
        string copy = Path.Combine(s_root, "no-id2label");
        CopyFolder(s_bert, copy);
        string configPath = Path.Combine(copy, "config.json");
        JsonObject config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config.Remove("id2label");
        config.Remove("label2id");
        File.WriteAllText(configPath, config.ToJsonString());
        using Classifier classifier = Classifier.Open(copy, sessionOptions: TestSupport.SessionOptions());
        CollectionAssert.AreEqual(new[] { "LABEL_0", "LABEL_1", "LABEL_2" }, classifier.Labels.ToArray());
        StringAssert.StartsWith(classifier.Classify("the quay").Label, "LABEL_");
    }

    [TestMethod]
    public void SimulatedOutOfMemoryHalvesBatchesAndKeepsResults()
    {
        string[] texts = SkewedTexts(30);
        using TextEncoder encoder = OpenEncoder();
        float[][] expected = new Embedder(encoder, new EmbedderOptions { BatchPolicy = BatchPolicy.PerRow }).Embed(texts);

        const int Limit = 120;
        var ran = new List<(int Rows, int Length)>();
        int failures = 0;
        encoder.BeforeRun = (rows, length) =>
        {
            if (rows > 1 && rows * length > Limit)
            {
                failures++;
                throw BatchPolicyTests.SimulatedOutOfMemory((long)rows * length * 32 * 4);
            }

            ran.Add((rows, length));
        };
        var embedder = new Embedder(encoder, new EmbedderOptions { BatchPolicy = BatchPolicy.PaddingAware(100_000, 0, 64) });
        float[][] actual = embedder.Embed(texts);
        for (int i = 0; i < texts.Length; i++)
        {
            AssertClose(expected[i], actual[i], 1e-5f, $"row {i}");
        }

        Assert.IsGreaterThan(0, failures);
        Assert.AreEqual(failures, embedder.Batcher.OutOfMemorySplits);
        Assert.IsLessThan(100_000L, embedder.Batcher.EffectiveTokenBudget!.Value);
        Assert.IsTrue(ran.All(r => r.Rows == 1 || r.Rows * r.Length <= Limit));
        Assert.AreEqual(texts.Length, ran.Sum(r => r.Rows));

        // The reduced budget carries over: a second job runs without a single failure.
        int before = failures;
        embedder.Embed(texts);
        Assert.AreEqual(before, failures);

        // A single row that does not fit fails the job.
        encoder.BeforeRun = (_, length) => throw BatchPolicyTests.SimulatedOutOfMemory(length);
        Assert.ThrowsExactly<OnnxRuntimeException>(() => embedder.Embed(["the quay"]));
    }

    [TestMethod]
    public void UnfeedableInputIsNamedWithTheGraphInputs()
    {
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => TextEncoder.Open(TestSupport.TinyLlamaDirectory, TestSupport.SessionOptions()));
        StringAssert.Contains(ex.Message, "'past_key_values.0.key'");
        StringAssert.Contains(ex.Message, "input_ids");
        StringAssert.Contains(ex.Message, "graph inputs:");
    }

    [TestMethod]
    public void EmptyInputGivesEmptyResultWithoutRunning()
    {
        using TextEncoder encoder = OpenEncoder();
        encoder.BeforeRun = (_, _) => Assert.Fail("no run expected");
        Assert.AreEqual(0, new Embedder(encoder).Embed([]).Length);
        Assert.AreEqual(0, new Classifier(encoder).Classify([]).Length);
    }

    [TestMethod]
    public void TooLongTextIsAClearErrorUnlessTruncating()
    {
        string text = string.Join(' ', Enumerable.Repeat("harbour quay", MaxPositions));
        using (TextEncoder strict = OpenEncoder())
        {
            Assert.AreEqual(MaxPositions, strict.MaxLength);
            var ex = Assert.ThrowsExactly<ArgumentException>(() => new Embedder(strict).Embed(["gulls", text]));
            Assert.AreEqual("texts", ex.ParamName);
            StringAssert.Contains(ex.Message, "Text 1 has");
            StringAssert.Contains(ex.Message, $"at most {MaxPositions}");
        }

        using TextEncoder truncating = OpenEncoder(new TextEncoderOptions { Truncate = true });
        TokenEncoding encoding = truncating.Tokenize([text])[0];
        Assert.AreEqual(MaxPositions, encoding.Count);
        Assert.AreEqual(truncating.Tokenizer.TokenToId("[SEP]"), encoding.Ids[^1], "special tokens survive truncation");
        float[] vector = new Embedder(truncating).Embed(text);
        Assert.AreEqual(32, vector.Length);
        Assert.IsTrue(vector.All(float.IsFinite));
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
