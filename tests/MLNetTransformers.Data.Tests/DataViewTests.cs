namespace MLNetTransformers.Data.Tests;

[TestClass]
public sealed class DataViewTests
{
    public sealed class Item
    {
        public string? Name { get; set; }

        [ColumnName("score")]
        public float Score { get; set; }

#pragma warning disable CA1051 // a public field, to test that fields map too
        public double Weight;
#pragma warning restore CA1051

        public int Count { get; set; }

        public long Big { get; set; }

        public bool Flag { get; set; }

        public float[] Embedding { get; set; } = [];

        public long[] Ids { get; set; } = [];

        [NoColumn]
        public object? Ignored { get; set; }
    }

    private static Item[] Items() =>
    [
        new() { Name = "a", Score = 1.5f, Weight = 0.25, Count = 1, Big = 1L << 40, Flag = true, Embedding = [1f, 2f], Ids = [5, 6, 7] },
        new() { Name = null, Score = float.NaN, Weight = -1, Count = -2, Big = -3, Flag = false, Embedding = [], Ids = [] },
        new() { Name = "ü,\"q\"\nx", Score = -0.1f, Weight = 1e300, Count = int.MaxValue, Big = long.MinValue, Flag = true, Embedding = [3.25f], Ids = [0] },
    ];

    [TestMethod]
    public void Schema_FromClass_UsesNamesAttributesAndTypes()
    {
        IDataView view = new TransformersContext().Data.LoadFromEnumerable(Items());
        Assert.AreEqual(
            "Name: Text, score: Single, Count: Int32, Big: Int64, Flag: Boolean, Embedding: Vector<Single>, Ids: Vector<Int64>, Weight: Double",
            view.Schema.ToString());
        Assert.AreEqual(3L, view.GetRowCount());
    }

    [TestMethod]
    public void Schema_UnknownColumn_ListsTheSchema()
    {
        DataViewSchema schema = DataViewSchema.Create(("text", TextDataViewType.Instance), ("ids", new VectorDataViewType(NumberDataViewType.Int64)));
        var e = Assert.ThrowsExactly<KeyNotFoundException>(() => schema["txt"]);
        StringAssert.Contains(e.Message, "'txt'");
        StringAssert.Contains(e.Message, "text: Text, ids: Vector<Int64>");
        Assert.IsNull(schema.GetColumnOrNull("txt"));
        Assert.AreEqual(1, schema["ids"].Index);
        Assert.ThrowsExactly<ArgumentException>(() => DataViewSchema.Create(("a", TextDataViewType.Instance), ("a", NumberDataViewType.Single)));
    }

    [TestMethod]
    public void Batch_WrongType_NamesColumnAndBothTypes()
    {
        IDataView view = new TransformersContext().Data.LoadFromEnumerable(Items());
        DataBatch batch = view.GetBatches(10).Single();
        var e = Assert.ThrowsExactly<InvalidCastException>(() => batch.GetColumn<double>("score"));
        StringAssert.Contains(e.Message, "'score'");
        StringAssert.Contains(e.Message, "Single");
        StringAssert.Contains(e.Message, "Double");
        Assert.ThrowsExactly<KeyNotFoundException>(() => batch.GetColumn<float>("nope"));
        CollectionAssert.AreEqual(new long[] { 0, 1, 2 }, batch.RowNumbers);
        CollectionAssert.AreEqual(new[] { 1L << 40, -3, long.MinValue }, batch.GetColumn<long>("Big"));
    }

    [TestMethod]
    public void LoadFromEnumerable_CreateEnumerable_RoundTrip()
    {
        var ctx = new TransformersContext();
        Item[] items = Items();
        Item[] back = ctx.Data.CreateEnumerable<Item>(ctx.Data.LoadFromEnumerable(items)).ToArray();
        Assert.HasCount(3, back);
        for (int i = 0; i < items.Length; i++)
        {
            Assert.AreEqual(items[i].Name, back[i].Name);
            Assert.AreEqual(items[i].Score, back[i].Score);
            Assert.AreEqual(items[i].Weight, back[i].Weight);
            Assert.AreEqual(items[i].Count, back[i].Count);
            Assert.AreEqual(items[i].Big, back[i].Big);
            Assert.AreEqual(items[i].Flag, back[i].Flag);
            CollectionAssert.AreEqual(items[i].Embedding, back[i].Embedding);
            CollectionAssert.AreEqual(items[i].Ids, back[i].Ids);
            Assert.AreNotSame(items[i].Embedding, back[i].Embedding, "vectors are copied, not shared");
        }
    }

    [TestMethod]
    public void LoadFromEnumerable_CopiesVectors_SoLaterChangesDoNotLeak()
    {
        var ctx = new TransformersContext();
        Item[] items = Items();
        IDataView view = ctx.Data.LoadFromEnumerable(items);
        DataBatch batch = view.GetBatches(3).Single();
        items[0].Embedding[0] = 99f;
        Assert.AreEqual(1f, batch.GetColumn<float[]>("Embedding")[0][0]);
    }

    public sealed class NeedsMissing
    {
        public string? Nope { get; set; }
    }

    public sealed class WrongType
    {
        public int Name { get; set; }
    }

    [TestMethod]
    public void CreateEnumerable_MissingOrMistypedColumn_Throws()
    {
        var ctx = new TransformersContext();
        IDataView view = ctx.Data.LoadFromEnumerable(Items());
        var e = Assert.ThrowsExactly<KeyNotFoundException>(() => ctx.Data.CreateEnumerable<NeedsMissing>(view));
        StringAssert.Contains(e.Message, "Nope");
        StringAssert.Contains(e.Message, "score: Single");
        var t = Assert.ThrowsExactly<InvalidOperationException>(() => ctx.Data.CreateEnumerable<WrongType>(view));
        StringAssert.Contains(t.Message, "Name");
        StringAssert.Contains(t.Message, "Text");
    }

    [TestMethod]
    public void BatchSizes_1_3_1000_GiveTheSameRows()
    {
        var ctx = new TransformersContext();
        var items = Enumerable.Range(0, 10).Select(i => new Item { Name = "n" + i, Count = i, Ids = Enumerable.Range(0, i).Select(x => (long)x).ToArray() }).ToArray();
        IDataView view = new LengthTransformer("Name").Transform(ctx.Data.LoadFromEnumerable(items));
        var one = TestData.Rows(view, 1);
        Assert.HasCount(10, one);
        TestData.AssertRowsEqual(one, TestData.Rows(view, 3));
        TestData.AssertRowsEqual(one, TestData.Rows(view, 1000));
        CollectionAssert.AreEqual(Enumerable.Range(0, 10).Select(i => (long)i).ToArray(), one.Select(r => r.Row).ToArray());
    }

    [TestMethod]
    public void GetRows_IsARowCursorOverTheBatches()
    {
        IDataView view = new TransformersContext().Data.LoadFromEnumerable(Items());
        DataRow[] rows = view.GetRows(batchSize: 2).ToArray();
        Assert.HasCount(3, rows);
        Assert.AreEqual(2L, rows[2].RowNumber);
        Assert.AreEqual(-2, rows[1].GetValue<int>("Count"));
        CollectionAssert.AreEqual(new[] { "a", null, "ü,\"q\"\nx" }, view.GetColumn<string?>("Name").ToArray());
    }

    [TestMethod]
    public void FilterTakeSkip_KeepSourceRowNumbers_AndTakeStopsReading()
    {
        var ctx = new TransformersContext();
        var source = new CountingSequence<TextRow>(Enumerable.Range(0, 10).Select(i => new TextRow { Text = "t" + i }).ToArray());
        IDataView view = ctx.Data.LoadFromEnumerable(source);

        IDataView shard = ctx.Data.FilterByRowNumber(view, n => n % 3 == 1);
        var rows = TestData.Rows(shard, 2);
        CollectionAssert.AreEqual(new long[] { 1, 4, 7 }, rows.Select(r => r.Row).ToArray());
        CollectionAssert.AreEqual(new object?[] { "t1", "t4", "t7" }, rows.Select(r => r.Values[0]).ToArray());

        source.Pulled = 0;
        IDataView first = ctx.Data.TakeRows(view, 3);
        CollectionAssert.AreEqual(new object?[] { "t0", "t1", "t2" }, TestData.Rows(first, 1).Select(r => r.Values[0]).ToArray());
        Assert.AreEqual(3, source.Pulled, "take reads no further than it needs");
        Assert.IsEmpty(ctx.Data.TakeRows(view, 0).GetBatches(5).ToList());

        IDataView rest = ctx.Data.SkipRows(shard, 1);
        CollectionAssert.AreEqual(new long[] { 4, 7 }, TestData.Rows(rest, 1000).Select(r => r.Row).ToArray());
        CollectionAssert.AreEqual(new long[] { 4, 7 }, TestData.Rows(rest, 1).Select(r => r.Row).ToArray(), "re-enumeration skips again");
    }
}
