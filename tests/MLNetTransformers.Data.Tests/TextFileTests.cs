using System.Text;
using MLNetTransformers.Data.IO;

namespace MLNetTransformers.Data.Tests;

[TestClass]
public sealed class TextFileTests
{
    private static readonly LoaderColumn[] Spec =
    [
        new("id", NumberDataViewType.Int32),
        new("text", TextDataViewType.Instance),
        new("score", NumberDataViewType.Single),
    ];

    // The saved form, exactly: quotes doubled, separators and line breaks quoted, missing text empty, empty text "".
    private const string Csv =
        "id,text,score\n" +
        "1,\"hello, world\",1.5\n" +
        "2,\"say \"\"hi\"\"\",-2\n" +
        "3,\"line1\nline2\",0\n" +
        "4,,NaN\n" +
        "5,\"\",300\n";

    private static void AssertExpectedRows(IDataView view)
    {
        Assert.AreEqual("id: Int32, text: Text, score: Single", view.Schema.ToString());
        var rows = TestData.Rows(view, 2);
        CollectionAssert.AreEqual(new object?[] { 1, 2, 3, 4, 5 }, rows.Select(r => r.Values[0]).ToArray());
        CollectionAssert.AreEqual(new object?[] { "hello, world", "say \"hi\"", "line1\nline2", null, "" }, rows.Select(r => r.Values[1]).ToArray());
        CollectionAssert.AreEqual(new object?[] { 1.5f, -2f, 0f, float.NaN, 300f }, rows.Select(r => r.Values[2]).ToArray());
    }

    [TestMethod]
    public void Csv_QuotesNewlinesCommas_LoadAndSaveExactly()
    {
        using var dir = new TempDir();
        var ctx = new TransformersContext();
        IDataView view = ctx.Data.LoadFromTextFile(dir.Write("in.csv", Csv.Replace("300", "3e2", StringComparison.Ordinal)), new LoadOptions { Columns = Spec });
        AssertExpectedRows(view);
        string saved = dir.File("out.csv");
        ctx.Data.Save(view, saved);
        Assert.AreEqual(Csv, File.ReadAllText(saved));
        AssertExpectedRows(ctx.Data.Load(saved, new LoadOptions { Columns = Spec }));
    }

    [TestMethod]
    public void Csv_CrlfRecordEnds_AndBom_AreRead()
    {
        using var dir = new TempDir();
        string crlf = "\uFEFF" + Csv.Replace("\n", "\r\n", StringComparison.Ordinal).Replace("line1\r\nline2", "line1\nline2", StringComparison.Ordinal);
        AssertExpectedRows(new TransformersContext().Data.LoadFromTextFile(dir.Write("in.csv", crlf), new LoadOptions { Columns = Spec }));
    }

    [TestMethod]
    public void Tsv_SeparatorFromExtension_RoundTrips()
    {
        using var dir = new TempDir();
        var ctx = new TransformersContext();
        string path = dir.Write("in.tsv", "a\tb\nx,y\t\"tab\there\"\n\"q\"\"\"\tz\n");
        IDataView view = ctx.Data.Load(path);
        Assert.AreEqual("a: Text, b: Text", view.Schema.ToString());
        var rows = TestData.Rows(view);
        CollectionAssert.AreEqual(new object?[] { "x,y", "tab\there" }, rows[0].Values);
        CollectionAssert.AreEqual(new object?[] { "q\"", "z" }, rows[1].Values);
        string saved = dir.File("out.tsv");
        ctx.Data.Save(view, saved);
        Assert.AreEqual("a\tb\nx,y\t\"tab\there\"\n\"q\"\"\"\tz\n", File.ReadAllText(saved));
    }

    [TestMethod]
    public void Csv_NoHeader_ColumnSpecByPosition_AndVectors()
    {
        using var dir = new TempDir();
        string path = dir.Write("in.csv", "7,1 2 3,x\n8,,y\n");
        IDataView view = new TransformersContext().Data.LoadFromTextFile(path, new LoadOptions
        {
            HasHeader = false,
            Columns = [new("label", TextDataViewType.Instance, 2), new("ids", new VectorDataViewType(NumberDataViewType.Int64), 1), new("n", NumberDataViewType.Int64, 0)],
        });
        var rows = TestData.Rows(view);
        Assert.AreEqual("x", rows[0].Values[0]);
        CollectionAssert.AreEqual(new long[] { 1, 2, 3 }, (long[])rows[0].Values[1]!);
        Assert.AreEqual(7L, rows[0].Values[2]);
        CollectionAssert.AreEqual(Array.Empty<long>(), (long[])rows[1].Values[1]!);
    }

    [TestMethod]
    public void Csv_RaggedRows_AreReportedWithLineNumbers_AndReadingGoesOn()
    {
        using var dir = new TempDir();
        // Line 3-4 is one quoted record; the ragged rows are on lines 5 and 6.
        string path = dir.Write("in.csv", "a,b\n1,x\n2,\"multi\nline\"\n3\n4,z,extra\n5,w\n");
        var bad = new List<BadRow>();
        IDataView view = new TransformersContext().Data.LoadFromTextFile(path, new LoadOptions { OnBadRow = bad.Add });
        var rows = TestData.Rows(view, 1);
        CollectionAssert.AreEqual(new object?[] { "1", "2", "5" }, rows.Select(r => r.Values[0]).ToArray());
        CollectionAssert.AreEqual(new long[] { 0, 1, 4 }, rows.Select(r => r.Row).ToArray(), "row numbers keep the source positions");
        Assert.HasCount(2, bad);
        Assert.AreEqual(5L, bad[0].Line);
        Assert.AreEqual(2L, bad[0].RowNumber);
        StringAssert.Contains(bad[0].Message, "1 fields; 2 were expected");
        Assert.AreEqual(6L, bad[1].Line);
        Assert.AreEqual(path, bad[1].FilePath);
    }

    [TestMethod]
    public void Csv_RaggedRow_WithoutCallback_ThrowsNamingTheLine()
    {
        using var dir = new TempDir();
        string path = dir.Write("in.csv", "a,b\n1,x\n3\n");
        var e = Assert.ThrowsExactly<DataFormatException>(() => TestData.Rows(new TransformersContext().Data.LoadFromTextFile(path)));
        Assert.AreEqual(3L, e.Line);
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, "line 3");
    }

    [TestMethod]
    public void Csv_TypeMismatch_NamesLineAndColumn()
    {
        using var dir = new TempDir();
        string path = dir.Write("in.csv", "n,t\n1.5,a\nabc,b\n");
        var options = new LoadOptions { Columns = [new("n", NumberDataViewType.Single), new("t", TextDataViewType.Instance)] };
        var ctx = new TransformersContext();
        var e = Assert.ThrowsExactly<DataFormatException>(() => TestData.Rows(ctx.Data.LoadFromTextFile(path, options)));
        Assert.AreEqual(3L, e.Line);
        Assert.AreEqual("n", e.Column);
        StringAssert.Contains(e.Message, "'abc' is not a valid Single");

        var bad = new List<BadRow>();
        var rows = TestData.Rows(ctx.Data.LoadFromTextFile(path, options with { OnBadRow = bad.Add }));
        Assert.HasCount(1, rows);
        Assert.AreEqual(3L, bad.Single().Line);
        StringAssert.Contains(bad.Single().Message, "column 'n'");
    }

    [TestMethod]
    public void MissingOrUnreadableFile_ErrorNamesTheFile()
    {
        using var dir = new TempDir();
        var ctx = new TransformersContext();
        string missing = dir.File("nope.csv");
        var e = Assert.ThrowsExactly<FileNotFoundException>(() => ctx.Data.LoadFromTextFile(missing));
        StringAssert.Contains(e.Message, missing);
        Assert.ThrowsExactly<FileNotFoundException>(() => ctx.Data.Load(dir.File("nope.jsonl")));
        Assert.ThrowsExactly<FileNotFoundException>(() => ctx.Data.Load(dir.File("nope.idv")));
        Assert.ThrowsExactly<FileNotFoundException>(() => ctx.Data.Load(Path.Combine(dir.Path, "no-dir", "x.csv")));
        string directory = dir.File("adir.csv");
        Directory.CreateDirectory(directory);
        var io = Assert.Throws<IOException>(() => ctx.Data.LoadFromTextFile(directory));
        StringAssert.Contains(io.Message, directory);
        Assert.ThrowsExactly<ArgumentException>(() => ctx.Data.Load(dir.Write("x.parquet", "")));
    }

    [TestMethod]
    public void UnknownColumnInSpec_ListsTheHeader()
    {
        using var dir = new TempDir();
        string path = dir.Write("in.csv", "id,text\n1,a\n");
        var e = Assert.ThrowsExactly<KeyNotFoundException>(() => new TransformersContext().Data.LoadFromTextFile(path, new LoadOptions { Columns = [new("txt", TextDataViewType.Instance)] }));
        StringAssert.Contains(e.Message, "'txt'");
        StringAssert.Contains(e.Message, "id, text");
    }

    [TestMethod]
    public void EmptyFile_IsAnEmptyView_WithTheGivenSchema()
    {
        using var dir = new TempDir();
        var ctx = new TransformersContext();
        IDataView withSpec = ctx.Data.LoadFromTextFile(dir.Write("empty.csv", ""), new LoadOptions { Columns = Spec });
        Assert.AreEqual("id: Int32, text: Text, score: Single", withSpec.Schema.ToString());
        Assert.IsEmpty(withSpec.GetBatches(10).ToList());
        IDataView headerOnly = ctx.Data.LoadFromTextFile(dir.Write("header.csv", "a,b\n"));
        Assert.AreEqual("a: Text, b: Text", headerOnly.Schema.ToString());
        Assert.IsEmpty(headerOnly.GetBatches(10).ToList());
        IDataView bare = ctx.Data.LoadFromTextFile(dir.File("empty.csv"));
        Assert.IsEmpty(bare.Schema);
        Assert.IsEmpty(bare.GetBatches(10).ToList());

        // Empty in, empty out: the saved file has the header only.
        string saved = dir.File("out.csv");
        ctx.Data.Save(withSpec, saved);
        Assert.AreEqual("id,text,score\n", File.ReadAllText(saved));
    }

    [TestMethod]
    public void InvalidUtf8_NamesTheLine_EvenPastTheFirstBuffer()
    {
        using var dir = new TempDir();
        var bytes = new List<byte>(Encoding.UTF8.GetBytes("text\n"));
        for (int i = 0; i < 20000; i++)
        {
            bytes.AddRange(Encoding.UTF8.GetBytes($"row {i} é\n"));
        }

        bytes.AddRange([(byte)'a', 0xFF, (byte)'b', (byte)'\n']);
        string path = dir.File("bad.csv");
        File.WriteAllBytes(path, bytes.ToArray());
        var e = Assert.ThrowsExactly<DataFormatException>(() => TestData.Rows(new TransformersContext().Data.LoadFromTextFile(path), 1000));
        Assert.AreEqual(20002L, e.Line);
        StringAssert.Contains(e.Message, "UTF-8");
    }

    [TestMethod]
    public void MultiByteText_AcrossBufferBoundaries_RoundTrips()
    {
        using var dir = new TempDir();
        var ctx = new TransformersContext();
        var items = Enumerable.Range(0, 30000).Select(i => new TextRow { Text = $"héllo 😀 {i} 日本" }).ToArray();
        string path = dir.File("u.csv");
        ctx.Data.Save(ctx.Data.LoadFromEnumerable(items), path);
        string?[] back = ctx.Data.Load(path).GetColumn<string?>("text").ToArray();
        CollectionAssert.AreEqual(items.Select(i => i.Text).ToArray(), back);
    }

    [TestMethod]
    public void UnclosedQuote_NamesTheLineWhereTheFieldStarts()
    {
        using var dir = new TempDir();
        string path = dir.Write("in.csv", "a\nx\n\"never\nclosed\n");
        var e = Assert.ThrowsExactly<DataFormatException>(() => TestData.Rows(new TransformersContext().Data.LoadFromTextFile(path)));
        Assert.AreEqual(3L, e.Line);
    }
}
