using System.Text.Json;
using MLNetTransformers.Data;
using MLNetTransformers.Data.Transforms;
using MLNetTransformers.Generation.Decoding;
using MLNetTransformers.Onnx.Builders;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Cli.Tests;

/// <summary><c>mlnt score</c> with the model tasks: values equal to the library pipeline's (the transforms over the same file).</summary>
public sealed partial class ScoreCommandTests
{
    private static readonly string[] LabelNames = ["sports", "politics", "science"];
    private static string s_classifier = null!;

    static partial void BuildModels()
    {
        s_classifier = Path.Combine(s_root, "classifier");
        new BertBuilder(new BertBuilderOptions { Layers = 2, Hidden = 32, Heads = 4, Vocab = 600, MaxPositions = 64, NumLabels = 3, LabelNames = LabelNames, Seed = 3 }).WriteFolder(s_classifier);
    }

    private static SessionOptions OneThread() => new() { IntraOpThreads = 1, InterOpThreads = 1 };

    /// <summary>The library pipeline over the same file: the task's transform, then the output columns by name.</summary>
    private static IDataView Library(string input, Func<TransformersContext, IEstimator<ITransformer>> estimator)
    {
        var ctx = new TransformersContext();
        IDataView data = ctx.Data.Load(input);
        return estimator(ctx).Fit(data).Transform(data);
    }

    [TestMethod]
    [DataRow("csv", "2")]
    [DataRow("jsonl", "auto")]
    public async Task EmbedTaskEqualsTheLibraryPipeline(string format, string batch)
    {
        string dir = NewDirectory();
        string input = format == "csv" ? WriteCsv(dir, Texts) : WriteJsonl(dir, Texts);
        string output = Path.Combine(dir, "out.jsonl");
        string[] id = format == "csv" ? ["--id-column", "id"] : [];
        var (code, _, stderr) = await InspectCommandTests.Mlnt(["score", "--model", s_classifier, "--task", "embed", "--input", input, "--output", output, "--batch", batch, "--threads", "1", "--normalize", .. id]);
        Assert.AreEqual(0, code, stderr);

        IDataView expected = Library(input, ctx => ctx.Transforms.Embed(s_classifier, new EmbedOptions { BatchSize = 1, Normalize = true, SessionOptions = OneThread() }));
        float[][] vectors = expected.GetColumn<float[]>("embedding").ToArray();
        string?[] errors = expected.GetColumn<string?>("error").ToArray();
        JsonElement[] rows = ReadJsonl(output);
        Assert.AreEqual(Texts.Length, rows.Length);
        for (int i = 0; i < rows.Length; i++)
        {
            CollectionAssert.AreEqual(new[] { format == "csv" ? "id" : "row", "embedding", "error" }, rows[i].EnumerateObject().Select(p => p.Name).ToArray());
            if (format == "csv")
            {
                Assert.AreEqual($"id-{i}", rows[i].GetProperty("id").GetString());
            }
            else
            {
                Assert.AreEqual(i, rows[i].GetProperty("row").GetInt64());
            }

            Assert.AreEqual(errors[i], rows[i].GetProperty("error").GetString(), $"row {i}");
            float[] actual = rows[i].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            Assert.AreEqual(vectors[i].Length, actual.Length, $"row {i}");
            for (int h = 0; h < actual.Length; h++)
            {
                Assert.AreEqual(vectors[i][h], actual[h], 1e-5f, $"row {i}, element {h}");
            }
        }

        Assert.IsTrue(rows.Count(r => r.GetProperty("error").ValueKind == JsonValueKind.Null) >= Texts.Length - 1, "the texts embed");
    }

    [TestMethod]
    public async Task ClassifyTaskEqualsTheLibraryPipeline()
    {
        string dir = NewDirectory();
        string input = WriteCsv(dir, Texts);
        string output = Path.Combine(dir, "out.jsonl");
        var (code, _, stderr) = await InspectCommandTests.Mlnt("score", "--model", s_classifier, "--task", "classify", "--input", input, "--output", output, "--batch", "4", "--threads", "1");
        Assert.AreEqual(0, code, stderr);

        IDataView expected = Library(input, ctx => ctx.Transforms.Classify(s_classifier, new ClassifyOptions { BatchSize = 1, SessionOptions = OneThread() }));
        string?[] labels = expected.GetColumn<string?>("label").ToArray();
        float[] scores = expected.GetColumn<float>("score").ToArray();
        float[][] all = expected.GetColumn<float[]>("scores").ToArray();
        JsonElement[] rows = ReadJsonl(output);
        Assert.AreEqual(Texts.Length, rows.Length);
        for (int i = 0; i < rows.Length; i++)
        {
            CollectionAssert.AreEqual(new[] { "row", "label", "score", "scores", "error" }, rows[i].EnumerateObject().Select(p => p.Name).ToArray());
            Assert.AreEqual(i, rows[i].GetProperty("row").GetInt64());
            Assert.AreEqual(labels[i], rows[i].GetProperty("label").GetString(), $"row {i}");
            Assert.AreEqual(scores[i], rows[i].GetProperty("score").GetSingle(), 1e-5f, $"row {i}");
            float[] actual = rows[i].GetProperty("scores").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            Assert.AreEqual(all[i].Length, actual.Length);
            for (int k = 0; k < actual.Length; k++)
            {
                Assert.AreEqual(all[i][k], actual[k], 1e-5f, $"row {i}, class {k}");
            }
        }

        Assert.IsTrue(rows.Any(r => LabelNames.Contains(r.GetProperty("label").GetString())), "labels come from the model's id2label");
    }

    [TestMethod]
    public async Task GenerateTaskEqualsTheLibraryPipeline()
    {
        string dir = NewDirectory();
        string[] prompts = ["Once upon a time", "The cat", "Hello", "In the morning the sun"];
        string input = WriteJsonl(dir, prompts);
        string output = Path.Combine(dir, "out.jsonl");
        var (code, _, stderr) = await InspectCommandTests.Mlnt("score", "--model", TinyLlama, "--task", "generate", "--input", input, "--output", output, "--id-column", "key", "--max-new-tokens", "5", "--batch", "2", "--threads", "1");
        Assert.AreEqual(0, code, stderr);

        var generation = new GenerationOptions { MaxNewTokens = 5, DoSample = false, Temperature = 1f, TopK = 50, TopP = 1f, RepetitionPenalty = 1f };
        IDataView expected = Library(input, ctx => ctx.Transforms.GenerateText(TinyLlama, new GenerateTextOptions { BatchSize = 1, Generation = generation, SessionOptions = OneThread() }));
        string?[] texts = expected.GetColumn<string?>("generated").ToArray();
        string?[] reasons = expected.GetColumn<string?>("finish_reason").ToArray();
        JsonElement[] rows = ReadJsonl(output);
        Assert.AreEqual(prompts.Length, rows.Length);
        for (int i = 0; i < rows.Length; i++)
        {
            CollectionAssert.AreEqual(new[] { "key", "generated", "finish_reason", "error" }, rows[i].EnumerateObject().Select(p => p.Name).ToArray());
            Assert.AreEqual(100 + i, rows[i].GetProperty("key").GetInt64());
            Assert.AreEqual(texts[i], rows[i].GetProperty("generated").GetString(), $"row {i}");
            Assert.AreEqual(reasons[i], rows[i].GetProperty("finish_reason").GetString(), $"row {i}");
            Assert.AreEqual(JsonValueKind.Null, rows[i].GetProperty("error").ValueKind);
            Assert.IsFalse(string.IsNullOrEmpty(texts[i]), "something was generated");
        }
    }

    [TestMethod]
    public async Task ATooLongTextIsAnErrorRowAndTheJobGoesOn()
    {
        string dir = NewDirectory();
        string tooLong = string.Join(' ', Enumerable.Repeat("harbour", 200));
        string input = WriteCsv(dir, ["short one", tooLong, "another short one"]);
        string output = Path.Combine(dir, "out.jsonl");
        var (code, _, stderr) = await InspectCommandTests.Mlnt("score", "--model", s_classifier, "--task", "classify", "--input", input, "--output", output, "--id-column", "id", "--batch", "2", "--threads", "1");
        Assert.AreEqual(0, code, stderr);
        JsonElement[] rows = ReadJsonl(output);
        CollectionAssert.AreEqual(new[] { "id-0", "id-1", "id-2" }, rows.Select(r => r.GetProperty("id").GetString()).ToArray());
        Assert.AreEqual(JsonValueKind.Null, rows[0].GetProperty("error").ValueKind);
        Assert.IsFalse(string.IsNullOrEmpty(rows[1].GetProperty("error").GetString()), "the long text failed");
        Assert.AreEqual(JsonValueKind.Null, rows[1].GetProperty("label").ValueKind);
        Assert.AreEqual(JsonValueKind.Null, rows[2].GetProperty("error").ValueKind);
        StringAssert.Contains(stderr, "(1 with errors)");

        var (truncated, _, truncatedErr) = await InspectCommandTests.Mlnt("score", "--model", s_classifier, "--task", "classify", "--input", input, "--output", output, "--truncate", "--threads", "1");
        Assert.AreEqual(0, truncated, truncatedErr);
        Assert.IsTrue(ReadJsonl(output).All(r => r.GetProperty("error").ValueKind == JsonValueKind.Null), "--truncate cuts instead");
    }

    [TestMethod]
    public async Task AMissingModelIsExitTwoNamingModel()
    {
        string dir = NewDirectory();
        string input = WriteCsv(dir, Texts);
        var (code, _, stderr) = await InspectCommandTests.Mlnt("score", "--model", Path.Combine(dir, "no-model"), "--task", "embed", "--input", input, "--output", Path.Combine(dir, "o.jsonl"));
        Assert.AreEqual(2, code, stderr);
        StringAssert.Contains(stderr, "--model");
    }

    [TestMethod]
    public void GenerateSurvivesSigkillAndResumes() => KillAndResume("generate", TinyLlama, 300, "--batch", "1", "--max-new-tokens", "8");
}
