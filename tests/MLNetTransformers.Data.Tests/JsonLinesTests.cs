using MLNetTransformers.Data.IO;

namespace MLNetTransformers.Data.Tests;

[TestClass]
public sealed class JsonLinesTests
{
    [TestMethod]
    public void Inference_TypesVectorsAndMissingProperties()
    {
        using var dir = new TempDir();
        string path = dir.Write("in.jsonl",
            "{\"id\":1,\"text\":\"a\",\"emb\":[1.5,2],\"ok\":true}\n" +
            "\n" +
            "{\"id\":2,\"emb\":[],\"ok\":false}\n" +
            "{\"id\":3,\"text\":null,\"emb\":[3],\"ok\":true,\"extra\":5.5}\n");
        IDataView view = new TransformersContext().Data.LoadFromJsonLines(path);
        Assert.AreEqual("id: Int64, text: Text, emb: Vector<Single>, ok: Boolean, extra: Single", view.Schema.ToString());
        var rows = TestData.Rows(view, 2);
        CollectionAssert.AreEqual(new object?[] { 1L, 2L, 3L }, rows.Select(r => r.Values[0]).ToArray());
        CollectionAssert.AreEqual(new object?[] { "a", null, null }, rows.Select(r => r.Values[1]).ToArray());
        CollectionAssert.AreEqual(new[] { 1.5f, 2f }, (float[])rows[0].Values[2]!);
        CollectionAssert.AreEqual(Array.Empty<float>(), (float[])rows[1].Values[2]!);
        CollectionAssert.AreEqual(new object?[] { true, false, true }, rows.Select(r => r.Values[3]).ToArray());
        CollectionAssert.AreEqual(new object?[] { float.NaN, float.NaN, 5.5f }, rows.Select(r => r.Values[4]).ToArray());
    }

    [TestMethod]
    public void BadJson_NamesTheLine_OrIsReported()
    {
        using var dir = new TempDir();
        string path = dir.Write("in.jsonl", "{\"id\":1}\n{\"id\":\n[1,2]\n{\"id\":\"x\"}\n{\"id\":4}\n");
        var options = new LoadOptions { Columns = [new("id", NumberDataViewType.Int32)] };
        var ctx = new TransformersContext();
        var e = Assert.ThrowsExactly<DataFormatException>(() => TestData.Rows(ctx.Data.LoadFromJsonLines(path, options)));
        Assert.AreEqual(2L, e.Line);
        StringAssert.Contains(e.Message, "not valid JSON");

        var bad = new List<BadRow>();
        var rows = TestData.Rows(ctx.Data.LoadFromJsonLines(path, options with { OnBadRow = bad.Add }));
        CollectionAssert.AreEqual(new object?[] { 1, 4 }, rows.Select(r => r.Values[0]).ToArray());
        CollectionAssert.AreEqual(new long[] { 0, 4 }, rows.Select(r => r.Row).ToArray());
        CollectionAssert.AreEqual(new long[] { 2, 3, 4 }, bad.Select(b => b.Line).ToArray());
        StringAssert.Contains(bad[1].Message, "not an object");
        StringAssert.Contains(bad[2].Message, "property 'id'");
    }

    [TestMethod]
    public void EmptyFile_IsEmpty()
    {
        using var dir = new TempDir();
        var ctx = new TransformersContext();
        IDataView view = ctx.Data.LoadFromJsonLines(dir.Write("e.jsonl", ""), new LoadOptions { Columns = [new("text", TextDataViewType.Instance)] });
        Assert.AreEqual("text: Text", view.Schema.ToString());
        Assert.IsEmpty(view.GetBatches(4).ToList());
        Assert.IsEmpty(ctx.Data.LoadFromJsonLines(dir.File("e.jsonl")).Schema);
        string saved = dir.File("out.jsonl");
        ctx.Data.Save(view, saved);
        Assert.AreEqual(0L, new FileInfo(saved).Length);
    }

    [TestMethod]
    public void Saver_WritesOneObjectPerLine_WithNonFiniteFloatsAsStrings()
    {
        using var dir = new TempDir();
        var ctx = new TransformersContext();
        var items = new[] { new RoundTripTests.Row { Text = "a\"b", Score = float.NaN, Emb = [float.PositiveInfinity, 1f], Ids = [1, 2], Flag = true, D = 0.5, I = 3 } };
        string path = dir.File("o.jsonl");
        ctx.Data.Save(ctx.Data.LoadFromEnumerable(items), path);
        Assert.AreEqual(
            "{\"Text\":\"a\\\"b\",\"Score\":\"NaN\",\"Emb\":[\"Infinity\",1],\"Ids\":[1,2],\"Flag\":true,\"D\":0.5,\"I\":3}\n",
            File.ReadAllText(path));
    }
}
