using MLNetTransformers.Data.IO;
using System.Globalization;
using System.Text;

namespace MLNetTransformers.Data.Tests;

[TestClass]
public sealed class StreamingTests
{
    /// <summary>Passes batches through and samples the live managed heap (after a full collection) as it goes.</summary>
    private sealed class HeapProbe(IDataView inner, int everyBatches) : IDataView
    {
        public long MaxLiveBytes;
        public int Samples;

        public DataViewSchema Schema => inner.Schema;

        public long? GetRowCount() => inner.GetRowCount();

        public IEnumerable<DataBatch> GetBatches(int maxRows, CancellationToken cancellationToken = default)
        {
            int n = 0;
            foreach (DataBatch batch in inner.GetBatches(maxRows, cancellationToken))
            {
                if (n++ % everyBatches == 0)
                {
                    MaxLiveBytes = Math.Max(MaxLiveBytes, GC.GetTotalMemory(forceFullCollection: true));
                    Samples++;
                }

                yield return batch;
            }
        }
    }

    [TestMethod]
    [DoNotParallelize]
    public void Csv_To_JsonLines_200kRows_HoldsOneBatchAtATime()
    {
        const int Rows = 200_000;
        using var dir = new TempDir();
        string csv = dir.File("big.csv");
        string padding = new('x', 120);
        using (var w = new StreamWriter(csv, false, new UTF8Encoding(false)))
        {
            w.Write("id,text,score\n");
            for (int i = 0; i < Rows; i++)
            {
                w.Write(string.Create(CultureInfo.InvariantCulture, $"{i},\"row {i}, {padding}\",{i * 0.5}\n"));
            }
        }

        var ctx = new TransformersContext();
        IDataView view = ctx.Data.LoadFromTextFile(csv, new LoadOptions
        {
            Columns = [new("id", NumberDataViewType.Int64), new("text", TextDataViewType.Instance), new("score", NumberDataViewType.Double)],
        });
        var probe = new HeapProbe(view, everyBatches: 40);
        string jsonl = dir.File("big.jsonl");
        long baseline = GC.GetTotalMemory(forceFullCollection: true);
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        ctx.Data.SaveAsJsonLines(probe, jsonl, new SaveOptions { BatchSize = 500 });
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

        // All rows' text alone would be > 200k × 130 chars × 2 bytes ≈ 52 MB; one batch of 500 rows is ~0.2 MB.
        Assert.IsGreaterThanOrEqualTo(5, probe.Samples);
        Assert.IsLessThan(16L << 20, probe.MaxLiveBytes - baseline, $"live heap grew by {probe.MaxLiveBytes - baseline} bytes");
        Assert.IsLessThan(4096L, allocated / Rows, $"{allocated / Rows} bytes allocated per row");

        long lines = 0;
        string? last = null;
        foreach (string line in File.ReadLines(jsonl))
        {
            lines++;
            last = line;
        }

        Assert.AreEqual(Rows, lines);
        Assert.AreEqual($"{{\"id\":{Rows - 1},\"text\":\"row {Rows - 1}, {padding}\",\"score\":{(Rows - 1) * 0.5}}}", last);
    }
}
