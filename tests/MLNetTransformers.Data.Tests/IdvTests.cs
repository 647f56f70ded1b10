using System.Buffers.Binary;
using System.Text;
using MLNetTransformers.Data.IO.Idv;

namespace MLNetTransformers.Data.Tests;

[TestClass]
public sealed class IdvFixtureTests
{
    internal static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", "idv", name);

    private static string Expected(string name) => File.ReadAllText(Fixture(name)).ReplaceLineEndings("\n");

    [TestMethod]
    public void DataTypes_Schema_IsAsSaved()
    {
        using IdvReader reader = IdvReader.Open(Fixture("datatypes.idv"));
        Assert.AreEqual(5L, reader.RowCount);
        string[] expected = ["bl:BL", "i1:I1", "i2:I2", "i4:I4", "i8:I8", "ts:TS", "dto:DZ", "dt:DT", "tx:TX"];
        CollectionAssert.AreEqual(expected, reader.Columns.Select(c => c.ToString()).ToArray());
    }

    [TestMethod]
    public void DataTypes_RendersExactlyAsMlNetTextSaver()
    {
        using IdvReader reader = IdvReader.Open(Fixture("datatypes.idv"));
        string text = MlNetTextFormat.Render(reader.Columns, reader.ReadRows(), outputHeader: true);
        Assert.AreEqual(Expected("datatypes.expected.txt"), text);
    }

    [TestMethod]
    public void DataTypes_Values()
    {
        using IdvReader reader = IdvReader.Open(Fixture("datatypes.idv"));
        List<object?[]> rows = [.. reader.ReadRows()];
        Assert.HasCount(5, rows);
        // Row 0: maxima; the old two-bit "DvBool" missing value (row 2) reads as false; missing text reads as null.
        CollectionAssert.AreEqual(new object?[] { false, sbyte.MaxValue, short.MaxValue, int.MaxValue, long.MaxValue, TimeSpan.FromDays(2),
            new DateTimeOffset(2008, 11, 30, 0, 0, 0, TimeSpan.Zero), new DateTime(2013, 8, 5), "foo" }, rows[0]);
        Assert.IsTrue((bool)rows[1][0]!);
        Assert.IsFalse((bool)rows[2][0]!);
        Assert.IsNull(rows[2][8]);
        Assert.AreEqual("", rows[3][8]);
        Assert.IsNull(rows[4][8]);
        // The old missing values (long.MinValue ticks) read as defaults, as in ML.NET.
        Assert.AreEqual(TimeSpan.Zero, rows[4][5]);
        Assert.AreEqual(default(DateTimeOffset), rows[4][6]);
        Assert.AreEqual(default(DateTime), rows[4][7]);
        Assert.AreEqual(sbyte.MinValue, rows[4][1]);
    }

    [TestMethod]
    public void SchemaCodecTest_KeyColumns_ZeroRows()
    {
        using IdvReader reader = IdvReader.Open(Fixture("schema-codec-test.idv"));
        Assert.AreEqual(0L, reader.RowCount);
        Assert.IsEmpty(reader.ReadRows().ToList());
        IdvColumn[] expected =
        [
            new("A", IdvColumnType.Key(IdvDataKind.UInt32, 3)),
            new("B", IdvColumnType.Key(IdvDataKind.UInt32, 6)),
            new("C", IdvColumnType.Key(IdvDataKind.Byte, 11)),
            new("D", IdvColumnType.Key(IdvDataKind.UInt16, 65535)),
            new("E", IdvColumnType.Key(IdvDataKind.UInt32, 4294967295)),
            new("F", IdvColumnType.Key(IdvDataKind.UInt64, ulong.MaxValue)),
        ];
        CollectionAssert.AreEqual(expected, reader.Columns.ToArray());
        Assert.AreEqual(Expected("schema-codec-test.expected.txt"), MlNetTextFormat.Render(reader.Columns, reader.ReadRows(), outputHeader: false));
    }

    [TestMethod]
    public void Writer_ReproducesMlNetsOwnFile_ByteForByte()
    {
        // schema-codec-test.idv was written by ML.NET's BinarySaver (format 1.1.1.6, "Key2" codecs, 1 row per block, Deflate).
        byte[] original = File.ReadAllBytes(Fixture("schema-codec-test.idv"));
        using IdvReader reader = IdvReader.Open(Fixture("schema-codec-test.idv"));
        using var stream = new MemoryStream();
        using (IdvWriter writer = IdvWriter.Create(stream, reader.Columns, new IdvWriterOptions { RowsPerBlock = 1, Compression = IdvCompression.Deflate }))
        {
            writer.Complete();
        }

        CollectionAssert.AreEqual(original, stream.ToArray());
    }

    [TestMethod]
    public void DataTypes_RewrittenWithOurWriter_ReadsIdentically()
    {
        using IdvReader reader = IdvReader.Open(Fixture("datatypes.idv"));
        List<object?[]> rows = [.. reader.ReadRows()];
        foreach (IdvCompression compression in new[] { IdvCompression.None, IdvCompression.Deflate })
        {
            using var stream = new MemoryStream();
            using (IdvWriter writer = IdvWriter.Create(stream, reader.Columns, new IdvWriterOptions { RowsPerBlock = 2, Compression = compression }))
            {
                foreach (object?[] row in rows)
                {
                    writer.WriteRow(row);
                }
            }
            stream.Position = 0;
            using IdvReader again = IdvReader.Open(stream);
            CollectionAssert.AreEqual(reader.Columns.ToArray(), again.Columns.ToArray());
            List<object?[]> back = [.. again.ReadRows()];
            Assert.HasCount(rows.Count, back);
            for (int i = 0; i < rows.Count; i++)
            {
                CollectionAssert.AreEqual(rows[i], back[i], $"row {i}");
            }

            Assert.AreEqual(Expected("datatypes.expected.txt"), MlNetTextFormat.Render(again.Columns, again.ReadRows(), outputHeader: true));
        }
    }
}

[TestClass]
public sealed class IdvRoundTripTests
{
    private static readonly IdvColumn[] AllColumns =
    [
        new("text", IdvColumnType.Text),
        new("bool", IdvColumnType.Boolean),
        new("i32", IdvColumnType.Int32),
        new("i64", IdvColumnType.Int64),
        new("r4", IdvColumnType.Single),
        new("r8", IdvColumnType.Double),
        new("vec3", IdvColumnType.Vector(IdvColumnType.Single, 3)),
        new("vecvar", IdvColumnType.Vector(IdvColumnType.Single)),
        new("i1", IdvColumnType.SByte),
        new("u2", IdvColumnType.UInt16),
        new("ts", IdvColumnType.TimeSpan),
        new("dt", IdvColumnType.DateTime),
        new("dto", IdvColumnType.DateTimeOffset),
        new("key", IdvColumnType.Key(IdvDataKind.UInt32, 10)),
        new("textvec", IdvColumnType.Vector(IdvColumnType.Text)),
        new("boolvec", IdvColumnType.Vector(IdvColumnType.Boolean, 2)),
    ];

    private static object?[] Row(int i) =>
    [
        (i % 4) switch { 0 => null, 1 => "", 2 => "héllo\t\"wörld\" 🙂", _ => "row " + i },
        i % 3 == 0,
        i * 7 - 50,
        (long)i << 40,
        i % 5 == 0 ? float.NaN : i * 0.5f,
        i % 6 == 0 ? double.NegativeInfinity : i / 3.0,
        new[] { i, -i, float.NaN },
        Enumerable.Range(0, i % 4).Select(j => (float)(i + j)).ToArray(), // lengths 0..3, including empty
        (sbyte)(i - 64),
        (ushort)(i * 3),
        TimeSpan.FromMinutes(i),
        new DateTime(2020, 1, 1).AddHours(i),
        new DateTimeOffset(2021, 6, 1, 12, 0, 0, TimeSpan.FromMinutes(i % 2 == 0 ? 120 : -330)).AddDays(i),
        (ulong)(i % 11),
        i % 3 == 0 ? Array.Empty<string>() : new[] { "a" + i, "", "b" },
        new[] { i % 2 == 0, true },
    ];

    private static void AssertRowsEqual(object?[] expected, object?[] actual, string where)
    {
        Assert.HasCount(expected.Length, actual, where);
        for (int c = 0; c < expected.Length; c++)
        {
            if (expected[c] is Array e)
            {
                Assert.IsInstanceOfType(actual[c], e.GetType(), where);
                CollectionAssert.AreEqual(e, (Array)actual[c]!, $"{where} column {c}");
            }
            else
            {
                Assert.AreEqual(expected[c], actual[c], $"{where} column {c}");
            }
        }
    }

    [TestMethod]
    [DataRow(IdvCompression.None, 1)]
    [DataRow(IdvCompression.None, 7)]
    [DataRow(IdvCompression.Deflate, 3)]
    [DataRow(IdvCompression.Deflate, 8192)]
    public void RoundTrip_AllTypes(IdvCompression compression, int rowsPerBlock)
    {
        const int count = 50;
        using var stream = new MemoryStream();
        using (IdvWriter writer = IdvWriter.Create(stream, AllColumns, new IdvWriterOptions { RowsPerBlock = rowsPerBlock, Compression = compression }))
        {
            for (int i = 0; i < count; i++)
            {
                writer.WriteRow(Row(i));
            }

            Assert.AreEqual(count, writer.RowCount);
        }
        stream.Position = 0;
        using IdvReader reader = IdvReader.Open(stream, "roundtrip");
        Assert.AreEqual(count, reader.RowCount);
        CollectionAssert.AreEqual(AllColumns, reader.Columns.ToArray());
        int n = 0;
        foreach (object?[] row in reader.ReadRows())
        {
            AssertRowsEqual(Row(n), row, $"row {n}");
            n++;
        }
        Assert.AreEqual(count, n);
    }

    [TestMethod]
    public void RoundTrip_ZeroRowsAndFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"idv-{Guid.NewGuid():N}.idv");
        try
        {
            using (IdvWriter writer = IdvWriter.Create(path, AllColumns))
            {
                writer.Complete();
            }

            using IdvReader reader = IdvReader.Open(path);
            Assert.AreEqual(0L, reader.RowCount);
            CollectionAssert.AreEqual(AllColumns, reader.Columns.ToArray());
            Assert.IsEmpty(reader.ReadRows().ToList());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void Writer_UsesMlNetsCodecNamesAndVersion()
    {
        using var stream = new MemoryStream();
        using (IdvWriter writer = IdvWriter.Create(stream, AllColumns))
        {
            writer.WriteRow(Row(1));
        }

        byte[] bytes = stream.ToArray();
        Assert.AreEqual(0x00425644004C4D43UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        Assert.AreEqual(0x0001000100010006UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8)));
        Assert.AreEqual(0x0001000100010006UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(16)));
        Assert.AreEqual(0x434D4C0044564200UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(bytes.Length - 8)));
        long toc = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(24));
        string tocText = Encoding.UTF8.GetString(bytes, (int)toc, bytes.Length - (int)toc);
        foreach (string name in new[] { "\u0008TextSpan", "\u0007Boolean", "\u0005Int32", "\u0005Int64", "\u0006Single", "\u0006Double",
            "\u0007VBuffer", "\u0005SByte", "\u0006UInt16", "\u0008TimeSpan", "\u0008DateTime", "\u000eDateTimeOffset", "\u0004Key2" })
        {
            StringAssert.Contains(tocText, name);
        }
        // Fixed-size float vector: "VBuffer", parameterization = ("Single", no params), 1 dimension of 3.
        byte[] vbuffer = [7, .. "VBuffer"u8, 16, 6, .. "Single"u8, 0, 1, 0, 0, 0, 3, 0, 0, 0];
        Assert.IsGreaterThanOrEqualTo(0, bytes.AsSpan((int)toc).IndexOf(vbuffer));
    }

    [TestMethod]
    public void Writer_RejectsWrongValues()
    {
        using var stream = new MemoryStream();
        using IdvWriter writer = IdvWriter.Create(stream, [new("x", IdvColumnType.Int32), new("v", IdvColumnType.Vector(IdvColumnType.Single, 2))]);
        Assert.ThrowsExactly<ArgumentException>(() => writer.WriteRow(1));
        Assert.ThrowsExactly<ArgumentException>(() => writer.WriteRow(1L, new float[2]));
        Assert.ThrowsExactly<InvalidOperationException>(() => writer.WriteRow(1, new float[2]));
        using IdvWriter writer2 = IdvWriter.Create(new MemoryStream(), [new("v", IdvColumnType.Vector(IdvColumnType.Single, 2))]);
        Assert.ThrowsExactly<ArgumentException>(() => writer2.WriteRow([new float[3]]));
    }

    [TestMethod]
    [DoNotParallelize]
    public void Streaming_100kRows_MemoryStaysBounded()
    {
        const int rows = 100_000;
        var columns = new IdvColumn[] { new("text", IdvColumnType.Text), new("emb", IdvColumnType.Vector(IdvColumnType.Single, 32)), new("id", IdvColumnType.Int64) };
        var vector = new float[32];
        string path = Path.Combine(Path.GetTempPath(), $"idv-stream-{Guid.NewGuid():N}.idv");
        try
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            long baseline = GC.GetTotalMemory(forceFullCollection: true);
            long peak = 0;
            using (IdvWriter writer = IdvWriter.Create(path, columns, new IdvWriterOptions { RowsPerBlock = 256 }))
            {
                for (int i = 0; i < rows; i++)
                {
                    vector[i % 32] = i;
                    writer.WriteRow("some text for row " + i, vector, (long)i);
                    if (i % 20_000 == 19_999)
                    {
                        peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true) - baseline);
                    }
                }
            }
            // All rows hold ~170 bytes of payload each (17 MB in all); one block is ~45 KB. Lookup tables add 16 bytes per block and column.
            long fileSize = new FileInfo(path).Length;
            Assert.IsLessThan(4L << 20, peak, $"writer retained {peak} bytes (file {fileSize} bytes)");

            GC.Collect();
            baseline = GC.GetTotalMemory(forceFullCollection: true);
            peak = 0;
            long n = 0;
            using (IdvReader reader = IdvReader.Open(path))
            {
                foreach (object?[] row in reader.ReadRows())
                {
                    Assert.AreEqual(n, (long)row[2]!);
                    if (++n % 20_000 == 0)
                    {
                        peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true) - baseline);
                    }
                }
            }
            Assert.AreEqual(rows, n);
            Assert.IsLessThan(4L << 20, peak, $"reader retained {peak} bytes");
        }
        finally
        {
            File.Delete(path);
        }
    }
}

[TestClass]
public sealed class IdvErrorTests
{
    private static byte[] DataTypes() => File.ReadAllBytes(IdvFixtureTests.Fixture("datatypes.idv"));

    /// <summary>Opens and reads everything; the only acceptable failure is <see cref="InvalidDataException"/>.</summary>
    private static InvalidDataException? TryReadAll(byte[] bytes, string name)
    {
        try
        {
            using IdvReader reader = IdvReader.Open(new MemoryStream(bytes), name);
            foreach (object?[] row in reader.ReadRows())
            {
                _ = row;
            }

            return null;
        }
        catch (InvalidDataException ex)
        {
            return ex;
        }
    }

    [TestMethod]
    public void Truncated_AtManyOffsets_ThrowsInvalidData()
    {
        byte[] bytes = DataTypes();
        foreach (int length in new[] { 0, 1, 8, 100, 255, 256, 263, 300, 400, 527, 600, 800, bytes.Length - 1 })
        {
            InvalidDataException? ex = TryReadAll(bytes[..length], "cut.idv");
            Assert.IsNotNull(ex, $"truncated to {length}");
            StringAssert.StartsWith(ex.Message, "cut.idv", StringComparison.Ordinal);
        }
    }

    [TestMethod]
    public void BadSignature_ThrowsInvalidData()
    {
        byte[] bytes = DataTypes();
        bytes[1] ^= 0xFF;
        InvalidDataException? ex = TryReadAll(bytes, "sig.idv");
        Assert.IsNotNull(ex);
        StringAssert.Contains(ex.Message, "signature");
        StringAssert.Contains(ex.Message, "sig.idv");
    }

    [TestMethod]
    public void UnknownCodec_IsNamed()
    {
        byte[] bytes = DataTypes();
        int at = bytes.AsSpan().IndexOf("DvBool"u8);
        bytes[at + 5] = (byte)'x';
        InvalidDataException? ex = TryReadAll(bytes, "codec.idv");
        Assert.IsNotNull(ex);
        StringAssert.Contains(ex.Message, "'DvBoox'");
        StringAssert.Contains(ex.Message, "'bl'");
    }

    [TestMethod]
    public void BlockOffsetOutOfRange_ThrowsInvalidData()
    {
        byte[] bytes = DataTypes();
        // The first column's lookup table is at 0x17F; point its only block past the end of the file.
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(0x17F), 1_000_000);
        InvalidDataException? ex = TryReadAll(bytes, "offset.idv");
        Assert.IsNotNull(ex);
        StringAssert.Contains(ex.Message, "block offset 1000000");
        StringAssert.Contains(ex.Message, "'bl'");
    }

    [TestMethod]
    public void CorruptBlocks_AndRandomBytes_NeverCrash()
    {
        var random = new Random(1234);
        byte[] original = DataTypes();
        int failures = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            byte[] bytes = (byte[])original.Clone();
            // Corrupt a few bytes anywhere after the signature, or replace the whole file by random bytes.
            if (trial % 10 == 0)
            {
                random.NextBytes(bytes);
                bytes = bytes[..random.Next(bytes.Length)];
            }
            else
            {
                for (int k = 0; k < 3; k++)
                {
                    bytes[random.Next(8, bytes.Length - 8)] = (byte)random.Next(256);
                }
            }
            if (TryReadAll(bytes, "fuzz.idv") is not null)
            {
                failures++;
            }
        }
        Assert.IsGreaterThan(0, failures);
    }
}
