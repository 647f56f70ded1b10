using System.Text;
using MLNetTransformers.Data.IO;
using MLNetTransformers.Data.Scoring;

namespace MLNetTransformers.Data.Tests;

/// <summary><see cref="ScoringJob"/> with a model-free transform: row alignment, unreadable rows, cancellation then resume; lenient UTF-8.</summary>
[TestClass]
public sealed class ScoringJobTests
{
    private static readonly (string, DataViewType)[] Outputs = [("length", NumberDataViewType.Int32)];

    private static string WriteInput(TempDir dir, int rows)
    {
        var text = new StringBuilder("id,text\n");
        for (int i = 0; i < rows; i++)
        {
            text.Append(i == 7 ? "r7,too,many\n" : $"r{i},{(i % 5 == 3 ? "bad" : new string('x', i))}\n");
        }

        return dir.Write("in.csv", text.ToString());
    }

    private static ScoringResult Run(string input, string output, bool resume = false, Shard? shard = null, IProgress<ScoringProgress>? progress = null, List<BadRow>? bad = null, CancellationToken cancellationToken = default) =>
        ScoringJob.Run(
            new TransformersContext(),
            new ScoringJobOptions
            {
                InputPath = input,
                OutputPath = output,
                IdColumnName = "id",
                OutputColumns = Outputs,
                Resume = resume,
                Shard = shard ?? Shard.All,
                WriteBatchSize = 4,
                Progress = progress,
                OnBadRow = bad is null ? null : bad.Add,
            },
            () => new TrivialEstimator<LengthTransformer>(new LengthTransformer()),
            cancellationToken);

    [TestMethod]
    public void EveryInputRowGivesOneOutputRowInOrderWithErrorsInPlace()
    {
        using var dir = new TempDir();
        string input = WriteInput(dir, 20);
        var bad = new List<BadRow>();
        ScoringResult result = Run(input, dir.File("out.csv"), bad: bad);
        Assert.AreEqual(new ScoringResult(20, 0, 20, 0, 20, 5), result);
        Assert.AreEqual(1, bad.Count, "reported once although the input is read more than once");
        Assert.AreEqual(9, bad[0].Line);

        string[] lines = File.ReadAllLines(dir.File("out.csv"));
        Assert.AreEqual("id,length,error", lines[0]);
        Assert.AreEqual(21, lines.Length);
        Assert.AreEqual("r2,2,", lines[3]);
        Assert.AreEqual("r3,0,bad text", lines[4]);
        StringAssert.StartsWith(lines[8], ",0,\"unreadable input row (");
        StringAssert.Contains(lines[8], "line 9");
        Assert.AreEqual("r19,19,", lines[20]);
    }

    [TestMethod]
    public void ACancelledJobResumesToExactlyTheFullResult()
    {
        using var dir = new TempDir();
        string input = WriteInput(dir, 30);
        Run(input, dir.File("full.jsonl"));

        string output = dir.File("out.jsonl");
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            if (p.Done >= 10)
            {
                cts.Cancel();
            }
        });
        Assert.ThrowsExactly<OperationCanceledException>(() => Run(input, output, progress: progress, cancellationToken: cts.Token));
        int written = File.ReadAllLines(output).Length;
        Assert.IsTrue(written is >= 10 and < 30, $"{written} rows before the cancellation");

        ScoringResult resumed = Run(input, output, resume: true);
        Assert.AreEqual(written, resumed.Resumed);
        Assert.AreEqual(30 - written, resumed.Written);
        CollectionAssert.AreEqual(File.ReadAllLines(dir.File("full.jsonl")), File.ReadAllLines(output));
    }

    [TestMethod]
    public void ShardsCoverContiguousRangesWhoseOutputsConcatenateToTheWhole()
    {
        using var dir = new TempDir();
        string input = WriteInput(dir, 23);
        Run(input, dir.File("full.jsonl"));
        var parts = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            ScoringResult r = Run(input, dir.File($"p{i}.jsonl"), shard: new Shard(i, 4));
            Assert.AreEqual((23L * i / 4, 23L * (i + 1) / 4), (r.ShardStart, r.ShardEnd));
            parts.AddRange(File.ReadAllLines(dir.File($"p{i}.jsonl")));
        }

        CollectionAssert.AreEqual(File.ReadAllLines(dir.File("full.jsonl")), parts);
    }

    [TestMethod]
    public void InvalidUtf8IsABadRowWithOnBadRowAndAnErrorWithout()
    {
        using var dir = new TempDir();
        string path = dir.File("bad.csv");
        File.WriteAllBytes(path, [.. "text\nok\nx"u8, 0xC3, 0x28, .. "y\nfine\n"u8]);
        var ctx = new TransformersContext();
        var bad = new List<BadRow>();
        IDataView view = ctx.Data.LoadFromTextFile(path, new LoadOptions { OnBadRow = bad.Add });
        CollectionAssert.AreEqual(new[] { "ok", "fine" }, view.GetColumn<string?>("text").ToArray());
        Assert.AreEqual(1, bad.Count);
        Assert.AreEqual((3L, 1L), (bad[0].Line, bad[0].RowNumber));
        StringAssert.Contains(bad[0].Message, "not valid UTF-8");
        CollectionAssert.AreEqual(new long[] { 0, 2 }, TestData.Rows(view).Select(r => r.Row).ToArray());

        var strict = ctx.Data.LoadFromTextFile(path);
        DataFormatException e = Assert.ThrowsExactly<DataFormatException>(() => strict.GetColumn<string?>("text").ToArray());
        StringAssert.Contains(e.Message, "UTF-8");
    }

    private sealed class SyncProgress(Action<ScoringProgress> report) : IProgress<ScoringProgress>
    {
        public void Report(ScoringProgress value) => report(value);
    }
}
