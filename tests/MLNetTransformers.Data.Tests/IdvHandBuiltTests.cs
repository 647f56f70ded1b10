using System.Text;
using MLNetTransformers.Data.IO.Idv;

namespace MLNetTransformers.Data.Tests;

/// <summary>Files assembled byte by byte, for encodings our writer never produces (sparse vectors, the old "Key" codec).</summary>
[TestClass]
public sealed class IdvHandBuiltTests
{
    /// <summary>A one-column, one-block, uncompressed .idv file (format 1.1.1.6) in BinarySaver's layout.</summary>
    private static byte[] Build(string column, Action<BinaryWriter> codecDefinition, byte[] block, long rows)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms, Encoding.UTF8);
        w.Write(new byte[256]);
        long blockOffset = ms.Position;
        w.Write(block);
        long lookup = ms.Position;
        w.Write(blockOffset);
        w.Write(block.Length);
        w.Write(block.Length);
        long toc = ms.Position;
        w.Write(column);
        codecDefinition(w);
        w.Write((byte)0);
        w.Write((byte)100); // rows per block, LEB128
        w.Write(lookup);
        w.Write(0L);
        long tail = ms.Position;
        w.Write(0x434D4C0044564200UL);
        ms.Position = 0;
        w.Write(0x00425644004C4D43UL);
        w.Write(0x0001000100010006UL);
        w.Write(0x0001000100010006UL);
        w.Write(toc);
        w.Write(tail);
        w.Write(rows);
        w.Write(1);
        return ms.ToArray();
    }

    private static void Definition(BinaryWriter w, string name, Action<BinaryWriter>? parameters = null)
    {
        using var p = new MemoryStream();
        using (var pw = new BinaryWriter(p, Encoding.UTF8, leaveOpen: true))
        {
            parameters?.Invoke(pw);
        }

        w.Write(name);
        w.Write((byte)p.Length);
        w.Write(p.ToArray());
    }

    private static byte[] Block(Action<BinaryWriter> write)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            write(w);
        }

        return ms.ToArray();
    }

    [TestMethod]
    public void SparseAndDenseVectors_DecodeDense()
    {
        byte[] block = Block(w =>
        {
            w.Write(2); // vectors
            w.Write(5); // size
            w.Write(2); // vector 0: sparse with 2 values
            w.Write(-1); // vector 1: dense
            w.Write(2); // indices
            w.Write(1);
            w.Write(3);
            foreach (float f in new[] { 1.5f, 2.5f, 1, 2, 3, 4, 5 })
            {
                w.Write(f);
            }
        });
        byte[] file = Build("v", w => Definition(w, "VBuffer", p => { Definition(p, "Single"); p.Write(1); p.Write(5); }), block, 2);
        using IdvReader reader = IdvReader.Open(new MemoryStream(file));
        Assert.AreEqual(IdvColumnType.Vector(IdvColumnType.Single, 5), reader.Columns[0].Type);
        List<object?[]> rows = [.. reader.ReadRows()];
        CollectionAssert.AreEqual(new float[] { 0, 1.5f, 0, 2.5f, 0 }, (float[])rows[0][0]!);
        CollectionAssert.AreEqual(new float[] { 1, 2, 3, 4, 5 }, (float[])rows[1][0]!);
    }

    [TestMethod]
    public void SparseVector_IndexOutOfRange_ThrowsInvalidData()
    {
        byte[] block = Block(w =>
        {
            w.Write(1);
            w.Write(5);
            w.Write(1);
            w.Write(1);
            w.Write(7); // index 7 in a vector of 5
            w.Write(1f);
        });
        byte[] file = Build("v", w => Definition(w, "VBuffer", p => { Definition(p, "Single"); p.Write(1); p.Write(5); }), block, 1);
        using IdvReader reader = IdvReader.Open(new MemoryStream(file), "sparse.idv");
        InvalidDataException ex = Assert.ThrowsExactly<InvalidDataException>(() => reader.ReadRows().ToList());
        StringAssert.Contains(ex.Message, "sparse.idv");
        StringAssert.Contains(ex.Message, "index 7");
    }

    [TestMethod]
    public void OldKeyCodec_UnknownCardinality_IsTheRawMaximum()
    {
        byte[] block = Block(w =>
        {
            w.Write(0u);
            w.Write(7u);
        });
        byte[] file = Build("k", w => Definition(w, "Key", p => { Definition(p, "UInt32"); p.Write((byte)1); p.Write(0UL); p.Write(0); }), block, 2);
        using IdvReader reader = IdvReader.Open(new MemoryStream(file));
        Assert.AreEqual(IdvColumnType.Key(IdvDataKind.UInt32, uint.MaxValue), reader.Columns[0].Type);
        CollectionAssert.AreEqual(new object[] { 0UL, 7UL }, reader.ReadRows().Select(r => r[0]).ToArray());
    }

    [TestMethod]
    public void OldKeyCodec_WithCount()
    {
        byte[] file = Build("k", w => Definition(w, "Key", p => { Definition(p, "Byte"); p.Write((byte)1); p.Write(0UL); p.Write(11); }), [3], 1);
        using IdvReader reader = IdvReader.Open(new MemoryStream(file));
        Assert.AreEqual(IdvColumnType.Key(IdvDataKind.Byte, 11), reader.Columns[0].Type);
        Assert.AreEqual(3UL, reader.ReadRows().Single()[0]);
    }

    [TestMethod]
    public void BooleanCodec_IsOneBitPerValue_LeastSignificantFirst()
    {
        // 10 values: true at 0, 2, 9.
        byte[] file = Build("b", w => Definition(w, "Boolean"), [0b0000_0101, 0b0000_0010], 10);
        using IdvReader reader = IdvReader.Open(new MemoryStream(file));
        bool[] values = [.. reader.ReadRows().Select(r => (bool)r[0]!)];
        CollectionAssert.AreEqual(new[] { true, false, true, false, false, false, false, false, false, true }, values);
    }
}
