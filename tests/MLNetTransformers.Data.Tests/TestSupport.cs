using MLNetTransformers.Data.Transforms;

namespace MLNetTransformers.Data.Tests;

/// <summary>A temporary folder per test, deleted afterwards.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mlnt-data-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Write(string name, string content)
    {
        string path = File(name);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class TestData
{
    public static string TinyLlama => Path.Combine(AppContext.BaseDirectory, "models", "tiny-llama");

    /// <summary>Every row of a view as boxed values (vectors as arrays), with its row number, read with batches of <paramref name="batchSize"/>.</summary>
    public static List<(long Row, object?[] Values)> Rows(IDataView view, int batchSize = 7)
    {
        var rows = new List<(long, object?[])>();
        foreach (DataBatch batch in view.GetBatches(batchSize))
        {
            Assert.IsTrue(batch.RowCount is > 0 && batch.RowCount <= batchSize, $"batch of {batch.RowCount} rows for max {batchSize}");
            for (int r = 0; r < batch.RowCount; r++)
            {
                rows.Add((batch.RowNumbers[r], Enumerable.Range(0, batch.Schema.Count).Select(c => batch.GetValue(c, r)).ToArray()));
            }
        }

        return rows;
    }

    /// <summary>Compares rows value by value (arrays by content, NaN equal to NaN).</summary>
    public static void AssertRowsEqual(List<(long Row, object?[] Values)> expected, List<(long Row, object?[] Values)> actual)
    {
        Assert.HasCount(expected.Count, actual);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.AreEqual(expected[i].Row, actual[i].Row, $"row number of row {i}");
            Assert.HasCount(expected[i].Values.Length, actual[i].Values);
            for (int c = 0; c < expected[i].Values.Length; c++)
            {
                AssertValueEqual(expected[i].Values[c], actual[i].Values[c], $"row {i} column {c}");
            }
        }
    }

    public static void AssertValueEqual(object? expected, object? actual, string where)
    {
        if (expected is Array e && actual is Array a)
        {
            CollectionAssert.AreEqual(e, a, where);
            return;
        }

        Assert.AreEqual(expected, actual, where);
    }
}

/// <summary>A test transform: adds the length of a text column, counts its batches, fails rows whose text contains "bad".</summary>
internal sealed class LengthTransformer(string input = "text", string output = "length", string? errorColumn = "error")
    : BatchMappingTransformer(errorColumn)
{
    public int Batches;
    public int RowsMapped;

    protected override DataViewSchema GetAddedColumns(DataViewSchema inputSchema)
    {
        RequireColumn(inputSchema, input, t => t is TextDataViewType, "Text");
        return DataViewSchema.Create((output, NumberDataViewType.Int32));
    }

    protected override void MapBatch(DataBatch batch, BatchMappingOutput outputs, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Batches);
        string?[] texts = batch.GetColumn<string?>(input);
        int[] lengths = outputs.GetColumn<int>(output);
        for (int i = 0; i < texts.Length; i++)
        {
            if (outputs.HasError(i))
            {
                continue;
            }

            RowsMapped++;
            if (texts[i]?.Contains("bad", StringComparison.Ordinal) == true)
            {
                outputs.SetError(i, "bad text");
                continue;
            }

            lengths[i] = texts[i]?.Length ?? -1;
        }
    }
}

/// <summary>A sequence that counts how often it is enumerated and how many items were pulled.</summary>
internal sealed class CountingSequence<T>(IReadOnlyList<T> items) : IEnumerable<T>
{
    public int Enumerations;
    public int Pulled;

    public IEnumerator<T> GetEnumerator()
    {
        Enumerations++;
        foreach (T item in items)
        {
            Pulled++;
            yield return item;
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

public sealed class TextRow
{
    [ColumnName("text")]
    public string? Text { get; set; }
}
