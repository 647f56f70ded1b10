using System.Buffers.Binary;
using System.Text;

namespace MLNetTransformers.Tokenizers.SentencePiece;

/// <summary>The protobuf wire types (the low three bits of a field's tag).</summary>
internal enum WireType
{
    /// <summary>int32, int64, uint32, uint64, sint32, sint64, bool, enum.</summary>
    Varint = 0,

    /// <summary>fixed64, sfixed64, double.</summary>
    Fixed64 = 1,

    /// <summary>string, bytes, embedded messages, packed repeated fields.</summary>
    LengthDelimited = 2,

    /// <summary>The start of a (deprecated) group.</summary>
    StartGroup = 3,

    /// <summary>The end of a (deprecated) group.</summary>
    EndGroup = 4,

    /// <summary>fixed32, sfixed32, float.</summary>
    Fixed32 = 5,
}

/// <summary>
/// A minimal, bounds-checked reader of the protobuf wire format over one message's bytes. Every error is an
/// <see cref="InvalidDataException"/> naming the message (e.g. <c>ModelProto.pieces[12]</c>) and the absolute byte offset.
/// </summary>
internal ref struct ProtobufReader
{
    private const int MaxGroupDepth = 64;

    private readonly ReadOnlySpan<byte> _data;
    private readonly int _origin;
    private readonly string _message;
    private int _position;

    /// <summary>Creates a reader.</summary>
    /// <param name="data">The message's bytes.</param>
    /// <param name="origin">The absolute offset of <paramref name="data"/> in the file (for messages).</param>
    /// <param name="message">The message's name and path (for messages).</param>
    public ProtobufReader(ReadOnlySpan<byte> data, int origin, string message)
    {
        _data = data;
        _origin = origin;
        _message = message;
        _position = 0;
    }

    /// <summary>The absolute file offset of the next byte.</summary>
    public readonly int Offset => _origin + _position;

    /// <summary>The message's name and path.</summary>
    public readonly string Message => _message;

    /// <summary>Reads the next field's tag; false at the end of the message.</summary>
    public bool TryReadTag(out int field, out WireType wireType)
    {
        if (_position >= _data.Length)
        {
            field = 0;
            wireType = default;
            return false;
        }

        int at = Offset;
        ulong tag = ReadVarint();
        field = tag >> 3 is > 0 and <= 536_870_911 ? (int)(tag >> 3) : throw Error(at, $"invalid field number {tag >> 3}");
        int wire = (int)(tag & 7);
        wireType = wire is 6 or 7 ? throw Error(at, $"field {field} has invalid wire type {wire}") : (WireType)wire;
        return true;
    }

    /// <summary>Reads a base-128 varint (at most 10 bytes).</summary>
    public ulong ReadVarint()
    {
        int at = Offset;
        ulong result = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_position >= _data.Length)
            {
                throw Error(at, "truncated varint (the data ends inside it)");
            }

            byte b = _data[_position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }

        throw Error(at, "malformed varint (longer than 10 bytes)");
    }

    /// <summary>Reads an int32 varint (negative values are sign-extended to 10 bytes on the wire).</summary>
    public int ReadInt32() => unchecked((int)ReadVarint());

    /// <summary>Reads a bool varint.</summary>
    public bool ReadBool() => ReadVarint() != 0;

    /// <summary>Reads a little-endian float (wire type fixed32).</summary>
    public float ReadFloat() => BitConverter.UInt32BitsToSingle(ReadFixed32());

    /// <summary>Reads 4 little-endian bytes.</summary>
    public uint ReadFixed32()
    {
        if (_data.Length - _position < 4)
        {
            throw Error(Offset, $"truncated fixed32 value ({_data.Length - _position} of 4 bytes left)");
        }

        uint value = BinaryPrimitives.ReadUInt32LittleEndian(_data[_position..]);
        _position += 4;
        return value;
    }

    /// <summary>Reads a length-delimited value (string, bytes or an embedded message).</summary>
    /// <param name="origin">The absolute file offset of its first byte.</param>
    public ReadOnlySpan<byte> ReadLengthDelimited(out int origin)
    {
        int at = Offset;
        ulong length = ReadVarint();
        if (length > (ulong)(_data.Length - _position))
        {
            throw Error(at, $"truncated: a length-delimited value declares {length} bytes but only {_data.Length - _position} remain");
        }

        origin = Offset;
        ReadOnlySpan<byte> value = _data.Slice(_position, (int)length);
        _position += (int)length;
        return value;
    }

    /// <summary>Reads a UTF-8 string (invalid UTF-8 is an error).</summary>
    public string ReadString(string field)
    {
        ReadOnlySpan<byte> bytes = ReadLengthDelimited(out int origin);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Error(origin, $"{field} is not valid UTF-8");
        }
    }

    /// <summary>Skips a field's value (unknown fields are allowed by protobuf).</summary>
    public void Skip(int field, WireType wireType) => Skip(field, wireType, 0);

    /// <summary>Checks that a known field has the wire type its declaration implies.</summary>
    public readonly void Expect(int field, string name, WireType actual, WireType expected)
    {
        if (actual != expected)
        {
            throw Error(Offset, $"field {field} ({name}) has wire type {(int)actual} ({actual}) but its declaration needs {(int)expected} ({expected})");
        }
    }

    /// <summary>An error at an absolute offset, naming this message.</summary>
    public readonly InvalidDataException Error(int offset, string what) => new($"{_message} at byte {offset}: {what}.");

    private void Skip(int field, WireType wireType, int depth)
    {
        switch (wireType)
        {
            case WireType.Varint:
                ReadVarint();
                break;
            case WireType.Fixed64:
                if (_data.Length - _position < 8)
                {
                    throw Error(Offset, $"truncated fixed64 value of field {field}");
                }

                _position += 8;
                break;
            case WireType.LengthDelimited:
                ReadLengthDelimited(out _);
                break;
            case WireType.Fixed32:
                ReadFixed32();
                break;
            case WireType.StartGroup:
                if (depth >= MaxGroupDepth)
                {
                    throw Error(Offset, "groups nested too deeply");
                }

                while (true)
                {
                    if (!TryReadTag(out int inner, out WireType innerType))
                    {
                        throw Error(Offset, $"truncated: group {field} has no end");
                    }

                    if (innerType == WireType.EndGroup)
                    {
                        if (inner != field)
                        {
                            throw Error(Offset, $"group {field} ended by the end tag of field {inner}");
                        }

                        break;
                    }

                    Skip(inner, innerType, depth + 1);
                }

                break;
            default:
                throw Error(Offset, $"unexpected end-group tag of field {field}");
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
