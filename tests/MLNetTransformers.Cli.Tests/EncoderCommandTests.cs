using System.Text.Json;
using MLNetTransformers.Generation.Encoding;
using MLNetTransformers.Onnx.Builders;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Cli.Tests;

/// <summary><c>mlnt embed</c> and <c>mlnt classify</c> over tiny BERT folders made by <see cref="BertBuilder"/>.</summary>
[TestClass]
public sealed class EncoderCommandTests
{
    private static readonly string[] LabelNames = ["sports", "politics", "science"];
    private static readonly string[] Lines = ["the harbour was quiet", "gulls", "boats rocked gently against the old stone quay while gulls circled overhead"];
    private static string s_root = null!;
    private static string s_classifier = null!;
    private static string s_encoder = null!;
    private static string s_lines = null!;

    [ClassInitialize]
    public static void BuildModels(TestContext context)
    {
        _ = context;
        s_root = Path.Combine(Path.GetTempPath(), "mlnt-encoder-cli-" + Guid.NewGuid().ToString("N"));
        s_classifier = Path.Combine(s_root, "classifier");
        s_encoder = Path.Combine(s_root, "encoder");
        new BertBuilder(new BertBuilderOptions { Layers = 2, Hidden = 32, Heads = 4, Vocab = 600, MaxPositions = 64, NumLabels = 3, LabelNames = LabelNames, Seed = 3 }).WriteFolder(s_classifier);
        new BertBuilder(new BertBuilderOptions { Layers = 1, Hidden = 16, Heads = 2, Vocab = 400, MaxPositions = 32, Seed = 4 }).WriteFolder(s_encoder);
        s_lines = Path.Combine(s_root, "lines.txt");
        File.WriteAllLines(s_lines, Lines);
    }

    [ClassCleanup]
    public static void Cleanup()
    {
        if (Directory.Exists(s_root))
        {
            Directory.Delete(s_root, recursive: true);
        }
    }

    private static SessionOptions OneThread() => new() { IntraOpThreads = 1, InterOpThreads = 1 };

    private static JsonDocument[] JsonLines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l)).ToArray();

    [TestMethod]
    [DataRow("mean", false, "2")]
    [DataRow("cls", true, "auto")]
    [DataRow("last", true, "1")]
    public async Task EmbedWritesOneVectorPerLineEqualToTheLibrary(string pooling, bool normalize, string batch)
    {
        string[] args = ["embed", "--model", s_classifier, "--file", s_lines, "--json", "--pooling", pooling, "--batch", batch, "--threads", "1"];
        var (code, stdout, stderr) = await InspectCommandTests.Mlnt(normalize ? [.. args, "--normalize"] : args);
        Assert.AreEqual(0, code, stderr);
        JsonDocument[] lines = JsonLines(stdout);
        Assert.AreEqual(Lines.Length, lines.Length);

        PoolingStrategy strategy = pooling switch { "cls" => PoolingStrategy.Cls, "last" => PoolingStrategy.LastToken, _ => PoolingStrategy.Mean };
        using Embedder embedder = Embedder.Open(s_classifier, new EmbedderOptions { Pooling = strategy, Normalize = normalize, BatchPolicy = BatchPolicy.PerRow }, OneThread());
        float[][] expected = embedder.Embed(Lines);
        for (int i = 0; i < Lines.Length; i++)
        {
            JsonElement root = lines[i].RootElement;
            Assert.AreEqual(1, root.EnumerateObject().Count(), "only the embedding");
            float[] actual = root.GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            Assert.AreEqual(32, actual.Length);
            for (int h = 0; h < actual.Length; h++)
            {
                Assert.AreEqual(expected[i][h], actual[h], 1e-5f, $"line {i}, element {h}");
            }

            if (normalize)
            {
                Assert.AreEqual(1.0, Math.Sqrt(actual.Sum(v => (double)v * v)), 1e-5);
            }
        }
    }

    [TestMethod]
    public async Task ClassifyWritesLabelScoreAndScoresEqualToTheLibrary()
    {
        var (code, stdout, stderr) = await InspectCommandTests.Mlnt("classify", "--model", s_classifier, "--file", s_lines, "--json", "--threads", "1");
        Assert.AreEqual(0, code, stderr);
        JsonDocument[] lines = JsonLines(stdout);
        Assert.AreEqual(Lines.Length, lines.Length);
        using Classifier classifier = Classifier.Open(s_classifier, new ClassifierOptions { BatchPolicy = BatchPolicy.PerRow }, OneThread());
        ClassificationResult[] expected = classifier.Classify(Lines);
        for (int i = 0; i < Lines.Length; i++)
        {
            JsonElement root = lines[i].RootElement;
            CollectionAssert.AreEqual(new[] { "label", "score", "scores" }, root.EnumerateObject().Select(p => p.Name).ToArray());
            Assert.AreEqual(expected[i].Label, root.GetProperty("label").GetString());
            Assert.AreEqual(expected[i].Score, root.GetProperty("score").GetSingle(), 1e-6f);
            JsonProperty[] scores = root.GetProperty("scores").EnumerateObject().ToArray();
            CollectionAssert.AreEqual(LabelNames, scores.Select(s => s.Name).ToArray());
            Assert.AreEqual(1.0, scores.Sum(s => s.Value.GetDouble()), 1e-5);
            for (int k = 0; k < LabelNames.Length; k++)
            {
                Assert.AreEqual(expected[i].Scores[k].Value, scores[k].Value.GetSingle(), 1e-6f);
            }
        }

        var (textCode, textOut, textErr) = await InspectCommandTests.Mlnt("classify", "--model", s_classifier, "--text", Lines[2], "--threads", "1");
        Assert.AreEqual(0, textCode, textErr);
        StringAssert.StartsWith(textOut, expected[2].Label + "\t");
    }

    [TestMethod]
    [DataRow("embed")]
    [DataRow("classify")]
    public async Task MissingFileIsExitCodeTwoWithOneLine(string command)
    {
        string missing = Path.Combine(s_root, "no-such-file.txt");
        var (code, stdout, stderr) = await InspectCommandTests.Mlnt(command, "--model", s_classifier, "--file", missing, "--json");
        Assert.AreEqual(2, code);
        Assert.AreEqual(string.Empty, stdout);
        string[] errorLines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual(1, errorLines.Length, stderr);
        StringAssert.Contains(errorLines[0], "--file");
        StringAssert.Contains(errorLines[0], missing);
    }

    [TestMethod]
    public async Task BadInputsAreExitCodeTwo()
    {
        string tooLong = string.Join(' ', Enumerable.Repeat("harbour", 80));
        var (code, _, stderr) = await InspectCommandTests.Mlnt("embed", "--model", s_encoder, "--text", tooLong, "--threads", "1");
        Assert.AreEqual(2, code, stderr);
        StringAssert.Contains(stderr, "at most 32");

        var (truncated, stdout, truncatedErr) = await InspectCommandTests.Mlnt("embed", "--model", s_encoder, "--text", tooLong, "--truncate", "--json", "--threads", "1");
        Assert.AreEqual(0, truncated, truncatedErr);
        Assert.AreEqual(16, JsonLines(stdout)[0].RootElement.GetProperty("embedding").GetArrayLength());

        var (noLogits, _, noLogitsErr) = await InspectCommandTests.Mlnt("classify", "--model", s_encoder, "--text", "gulls");
        Assert.AreEqual(2, noLogits);
        StringAssert.Contains(noLogitsErr, "'logits'");

        var (badBatch, _, badBatchErr) = await InspectCommandTests.Mlnt("embed", "--model", s_encoder, "--text", "gulls", "--batch", "zero");
        Assert.AreEqual(2, badBatch);
        StringAssert.Contains(badBatchErr, "--batch");

        var (badPooling, _, _) = await InspectCommandTests.Mlnt("embed", "--model", s_encoder, "--text", "gulls", "--pooling", "max");
        Assert.AreEqual(2, badPooling);
    }
}

/// <summary><c>mlnt bench --scenario encode</c> on a tiny folder (shape and accounting, not speed).</summary>
[TestClass]
public sealed class EncodeBenchCommandTests
{
    [TestMethod]
    public async Task EncodeBenchReportsEveryPolicyOverTheSameRows()
    {
        string root = Path.Combine(Path.GetTempPath(), "mlnt-encode-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            new BertBuilder(new BertBuilderOptions { Layers = 1, Hidden = 16, Heads = 2, Vocab = 400, MaxPositions = 48, Seed = 5 }).WriteFolder(root);
            var (code, stdout, stderr) = await InspectCommandTests.Mlnt("bench", "--scenario", "encode", "--model", root, "--rows", "12", "--json", "--threads", "1");
            Assert.AreEqual(0, code, stderr);
            using JsonDocument doc = JsonDocument.Parse(stdout.Trim());
            JsonElement result = doc.RootElement;
            Assert.AreEqual("encode", result.GetProperty("scenario").GetString());
            Assert.AreEqual(12, result.GetProperty("rows").GetInt32());
            long[] real = new[] { "per_row", "fixed_32", "padding_aware" }.Select(name =>
            {
                JsonElement policy = result.GetProperty(name);
                Assert.IsGreaterThan(0.0, policy.GetProperty("rows_per_s").GetDouble());
                Assert.IsGreaterThanOrEqualTo(policy.GetProperty("real_tokens").GetInt64(), policy.GetProperty("padded_tokens").GetInt64());
                return policy.GetProperty("real_tokens").GetInt64();
            }).ToArray();
            Assert.AreEqual(1, real.Distinct().Count(), "every policy scores the same rows");
            Assert.AreEqual(12, result.GetProperty("per_row").GetProperty("runs").GetInt32());
            Assert.AreEqual(1, result.GetProperty("fixed_32").GetProperty("runs").GetInt32());
            Assert.IsTrue(result.TryGetProperty("speedup", out _));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
