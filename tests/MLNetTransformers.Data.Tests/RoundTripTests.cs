using MLNetTransformers.Data.IO;

namespace MLNetTransformers.Data.Tests;

[TestClass]
public sealed class RoundTripTests
{
    public sealed class Row
    {
        public string? Text { get; set; }

        public float Score { get; set; }

        public float[] Emb { get; set; } = [];

        public long[] Ids { get; set; } = [];

        public bool Flag { get; set; }

        public double D { get; set; }

        public int I { get; set; }
    }

    private static Row[] Rows() =>
    [
        new() { Text = "plain", Score = 0.1f, Emb = [1f, -2.5f, 1e-20f], Ids = [1, 2, 3], Flag = true, D = Math.PI, I = 42 },
        new() { Text = "comma, \"quote\"\r\nnewline\ttab", Score = float.NaN, Emb = [], Ids = [long.MaxValue], Flag = false, D = -0.0, I = -1 },
        new() { Text = null, Score = float.MaxValue, Emb = [float.Epsilon], Ids = [], Flag = true, D = double.NaN, I = int.MinValue },
        new() { Text = "", Score = -3f, Emb = [0f, 0f], Ids = [0, -1], Flag = false, D = 1e308, I = 0 },
    ];

    [TestMethod]
    [DataRow("data.csv")]
    [DataRow("data.tsv")]
    [DataRow("data.jsonl")]
    [DataRow("data.idv")]
    public void SaveThenLoad_GivesTheSameRows(string fileName)
    {
        using var dir = new TempDir();
        var ctx = new TransformersContext();
        IDataView source = ctx.Data.LoadFromEnumerable(Rows());
        string path = dir.File(fileName);
        ctx.Data.Save(source, path, new SaveOptions { BatchSize = 3 });
        var options = new LoadOptions { Columns = source.Schema.Select(c => new LoaderColumn(c.Name, c.Type)).ToArray() };
        IDataView loaded = ctx.Data.Load(path, options);
        Assert.AreEqual(source.Schema.ToString(), loaded.Schema.ToString());
        TestData.AssertRowsEqual(TestData.Rows(source), TestData.Rows(loaded));
        Row[] back = ctx.Data.CreateEnumerable<Row>(loaded).ToArray();
        Assert.AreEqual(Rows()[1].Text, back[1].Text);
        Assert.IsTrue(double.IsNegative(back[1].D), "-0.0 keeps its sign");
    }

    [TestMethod]
    public void Idv_KnowsItsRowCount_AndWidensSmallIntegers()
    {
        using var dir = new TempDir();
        var ctx = new TransformersContext();
        string path = dir.File("d.idv");
        ctx.Data.SaveAsBinary(ctx.Data.LoadFromEnumerable(Rows()), path);
        Assert.AreEqual(4L, ctx.Data.LoadFromBinary(path).GetRowCount());

        string small = dir.File("small.idv");
        using (var w = MLNetTransformers.Data.IO.Idv.IdvWriter.Create(small, [new("b", MLNetTransformers.Data.IO.Idv.IdvColumnType.Byte), new("u", MLNetTransformers.Data.IO.Idv.IdvColumnType.UInt32)]))
        {
            w.WriteRow((byte)200, 4000000000u);
            w.Complete();
        }

        IDataView view = ctx.Data.LoadFromBinary(small);
        Assert.AreEqual("b: Int32, u: Int64", view.Schema.ToString());
        CollectionAssert.AreEqual(new object?[] { 200, 4000000000L }, TestData.Rows(view).Single().Values);
    }

    [TestMethod]
    public void Idv_UnsupportedColumnType_NamesTheColumn()
    {
        using var dir = new TempDir();
        string path = dir.File("k.idv");
        using (var w = MLNetTransformers.Data.IO.Idv.IdvWriter.Create(path, [new("when", MLNetTransformers.Data.IO.Idv.IdvColumnType.DateTime)]))
        {
            w.Complete();
        }

        var e = Assert.ThrowsExactly<NotSupportedException>(() => new TransformersContext().Data.LoadFromBinary(path));
        StringAssert.Contains(e.Message, "'when'");
    }

    [TestMethod]
    public void Idv_TextFloatAndVectorColumns_FromATokenizedView()
    {
        using var dir = new TempDir();
        var ctx = new TransformersContext();
        var tokenize = ctx.Transforms.Tokenize(TestData.TinyLlama).Fit(ctx.Data.LoadFromEnumerable(new[] { new TextRow() }));
        IDataView tokens = tokenize.Transform(ctx.Data.LoadFromEnumerable(new[] { new TextRow { Text = "Hello world" }, new TextRow { Text = null } }));
        string path = dir.File("t.idv");
        ctx.Data.SaveAsBinary(tokens, path);
        IDataView back = ctx.Data.LoadFromBinary(path);
        Assert.AreEqual(tokens.Schema.ToString(), back.Schema.ToString());
        TestData.AssertRowsEqual(TestData.Rows(tokens), TestData.Rows(back));
    }
}
