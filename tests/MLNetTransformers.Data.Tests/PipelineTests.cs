using System.Text.Json.Nodes;
using MLNetTransformers.Data.Transforms;

namespace MLNetTransformers.Data.Tests;

[TestClass]
public sealed class PipelineTests
{
    private static TextRow[] Texts(params string?[] texts) => texts.Select(t => new TextRow { Text = t }).ToArray();

    [TestMethod]
    public void Transform_IsLazy_AndEachEnumerationRestarts()
    {
        var ctx = new TransformersContext();
        var source = new CountingSequence<TextRow>(Texts("a", "bb", "ccc", "dddd", "eeeee"));
        var counting = new LengthTransformer();
        IDataView view = counting.Transform(ctx.Data.LoadFromEnumerable(source));
        Assert.AreEqual(0, source.Enumerations, "Transform reads nothing");
        Assert.AreEqual(0, counting.Batches);

        DataBatch first = view.GetBatches(2).First();
        Assert.AreEqual(2, source.Pulled, "the first batch pulls only its rows");
        Assert.AreEqual(1, counting.Batches);
        CollectionAssert.AreEqual(new[] { 1, 2 }, first.GetColumn<int>("length"));

        CollectionAssert.AreEqual(new[] { 1, 2, 3, 4, 5 }, view.GetColumn<int>("length").ToArray());
        CollectionAssert.AreEqual(new[] { 1, 2, 3, 4, 5 }, view.GetColumn<int>("length").ToArray(), "a second enumeration starts at the first row again");
        Assert.AreEqual(3, source.Enumerations);
    }

    [TestMethod]
    public void RowErrors_GoToTheErrorColumn_AndLaterTransformsSkipThoseRows()
    {
        var ctx = new TransformersContext();
        var first = new LengthTransformer();
        var second = new LengthTransformer(output: "length2");
        IDataView view = first.Append(second).Transform(ctx.Data.LoadFromEnumerable(Texts("ok", "bad row", "fine")));
        Assert.AreEqual("text: Text, length: Int32, length2: Int32, error: Text", view.Schema.ToString());
        var rows = TestData.Rows(view);
        CollectionAssert.AreEqual(new object?[] { "ok", 2, 2, null }, rows[0].Values);
        CollectionAssert.AreEqual(new object?[] { "bad row", 0, 0, "bad text" }, rows[1].Values);
        CollectionAssert.AreEqual(new object?[] { "fine", 4, 4, null }, rows[2].Values);
        Assert.AreEqual(3, first.RowsMapped);
        Assert.AreEqual(2, second.RowsMapped, "the failed row is not mapped again");
    }

    [TestMethod]
    public void RowError_WithoutErrorColumn_ThrowsNamingTheRow()
    {
        var ctx = new TransformersContext();
        IDataView view = new LengthTransformer(errorColumn: null).Transform(ctx.Data.LoadFromEnumerable(Texts("ok", "x", "bad")));
        var e = Assert.ThrowsExactly<RowMappingException>(() => TestData.Rows(view));
        Assert.AreEqual(2L, e.RowNumber);
    }

    [TestMethod]
    public void MissingInputColumn_FailsAtTransform_ListingTheSchema()
    {
        var ctx = new TransformersContext();
        IDataView data = ctx.Data.LoadFromEnumerable(Texts("a"));
        var e = Assert.ThrowsExactly<KeyNotFoundException>(() => new LengthTransformer("body").Transform(data));
        StringAssert.Contains(e.Message, "'body'");
        StringAssert.Contains(e.Message, "text: Text");
        var t = Assert.ThrowsExactly<KeyNotFoundException>(() => ctx.Transforms.Tokenize(TestData.TinyLlama, "body").Fit(data));
        StringAssert.Contains(t.Message, "text: Text");
        var chain = new LengthTransformer().Append(new LengthTransformer(input: "length"));
        var type = Assert.ThrowsExactly<ArgumentException>(() => chain.GetOutputSchema(data.Schema));
        StringAssert.Contains(type.Message, "Int32");
    }

    [TestMethod]
    public void EstimatorChain_Fit_GivesATransformerChain_WithTheEstimatedSchema()
    {
        var ctx = new TransformersContext();
        IDataView data = ctx.Data.LoadFromEnumerable(Texts("hello", "world!"));
        EstimatorChain<LengthTransformer> pipeline = ctx.Transforms
            .Tokenize(new TokenizeOptions { ModelDirectory = TestData.TinyLlama })
            .Append(new TrivialEstimator<LengthTransformer>(new LengthTransformer()));
        TransformerChain<LengthTransformer> model = pipeline.Fit(data);
        Assert.AreEqual(2, model.Count);
        Assert.IsInstanceOfType<TokenizingTransformer>(model.First());
        DataViewSchema expected = pipeline.GetOutputSchema(data.Schema);
        Assert.AreEqual("text: Text, input_ids: Vector<Int64>, attention_mask: Vector<Int64>, offsets: Vector<Int32>, length: Int32, error: Text", expected.ToString());
        IDataView output = model.Transform(data);
        Assert.AreEqual(expected.ToString(), output.Schema.ToString());
        CollectionAssert.AreEqual(new[] { 5, 6 }, output.GetColumn<int>("length").ToArray());
    }

    public sealed class Prediction
    {
        [ColumnName("text")]
        public string? Text { get; set; }

        [ColumnName("input_ids")]
        public long[] Ids { get; set; } = [];

        [ColumnName("offsets")]
        public int[] Offsets { get; set; } = [];

        [ColumnName("error")]
        public string? Error { get; set; }
    }

    [TestMethod]
    public void PredictionEngine_EqualsBatchTransform()
    {
        var ctx = new TransformersContext();
        TextRow[] inputs = Texts("The quick brown fox", "", "ünïcödé 日本語", null);
        var model = ctx.Transforms.Tokenize(TestData.TinyLlama).Fit(ctx.Data.LoadFromEnumerable(inputs));
        Prediction[] batch = ctx.Data.CreateEnumerable<Prediction>(model.Transform(ctx.Data.LoadFromEnumerable(inputs))).ToArray();
        PredictionEngine<TextRow, Prediction> engine = ctx.Model.CreatePredictionEngine<TextRow, Prediction>(model);
        for (int i = 0; i < inputs.Length; i++)
        {
            Prediction one = engine.Predict(inputs[i]);
            CollectionAssert.AreEqual(batch[i].Ids, one.Ids);
            CollectionAssert.AreEqual(batch[i].Offsets, one.Offsets);
            Assert.AreEqual(batch[i].Error, one.Error);
        }

        Assert.IsNotNull(batch[3].Error, "a null text is a row error");
        Assert.IsEmpty(batch[3].Ids);
    }

    [TestMethod]
    public void SavedDescription_LoadsToAPipelineWithIdenticalResults()
    {
        using var dir = new TempDir();
        var ctx = new TransformersContext();
        IDataView data = ctx.Data.LoadFromEnumerable(Texts("Hello world, this is a longer text to truncate.", "short"));
        var model = ctx.Transforms.Tokenize(new TokenizeOptions
        {
            ModelDirectory = TestData.TinyLlama,
            MaxLength = 5,
            OffsetsColumnName = null,
            AddSpecialTokens = false,
        }).Append(ctx.Transforms.Tokenize(new TokenizeOptions { ModelDirectory = TestData.TinyLlama, InputIdsColumnName = "full_ids" })).Fit(data);
        string path = dir.File("pipeline.json");
        ctx.Model.Save(model, path);

        JsonObject json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.AreEqual(ModelOperationsCatalog.FormatName, (string?)json["format"]);
        JsonArray transforms = json["transforms"]!.AsArray();
        Assert.HasCount(2, transforms);
        Assert.AreEqual("tokenize", (string?)transforms[0]!["kind"]);
        Assert.AreEqual(5, (int?)transforms[0]!["options"]!["maxLength"]);

        TransformerChain<ITransformer> loaded = new TransformersContext().Model.Load(path);
        TestData.AssertRowsEqual(TestData.Rows(model.Transform(data)), TestData.Rows(loaded.Transform(data)));
        Assert.HasCount(5, model.Transform(data).GetColumn<long[]>("input_ids").First());
    }

    [TestMethod]
    public void SavedDescription_StoresModelPathsRelativeToTheFile()
    {
        using var dir = new TempDir();
        string models = Path.Combine(dir.Path, "models", "tok");
        Directory.CreateDirectory(models);
        foreach (string f in Directory.GetFiles(TestData.TinyLlama, "*.json"))
        {
            File.Copy(f, Path.Combine(models, Path.GetFileName(f)));
        }

        var ctx = new TransformersContext();
        var model = ctx.Transforms.Tokenize(models).Fit(ctx.Data.LoadFromEnumerable(Texts("x")));
        string path = dir.File("p.json");
        ctx.Model.Save(model, path);
        Assert.AreEqual("models/tok", (string?)JsonNode.Parse(File.ReadAllText(path))!["transforms"]![0]!["options"]!["modelDirectory"]);
        var loaded = (TokenizingTransformer)ctx.Model.Load(path).Single();
        Assert.AreEqual(Path.GetFullPath(models), loaded.Options.ModelDirectory);
    }

    [TestMethod]
    public void SaveAndLoad_BadCases_AreClearErrors()
    {
        using var dir = new TempDir();
        var ctx = new TransformersContext();
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => ctx.Model.Save(new LengthTransformer(), dir.File("x.json")));
        StringAssert.Contains(e.Message, nameof(LengthTransformer));
        string unknown = dir.Write("u.json", "{\"format\":\"mlnet-transformers-pipeline\",\"version\":1,\"transforms\":[{\"kind\":\"sentiment-v9\",\"options\":{}}]}");
        var u = Assert.ThrowsExactly<InvalidDataException>(() => ctx.Model.Load(unknown));
        StringAssert.Contains(u.Message, "'sentiment-v9'");
        StringAssert.Contains(u.Message, "tokenize");
        Assert.ThrowsExactly<InvalidDataException>(() => ctx.Model.Load(dir.Write("n.json", "[1]")));
        Assert.ThrowsExactly<FileNotFoundException>(() => ctx.Model.Load(dir.File("none.json")));

        ctx.Model.RegisterTransformer("length", (o, _) => new LengthTransformer(PipelineJson.GetString(o, "input", "text")!));
        string custom = dir.Write("c.json", "{\"format\":\"mlnet-transformers-pipeline\",\"version\":1,\"transforms\":[{\"kind\":\"length\",\"options\":{\"input\":\"text\"}}]}");
        IDataView output = ctx.Model.Load(custom).Transform(ctx.Data.LoadFromEnumerable(Texts("abc")));
        CollectionAssert.AreEqual(new[] { 3 }, output.GetColumn<int>("length").ToArray());
    }

    [TestMethod]
    public void Cancellation_StopsLoadersTransformsAndSavers()
    {
        using var dir = new TempDir();
        var ctx = new TransformersContext();
        string path = dir.Write("in.csv", "text\na\nb\n");
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        IDataView view = new LengthTransformer().Transform(ctx.Data.LoadFromTextFile(path));
        Assert.ThrowsExactly<OperationCanceledException>(() => view.GetBatches(1, cts.Token).ToList());
        Assert.ThrowsExactly<OperationCanceledException>(() => ctx.Data.SaveAsJsonLines(view, dir.File("o.jsonl"), null, cts.Token));
        Assert.ThrowsExactly<OperationCanceledException>(() => ctx.Data.CreateEnumerable<TextRow>(view, cancellationToken: cts.Token).ToList());
    }
}
