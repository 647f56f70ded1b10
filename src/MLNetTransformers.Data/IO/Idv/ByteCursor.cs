using System.Buffers.Binary;
using System.Text;

namespace MLNetTransformers.Data.IO.Idv;

/// <summary>Bounds-checked little-endian reading over a byte array; every overrun is an <see cref="InvalidDataException"/>.</summary>
internal sealed class ByteCursor
{
    private readonly byte[] _data;
    private readonly int _limit;

    public ByteCursor(byte[] data, int start, int limit, string context)
    {
        _data = data;
        Position = start;
        _limit = limit;
        Context = context;
    }

    /// <summary>Where these bytes come from, for error messages.</summary>
    public string Context { get; }

    public int Position { get; private set; }

    public int Remaining => _limit - Position;

    public InvalidDataException Error(string what) => new($"{Context}: {what}");

    public void Require(long bytes, string what)
    {
        if (bytes < 0 || bytes > Remaining)
        {
            throw Error($"{what} needs {bytes} bytes but only {Remaining} remain");
        }
    }

    private ReadOnlySpan<byte> Take(int bytes, string what)
    {
        Require(bytes, what);
        var span = new ReadOnlySpan<byte>(_data, Position, bytes);
        Position += bytes;
        return span;
    }

    public byte ReadByte(string what = "byte") => Take(1, what)[0];

    public short ReadInt16(string what = "int16") => BinaryPrimitives.ReadInt16LittleEndian(Take(2, what));

    public int ReadInt32(string what = "int32") => BinaryPrimitives.ReadInt32LittleEndian(Take(4, what));

    public long ReadInt64(string what = "int64") => BinaryPrimitives.ReadInt64LittleEndian(Take(8, what));

    public ulong ReadUInt64(string what = "uint64") => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));

    public ReadOnlySpan<byte> ReadBytes(int count, string what) => Take(count, what);

    /// <summary>An unsigned LEB128 integer (also .NET's 7-bit encoded integer), at most 64 bits.</summary>
    public ulong ReadLeb128(string what)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte b = ReadByte(what);
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
        throw Error($"{what}: LEB128 integer longer than 64 bits");
    }

    /// <summary>A .NET <see cref="BinaryWriter"/> string: LEB128 byte length, then UTF-8 bytes.</summary>
    public string ReadString(string what)
    {
        ulong length = ReadLeb128(what + " length");
        if (length > (ulong)Remaining)
        {
            throw Error($"{what} claims {length} bytes but only {Remaining} remain");
        }

        return Encoding.UTF8.GetString(Take((int)length, what));
    }
}
