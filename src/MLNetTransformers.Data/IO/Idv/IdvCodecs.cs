using System.Runtime.InteropServices;
using System.Text;

namespace MLNetTransformers.Data.IO.Idv;

/// <summary>
/// A value codec: how one column's values are laid out in a (decompressed) block, and its definition in the table of contents
/// (ML.NET's <c>IValueCodec</c> / <c>CodecFactory</c>).
/// </summary>
internal abstract class IdvCodec
{
    /// <summary>The codec's load name as written in the table of contents.</summary>
    public abstract string LoadName { get; }

    public abstract IdvColumnType Type { get; }

    /// <summary>Writes the parameterization bytes (empty for the simple codecs).</summary>
    public virtual void WriteParameterization(BinaryWriter writer)
    {
    }

    /// <summary>Decodes <paramref name="count"/> values into an array of the values' .NET type (an <c>object[]</c> of arrays for vectors).</summary>
    public abstract Array Decode(ByteCursor cursor, int count);

    /// <summary>An encoder for one block of values.</summary>
    public abstract IdvEncoder CreateEncoder(string column);

    // *** Codec definition: string load name, LEB128 parameterization length, parameterization bytes.
    public static void WriteDefinition(BinaryWriter writer, IdvCodec codec)
    {
        using var parameters = new MemoryStream();
        using (var paramWriter = new BinaryWriter(parameters, Encoding.UTF8, leaveOpen: true))
        {
            codec.WriteParameterization(paramWriter);
        }

        writer.Write(codec.LoadName);
        writer.Write7BitEncodedInt64(parameters.Length);
        writer.Write(parameters.GetBuffer(), 0, (int)parameters.Length);
    }

    public static IdvCodec ReadDefinition(ByteCursor cursor, string column)
    {
        string name = cursor.ReadString($"column '{column}' codec name");
        if (name.Length == 0)
        {
            throw cursor.Error($"column '{column}' has an empty codec name");
        }

        ulong length = cursor.ReadLeb128($"column '{column}' codec '{name}' parameterization length");
        if (length > (ulong)cursor.Remaining)
        {
            throw cursor.Error($"column '{column}' codec '{name}' parameterization claims {length} bytes but only {cursor.Remaining} remain");
        }

        int start = cursor.Position;
        IdvCodec codec = name switch
        {
            "Boolean" => new BoolCodec(),
            "DvBool" => new DvBoolCodec(),
            "SByte" => NumberCodec.For(IdvDataKind.SByte),
            "Int16" => NumberCodec.For(IdvDataKind.Int16),
            "Int32" => NumberCodec.For(IdvDataKind.Int32),
            "Int64" => NumberCodec.For(IdvDataKind.Int64),
            "Byte" => NumberCodec.For(IdvDataKind.Byte),
            "UInt16" => NumberCodec.For(IdvDataKind.UInt16),
            "UInt32" => NumberCodec.For(IdvDataKind.UInt32),
            "UInt64" => NumberCodec.For(IdvDataKind.UInt64),
            "Single" => NumberCodec.For(IdvDataKind.Single),
            "Double" => NumberCodec.For(IdvDataKind.Double),
            "TimeSpan" or "DvTimeSpan" => new TimeSpanCodec(),
            "DateTime" or "DvDateTime" => new DateTimeCodec(),
            "DateTimeOffset" or "DvDateTimeZone" => new DateTimeOffsetCodec(),
            "TextSpan" => new TextCodec(),
            "Key" => KeyCodec.ReadOld(cursor, column),
            "Key2" => KeyCodec.Read(cursor, column),
            "VBuffer" => VectorCodec.Read(cursor, column),
            _ => throw cursor.Error($"column '{column}' uses the unknown codec '{name}'"),
        };
        if ((ulong)(cursor.Position - start) != length)
        {
            throw cursor.Error($"column '{column}' codec '{name}' parameterization is {length} bytes but its definition used {cursor.Position - start}");
        }

        return codec;
    }

    /// <summary>The codec ML.NET's <c>BinarySaver</c> (format 1.1.1.6) uses for a type.</summary>
    public static IdvCodec ForType(IdvColumnType type)
    {
        if (type.IsVector)
        {
            return new VectorCodec(ForType(type.ItemType), type.VectorSize);
        }

        if (type.IsKey)
        {
            return new KeyCodec(NumberCodec.For(type.ItemKind), type.KeyCount);
        }

        return type.ItemKind switch
        {
            IdvDataKind.Boolean => new BoolCodec(),
            IdvDataKind.Text => new TextCodec(),
            IdvDataKind.TimeSpan => new TimeSpanCodec(),
            IdvDataKind.DateTime => new DateTimeCodec(),
            IdvDataKind.DateTimeOffset => new DateTimeOffsetCodec(),
            _ => NumberCodec.For(type.ItemKind),
        };
    }

    protected static ArgumentException WrongValue(string column, object? value, string expected) =>
        new($"Column '{column}' expects {expected} but got {(value is null ? "null" : value.GetType().Name + " " + value)}.", nameof(value));
}

/// <summary>Accumulates one block of one column's values, then writes the block payload.</summary>
internal abstract class IdvEncoder
{
    /// <summary>Adds one value; throws <see cref="ArgumentException"/> when the value does not fit the column.</summary>
    public abstract void Add(object? value);

    /// <summary>Writes the values added since the last commit as one block payload, and forgets them.</summary>
    public abstract void Commit(BinaryWriter writer);
}

/// <summary>Growable array that is reused between blocks.</summary>
internal sealed class Buffer<T>
{
    private T[] _items = new T[16];

    public int Count { get; private set; }

    public Span<T> Span => _items.AsSpan(0, Count);

    public void Add(T item)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, checked(_items.Length * 2));
        }

        _items[Count++] = item;
    }

    public void Clear() => Count = 0;
}

/// <summary>Packed little-endian fixed-size numbers (ML.NET's <c>UnsafeTypeCodec</c>), load name = the .NET type name.</summary>
internal abstract class NumberCodec : IdvCodec
{
    public static NumberCodec For(IdvDataKind kind) => kind switch
    {
        IdvDataKind.SByte => new NumberCodec<sbyte>(kind),
        IdvDataKind.Int16 => new NumberCodec<short>(kind),
        IdvDataKind.Int32 => new NumberCodec<int>(kind),
        IdvDataKind.Int64 => new NumberCodec<long>(kind),
        IdvDataKind.Byte => new NumberCodec<byte>(kind),
        IdvDataKind.UInt16 => new NumberCodec<ushort>(kind),
        IdvDataKind.UInt32 => new NumberCodec<uint>(kind),
        IdvDataKind.UInt64 => new NumberCodec<ulong>(kind),
        IdvDataKind.Single => new NumberCodec<float>(kind),
        IdvDataKind.Double => new NumberCodec<double>(kind),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a number kind."),
    };

    /// <summary>Raw values widened to <see cref="ulong"/> (only for unsigned kinds, used by keys).</summary>
    public abstract ulong[] DecodeUnsigned(ByteCursor cursor, int count);

    /// <summary>Adds a raw unsigned value (used by keys).</summary>
    public abstract void AddUnsigned(IdvEncoder encoder, ulong value);
}

internal sealed class NumberCodec<T> : NumberCodec
    where T : unmanaged
{
    private static readonly bool LittleEndian = BitConverter.IsLittleEndian ? true
        : throw new PlatformNotSupportedException("The .idv codec needs a little-endian machine.");

    public NumberCodec(IdvDataKind kind)
    {
        Type = IdvColumnType.Scalar(kind);
    }

    public override string LoadName => typeof(T).Name;

    public override IdvColumnType Type { get; }

    public override Array Decode(ByteCursor cursor, int count) => DecodeTyped(cursor, count);

    public static T[] DecodeTyped(ByteCursor cursor, int count)
    {
        _ = LittleEndian;
        int size = Marshal.SizeOf<T>();
        cursor.Require((long)count * size, $"{count} {typeof(T).Name} values");
        return MemoryMarshal.Cast<byte, T>(cursor.ReadBytes(count * size, typeof(T).Name)).ToArray();
    }

    public override ulong[] DecodeUnsigned(ByteCursor cursor, int count)
    {
        T[] raw = DecodeTyped(cursor, count);
        var result = new ulong[count];
        for (int i = 0; i < raw.Length; i++)
        {
            result[i] = Convert.ToUInt64(raw[i], System.Globalization.CultureInfo.InvariantCulture);
        }

        return result;
    }

    public override IdvEncoder CreateEncoder(string column) => new Encoder(column);

    public override void AddUnsigned(IdvEncoder encoder, ulong value)
    {
        var e = (Encoder)encoder;
        e.Values.Add((T)Convert.ChangeType(value, typeof(T), System.Globalization.CultureInfo.InvariantCulture));
    }

    private sealed class Encoder(string column) : IdvEncoder
    {
        public Buffer<T> Values { get; } = new();

        public override void Add(object? value)
        {
            if (value is not T v)
            {
                throw WrongValue(column, value, typeof(T).Name);
            }

            Values.Add(v);
        }

        public override void Commit(BinaryWriter writer)
        {
            writer.Write(MemoryMarshal.AsBytes(Values.Span));
            Values.Clear();
        }
    }
}

/// <summary>"Boolean": one bit per value, packed into bytes least significant bit first (format 1.1.1.6).</summary>
internal sealed class BoolCodec : IdvCodec
{
    public override string LoadName => "Boolean";

    public override IdvColumnType Type => IdvColumnType.Boolean;

    public override Array Decode(ByteCursor cursor, int count)
    {
        cursor.Require(((long)count + 7) / 8, $"{count} packed booleans");
        var values = new bool[count];
        byte bits = 0;
        for (int i = 0; i < count; i++)
        {
            if ((i & 7) == 0)
            {
                bits = cursor.ReadByte();
            }

            values[i] = (bits & (1 << (i & 7))) != 0;
        }
        return values;
    }

    public override IdvEncoder CreateEncoder(string column) => new Encoder(column);

    private sealed class Encoder(string column) : IdvEncoder
    {
        private readonly Buffer<bool> _values = new();

        public override void Add(object? value)
        {
            if (value is not bool b)
            {
                throw WrongValue(column, value, "bool");
            }

            _values.Add(b);
        }

        public override void Commit(BinaryWriter writer)
        {
            Span<bool> values = _values.Span;
            for (int i = 0; i < values.Length; i += 8)
            {
                byte bits = 0;
                for (int j = 0; j < 8 && i + j < values.Length; j++)
                {
                    if (values[i + j])
                    {
                        bits |= (byte)(1 << j);
                    }
                }
                writer.Write(bits);
            }
            _values.Clear();
        }
    }
}

/// <summary>"DvBool" (formats up to 1.1.1.5): two bits per value, 16 values per little-endian int32, 00 false, 01 true,
/// 10 missing (read as false, as ML.NET does since booleans lost their missing value). Read only.</summary>
internal sealed class DvBoolCodec : IdvCodec
{
    public override string LoadName => "DvBool";

    public override IdvColumnType Type => IdvColumnType.Boolean;

    public override Array Decode(ByteCursor cursor, int count)
    {
        cursor.Require(((long)count + 15) / 16 * 4, $"{count} two-bit booleans");
        var values = new bool[count];
        int bits = 0;
        for (int i = 0; i < count; i++)
        {
            if ((i & 15) == 0)
            {
                bits = cursor.ReadInt32();
            }

            int v = (bits >> (2 * (i & 15))) & 3;
            if (v == 3)
            {
                throw cursor.Error("invalid two-bit boolean pattern 11");
            }

            values[i] = v == 1;
        }
        return values;
    }

    public override IdvEncoder CreateEncoder(string column) =>
        throw new NotSupportedException("The DvBool codec is read only; booleans are written with the Boolean codec.");
}

/// <summary>TimeSpan: int64 ticks; <see cref="long.MinValue"/> (the old missing value) reads as zero, as in ML.NET.</summary>
internal sealed class TimeSpanCodec : IdvCodec
{
    public override string LoadName => "TimeSpan";

    public override IdvColumnType Type => IdvColumnType.TimeSpan;

    public override Array Decode(ByteCursor cursor, int count)
    {
        cursor.Require((long)count * 8, $"{count} time spans");
        var values = new TimeSpan[count];
        for (int i = 0; i < count; i++)
        {
            long ticks = cursor.ReadInt64();
            values[i] = new TimeSpan(ticks == long.MinValue ? 0 : ticks);
        }
        return values;
    }

    public override IdvEncoder CreateEncoder(string column) => new Encoder(column);

    private sealed class Encoder(string column) : IdvEncoder
    {
        private readonly Buffer<long> _ticks = new();

        public override void Add(object? value)
        {
            if (value is not TimeSpan ts)
            {
                throw WrongValue(column, value, "TimeSpan");
            }

            if (ts.Ticks == long.MinValue)
            {
                throw new ArgumentException($"Column '{column}': TimeSpan.MinValue cannot be stored (it is the format's old missing value).", nameof(value));
            }

            _ticks.Add(ts.Ticks);
        }

        public override void Commit(BinaryWriter writer)
        {
            writer.Write(MemoryMarshal.AsBytes(_ticks.Span));
            _ticks.Clear();
        }
    }
}

/// <summary>DateTime: int64 ticks (kind unspecified); <see cref="long.MinValue"/> (old missing) reads as the default.</summary>
internal sealed class DateTimeCodec : IdvCodec
{
    public override string LoadName => "DateTime";

    public override IdvColumnType Type => IdvColumnType.DateTime;

    public static DateTime FromTicks(ByteCursor cursor, long ticks)
    {
        if (ticks == long.MinValue)
        {
            return default;
        }

        if (ticks < 0 || ticks > DateTime.MaxValue.Ticks)
        {
            throw cursor.Error($"date-time ticks {ticks} out of range");
        }

        return new DateTime(ticks, DateTimeKind.Unspecified);
    }

    public override Array Decode(ByteCursor cursor, int count)
    {
        cursor.Require((long)count * 8, $"{count} date-times");
        var values = new DateTime[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = FromTicks(cursor, cursor.ReadInt64());
        }

        return values;
    }

    public override IdvEncoder CreateEncoder(string column) => new Encoder(column);

    private sealed class Encoder(string column) : IdvEncoder
    {
        private readonly Buffer<long> _ticks = new();

        public override void Add(object? value)
        {
            if (value is not DateTime dt)
            {
                throw WrongValue(column, value, "DateTime");
            }

            _ticks.Add(dt.Ticks);
        }

        public override void Commit(BinaryWriter writer)
        {
            writer.Write(MemoryMarshal.AsBytes(_ticks.Span));
            _ticks.Clear();
        }
    }
}

/// <summary>DateTimeOffset: all the int16 offsets in minutes, then all the int64 clock ticks.</summary>
internal sealed class DateTimeOffsetCodec : IdvCodec
{
    public override string LoadName => "DateTimeOffset";

    public override IdvColumnType Type => IdvColumnType.DateTimeOffset;

    public override Array Decode(ByteCursor cursor, int count)
    {
        cursor.Require((long)count * 10, $"{count} date-time offsets");
        var offsets = new short[count];
        for (int i = 0; i < count; i++)
        {
            offsets[i] = cursor.ReadInt16();
            if (offsets[i] < -14 * 60 || offsets[i] > 14 * 60)
            {
                throw cursor.Error($"date-time offset of {offsets[i]} minutes out of range");
            }
        }
        var values = new DateTimeOffset[count];
        for (int i = 0; i < count; i++)
        {
            long ticks = cursor.ReadInt64();
            if (ticks == long.MinValue)
            {
                continue;
            }

            DateTime clock = DateTimeCodec.FromTicks(cursor, ticks);
            try
            {
                values[i] = new DateTimeOffset(clock, TimeSpan.FromMinutes(offsets[i]));
            }
            catch (ArgumentOutOfRangeException)
            {
                throw cursor.Error($"date-time offset ticks {ticks} with offset {offsets[i]} minutes is out of range");
            }
        }
        return values;
    }

    public override IdvEncoder CreateEncoder(string column) => new Encoder(column);

    private sealed class Encoder(string column) : IdvEncoder
    {
        private readonly Buffer<DateTimeOffset> _values = new();

        public override void Add(object? value)
        {
            if (value is not DateTimeOffset dto)
            {
                throw WrongValue(column, value, "DateTimeOffset");
            }

            if (dto.Offset.Ticks % TimeSpan.TicksPerMinute != 0)
            {
                throw new ArgumentException($"Column '{column}': offsets must be whole minutes.", nameof(value));
            }

            _values.Add(dto);
        }

        public override void Commit(BinaryWriter writer)
        {
            foreach (DateTimeOffset v in _values.Span)
            {
                writer.Write((short)(v.Offset.Ticks / TimeSpan.TicksPerMinute));
            }

            foreach (DateTimeOffset v in _values.Span)
            {
                writer.Write(v.DateTime.Ticks);
            }

            _values.Clear();
        }
    }
}

/// <summary>
/// "TextSpan": int32 count; int32[count] cumulative end boundaries in UTF-16 characters, high bit set for missing text;
/// then all the text concatenated as one <see cref="BinaryWriter"/> string (LEB128 byte length + UTF-8).
/// </summary>
internal sealed class TextCodec : IdvCodec
{
    private const int MissingBit = unchecked((int)0x80000000);
    private const int LengthMask = 0x7FFFFFFF;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public override string LoadName => "TextSpan";

    public override IdvColumnType Type => IdvColumnType.Text;

    public override Array Decode(ByteCursor cursor, int count)
    {
        int entries = cursor.ReadInt32("text entry count");
        if (entries != count)
        {
            throw cursor.Error($"text block holds {entries} entries where {count} were expected");
        }

        cursor.Require((long)count * 4, $"{count} text boundaries");
        var bounds = new int[count];
        int prev = 0;
        for (int i = 0; i < count; i++)
        {
            int b = bounds[i] = cursor.ReadInt32();
            if ((b & LengthMask) < (prev & LengthMask) || (b < 0 && (b & LengthMask) != (prev & LengthMask)))
            {
                throw cursor.Error($"text boundary {i} ({b & LengthMask}) is out of order");
            }

            prev = b;
        }
        string text = cursor.ReadString("text characters");
        if (text.Length != (count == 0 ? 0 : bounds[count - 1] & LengthMask))
        {
            throw cursor.Error($"text block has {text.Length} characters where its boundaries say {(count == 0 ? 0 : bounds[count - 1] & LengthMask)}");
        }

        var values = new string?[count];
        int start = 0;
        for (int i = 0; i < count; i++)
        {
            int end = bounds[i] & LengthMask;
            values[i] = bounds[i] < 0 ? null : text.Substring(start, end - start);
            start = end;
        }
        return values;
    }

    public override IdvEncoder CreateEncoder(string column) => new Encoder(column);

    private sealed class Encoder(string column) : IdvEncoder
    {
        private readonly StringBuilder _text = new();
        private readonly Buffer<int> _bounds = new();

        public override void Add(object? value)
        {
            if (value is null)
            {
                _bounds.Add(_text.Length | MissingBit);
                return;
            }
            if (value is not string s)
            {
                throw WrongValue(column, value, "string (or null for missing text)");
            }

            try
            {
                StrictUtf8.GetByteCount(s);
            }
            catch (EncoderFallbackException ex)
            {
                throw new ArgumentException($"Column '{column}': text is not valid UTF-16 ({ex.Message}).", nameof(value), ex);
            }
            if ((long)_text.Length + s.Length > LengthMask)
            {
                throw new ArgumentException($"Column '{column}': a block's text exceeds 2^31 characters; use fewer rows per block.", nameof(value));
            }

            _text.Append(s);
            _bounds.Add(_text.Length);
        }

        public override void Commit(BinaryWriter writer)
        {
            writer.Write(_bounds.Count);
            writer.Write(MemoryMarshal.AsBytes(_bounds.Span));
            writer.Write(_text.ToString());
            _text.Clear();
            _bounds.Clear();
        }
    }
}

/// <summary>
/// Keys: values stored as their unsigned raw kind. "Key2" (1.1.1.6): inner codec, uint64 count. "Key" (older): inner
/// codec, bool byte contiguous, uint64 min, int32 count, where count 0 (unknown cardinality) reads as the raw kind's maximum.
/// </summary>
internal sealed class KeyCodec : IdvCodec
{
    private readonly NumberCodec _inner;

    public KeyCodec(NumberCodec inner, ulong count)
    {
        _inner = inner;
        Type = IdvColumnType.Key(inner.Type.ItemKind, count);
    }

    public override string LoadName => "Key2";

    public override IdvColumnType Type { get; }

    private static NumberCodec ReadInner(ByteCursor cursor, string column)
    {
        IdvCodec inner = ReadDefinition(cursor, column);
        if (inner is not NumberCodec number || IdvColumnType.MaxKeyValue(number.Type.ItemKind) == 0)
        {
            throw cursor.Error($"column '{column}' is a key over '{inner.LoadName}', which is not an unsigned integer codec");
        }

        return number;
    }

    public static KeyCodec Read(ByteCursor cursor, string column)
    {
        NumberCodec inner = ReadInner(cursor, column);
        ulong count = cursor.ReadUInt64($"column '{column}' key count");
        ulong max = IdvColumnType.MaxKeyValue(inner.Type.ItemKind);
        if (count == 0 || count > max)
        {
            throw cursor.Error($"column '{column}' key count {count} is outside 1..{max}");
        }

        return new KeyCodec(inner, count);
    }

    public static KeyCodec ReadOld(ByteCursor cursor, string column)
    {
        NumberCodec inner = ReadInner(cursor, column);
        byte contiguous = cursor.ReadByte($"column '{column}' key contiguity");
        ulong min = cursor.ReadUInt64($"column '{column}' key minimum");
        int count = cursor.ReadInt32($"column '{column}' key count");
        ulong max = IdvColumnType.MaxKeyValue(inner.Type.ItemKind);
        if (contiguous > 1 || count < 0 || (ulong)count > max || (contiguous == 0 && count != 0))
        {
            throw cursor.Error($"column '{column}' has an invalid old key definition (contiguous {contiguous}, count {count})");
        }

        if (min != 0)
        {
            throw cursor.Error($"column '{column}' is a key with minimum {min}; only keys with minimum 0 are supported");
        }

        return new KeyCodec(inner, count == 0 ? max : (ulong)count);
    }

    public override void WriteParameterization(BinaryWriter writer)
    {
        WriteDefinition(writer, _inner);
        writer.Write(Type.KeyCount);
    }

    public override Array Decode(ByteCursor cursor, int count) => _inner.DecodeUnsigned(cursor, count);

    public override IdvEncoder CreateEncoder(string column) => new Encoder(this, _inner.CreateEncoder(column), column);

    private sealed class Encoder(KeyCodec codec, IdvEncoder inner, string column) : IdvEncoder
    {
        public override void Add(object? value)
        {
            ulong v = value switch
            {
                ulong u => u,
                uint u => u,
                ushort u => u,
                byte u => u,
                _ => throw WrongValue(column, value, "an unsigned integer key value"),
            };
            if (v > codec.Type.KeyCount)
            {
                throw new ArgumentException($"Column '{column}': key value {v} exceeds the key count {codec.Type.KeyCount}.", nameof(value));
            }

            codec._inner.AddUnsigned(inner, v);
        }

        public override void Commit(BinaryWriter writer) => inner.Commit(writer);
    }
}

/// <summary>
/// "VBuffer": parameterization = inner codec, int32 dimension count, int32 dimensions (one dimension of 0 = variable size).
/// Block: int32 vector count; int32 size (0 = variable); if variable, int32[n] lengths; int32[n] counts (-1 dense, else
/// number of explicit values); int32 total indices; int32[] indices; then all the values through the inner codec.
/// </summary>
internal sealed class VectorCodec : IdvCodec
{
    private readonly IdvCodec _inner;

    public VectorCodec(IdvCodec inner, int size)
    {
        _inner = inner;
        Type = IdvColumnType.Vector(inner.Type, size);
    }

    public override string LoadName => "VBuffer";

    public override IdvColumnType Type { get; }

    public static VectorCodec Read(ByteCursor cursor, string column)
    {
        IdvCodec inner = ReadDefinition(cursor, column);
        if (inner is VectorCodec)
        {
            throw cursor.Error($"column '{column}' is a vector of vectors");
        }

        int dims = cursor.ReadInt32($"column '{column}' vector dimension count");
        if (dims < 0 || dims > cursor.Remaining / 4)
        {
            throw cursor.Error($"column '{column}' has an invalid vector dimension count {dims}");
        }

        long size = dims == 0 ? 0 : 1;
        for (int i = 0; i < dims; i++)
        {
            int d = cursor.ReadInt32($"column '{column}' vector dimension");
            if (d < 0)
            {
                throw cursor.Error($"column '{column}' has a negative vector dimension {d}");
            }

            size *= d;
            if (size > int.MaxValue)
            {
                throw cursor.Error($"column '{column}' vector size is too large");
            }
        }
        return new VectorCodec(inner, (int)size);
    }

    public override void WriteParameterization(BinaryWriter writer)
    {
        WriteDefinition(writer, _inner);
        writer.Write(1);
        writer.Write(Type.VectorSize);
    }

    public override Array Decode(ByteCursor cursor, int count)
    {
        int vectors = cursor.ReadInt32("vector count");
        if (vectors != count)
        {
            throw cursor.Error($"vector block holds {vectors} vectors where {count} were expected");
        }

        int size = cursor.ReadInt32("vector size");
        if (size < 0 || (Type.VectorSize > 0 && size != Type.VectorSize))
        {
            throw cursor.Error($"vector block has size {size} where the column's type says {Type.VectorSize}");
        }

        int[]? lengths = size == 0 ? ReadInts(cursor, count, "vector lengths") : null;
        int[] counts = ReadInts(cursor, count, "vector value counts");
        int indexCount = cursor.ReadInt32("vector index count");
        if (indexCount < 0)
        {
            throw cursor.Error($"negative vector index count {indexCount}");
        }

        int[] indices = ReadInts(cursor, indexCount, "vector indices");

        long totalValues = 0;
        long usedIndices = 0;
        for (int v = 0; v < count; v++)
        {
            int length = lengths?[v] ?? size;
            if (length < 0)
            {
                throw cursor.Error($"vector {v} has negative length {length}");
            }

            if (counts[v] < 0)
            {
                if (counts[v] != -1)
                {
                    throw cursor.Error($"vector {v} has invalid value count {counts[v]}");
                }

                totalValues += length;
                continue;
            }
            if (counts[v] >= length && length > 0 || counts[v] > length)
            {
                throw cursor.Error($"sparse vector {v} has {counts[v]} values for length {length}");
            }

            int prev = -1;
            for (int j = 0; j < counts[v]; j++)
            {
                if (usedIndices + j >= indexCount)
                {
                    throw cursor.Error("vector indices run past the index array");
                }

                int index = indices[usedIndices + j];
                if (index <= prev || index >= length)
                {
                    throw cursor.Error($"sparse vector {v} has an out-of-order or out-of-range index {index}");
                }

                prev = index;
            }
            usedIndices += counts[v];
            totalValues += counts[v];
        }
        if (usedIndices != indexCount)
        {
            throw cursor.Error($"vector block has {indexCount} indices but its vectors use {usedIndices}");
        }

        if (totalValues > cursor.Remaining * 8L)
        {
            throw cursor.Error($"vector block claims {totalValues} values, more than its remaining {cursor.Remaining} bytes can hold");
        }

        Array values = totalValues > 0 ? _inner.Decode(cursor, (int)totalValues) : Array.CreateInstance(Type.ItemClrType, 0);
        var result = new object[count];
        int valueOffset = 0;
        int indexOffset = 0;
        for (int v = 0; v < count; v++)
        {
            int length = lengths?[v] ?? size;
            Array vector = Array.CreateInstance(Type.ItemClrType, length);
            if (counts[v] < 0)
            {
                Array.Copy(values, valueOffset, vector, 0, length);
                valueOffset += length;
            }
            else
            {
                if (Type.ItemKind == IdvDataKind.Text)
                {
                    Array.Fill((string?[])vector, string.Empty);
                }

                for (int j = 0; j < counts[v]; j++)
                {
                    vector.SetValue(values.GetValue(valueOffset + j), indices[indexOffset + j]);
                }

                valueOffset += counts[v];
                indexOffset += counts[v];
            }
            result[v] = vector;
        }
        return result;
    }

    private static int[] ReadInts(ByteCursor cursor, int count, string what)
    {
        cursor.Require((long)count * 4, what);
        var values = new int[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = cursor.ReadInt32(what);
        }

        return values;
    }

    public override IdvEncoder CreateEncoder(string column) => new Encoder(this, _inner.CreateEncoder(column), column);

    /// <summary>Writes every vector dense (count -1), as ML.NET does for dense <c>VBuffer</c>s.</summary>
    private sealed class Encoder(VectorCodec codec, IdvEncoder inner, string column) : IdvEncoder
    {
        private readonly Buffer<int> _lengths = new();

        public override void Add(object? value)
        {
            if (value is not Array array || array.Rank != 1 || array.GetType().GetElementType() != codec.Type.ItemClrType)
            {
                throw WrongValue(column, value, codec.Type.ItemClrType.Name + "[]");
            }

            int size = codec.Type.VectorSize;
            if (size > 0 && array.Length != size)
            {
                throw new ArgumentException($"Column '{column}' expects vectors of {size} items but got {array.Length}.", nameof(value));
            }

            foreach (object? item in array)
            {
                inner.Add(item);
            }

            _lengths.Add(array.Length);
        }

        public override void Commit(BinaryWriter writer)
        {
            Span<int> lengths = _lengths.Span;
            writer.Write(lengths.Length);
            if (codec.Type.VectorSize > 0)
            {
                writer.Write(codec.Type.VectorSize);
            }
            else
            {
                // Like ML.NET: a variable-size column whose vectors in this block all share one positive length writes that length.
                int common = lengths.Length == 0 ? 0 : lengths[0];
                foreach (int l in lengths)
                {
                    if (l != common)
                    {
                        common = 0;
                        break;
                    }
                }
                writer.Write(common);
                if (common == 0)
                {
                    writer.Write(MemoryMarshal.AsBytes(lengths));
                }
            }
            for (int i = 0; i < lengths.Length; i++)
            {
                writer.Write(-1);
            }

            writer.Write(0);
            inner.Commit(writer);
            _lengths.Clear();
        }
    }
}
