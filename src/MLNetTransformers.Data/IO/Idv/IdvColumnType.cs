using System.Globalization;

namespace MLNetTransformers.Data.IO.Idv;

/// <summary>
/// The type of an .idv column: a primitive <see cref="IdvDataKind"/>, optionally a key over an unsigned integer kind with a
/// cardinality, optionally a vector of such items with a fixed size or a variable size (0).
/// </summary>
/// <remarks>
/// Values, as <see cref="IdvReader"/> returns them and <see cref="IdvWriter"/> accepts them: the .NET type named on each
/// <see cref="IdvDataKind"/> member; keys as <see cref="ulong"/> raw values (0 = missing, 1..<see cref="KeyCount"/> = the
/// key's values, as in ML.NET); vectors as dense one-dimensional arrays of the item type (<c>float[]</c>, <c>ulong[]</c> for
/// keys, <c>string[]</c> for text, ...).
/// </remarks>
public sealed class IdvColumnType : IEquatable<IdvColumnType>
{
    private IdvColumnType(IdvDataKind kind, ulong keyCount, bool isVector, int vectorSize)
    {
        ItemKind = kind;
        KeyCount = keyCount;
        IsVector = isVector;
        VectorSize = vectorSize;
    }

    /// <summary>The primitive kind of the value, or of the items of a vector. For keys, the raw unsigned integer kind.</summary>
    public IdvDataKind ItemKind { get; }

    /// <summary>Whether the value (or vector item) is a key.</summary>
    public bool IsKey => KeyCount > 0;

    /// <summary>The key cardinality (the largest valid raw key value), or 0 when this is not a key type.</summary>
    public ulong KeyCount { get; }

    /// <summary>Whether this is a vector type.</summary>
    public bool IsVector { get; }

    /// <summary>For a vector type, its fixed number of items, or 0 for a vector of variable size; 0 for a scalar type.</summary>
    public int VectorSize { get; }

    /// <summary>The scalar type of a vector's items, or this type when it is not a vector.</summary>
    public IdvColumnType ItemType => IsVector ? new IdvColumnType(ItemKind, KeyCount, false, 0) : this;

    /// <summary>The .NET type of one (scalar) item: for keys <see cref="ulong"/>.</summary>
    public Type ItemClrType => IsKey ? typeof(ulong) : ClrTypeOf(ItemKind);

    /// <summary>The .NET type of a value: <see cref="ItemClrType"/>, or an array of it for vectors.</summary>
    public Type ClrType => IsVector ? ItemClrType.MakeArrayType() : ItemClrType;

#pragma warning disable CA1720 // Named after the .NET types they hold, like IdvDataKind.
    /// <summary>The boolean type.</summary>
    public static IdvColumnType Boolean { get; } = Scalar(IdvDataKind.Boolean);

    /// <summary>The signed 8-bit integer type.</summary>
    public static IdvColumnType SByte { get; } = Scalar(IdvDataKind.SByte);

    /// <summary>The signed 16-bit integer type.</summary>
    public static IdvColumnType Int16 { get; } = Scalar(IdvDataKind.Int16);

    /// <summary>The signed 32-bit integer type.</summary>
    public static IdvColumnType Int32 { get; } = Scalar(IdvDataKind.Int32);

    /// <summary>The signed 64-bit integer type.</summary>
    public static IdvColumnType Int64 { get; } = Scalar(IdvDataKind.Int64);

    /// <summary>The unsigned 8-bit integer type.</summary>
    public static IdvColumnType Byte { get; } = Scalar(IdvDataKind.Byte);

    /// <summary>The unsigned 16-bit integer type.</summary>
    public static IdvColumnType UInt16 { get; } = Scalar(IdvDataKind.UInt16);

    /// <summary>The unsigned 32-bit integer type.</summary>
    public static IdvColumnType UInt32 { get; } = Scalar(IdvDataKind.UInt32);

    /// <summary>The unsigned 64-bit integer type.</summary>
    public static IdvColumnType UInt64 { get; } = Scalar(IdvDataKind.UInt64);

    /// <summary>The 32-bit float type.</summary>
    public static IdvColumnType Single { get; } = Scalar(IdvDataKind.Single);

    /// <summary>The 64-bit float type.</summary>
    public static IdvColumnType Double { get; } = Scalar(IdvDataKind.Double);

    /// <summary>The text type.</summary>
    public static IdvColumnType Text { get; } = Scalar(IdvDataKind.Text);

    /// <summary>The time span type.</summary>
    public static IdvColumnType TimeSpan { get; } = Scalar(IdvDataKind.TimeSpan);

    /// <summary>The date-time type.</summary>
    public static IdvColumnType DateTime { get; } = Scalar(IdvDataKind.DateTime);

    /// <summary>The date-time-with-offset type.</summary>
    public static IdvColumnType DateTimeOffset { get; } = Scalar(IdvDataKind.DateTimeOffset);
#pragma warning restore CA1720

    /// <summary>The scalar type of the given kind.</summary>
    /// <param name="kind">The primitive kind.</param>
    /// <returns>The type.</returns>
    public static IdvColumnType Scalar(IdvDataKind kind)
    {
        if (!Enum.IsDefined(kind))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown kind.");
        }

        return new IdvColumnType(kind, 0, false, 0);
    }

    /// <summary>A key type stored as <paramref name="rawKind"/> with cardinality <paramref name="count"/>.</summary>
    /// <param name="rawKind">One of <see cref="IdvDataKind.Byte"/>, <see cref="IdvDataKind.UInt16"/>, <see cref="IdvDataKind.UInt32"/>, <see cref="IdvDataKind.UInt64"/>.</param>
    /// <param name="count">The cardinality: at least 1, at most the maximum value of <paramref name="rawKind"/>.</param>
    /// <returns>The type.</returns>
    public static IdvColumnType Key(IdvDataKind rawKind, ulong count)
    {
        ulong max = MaxKeyValue(rawKind);
        if (max == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(rawKind), rawKind, "A key's raw kind must be Byte, UInt16, UInt32 or UInt64.");
        }

        if (count == 0 || count > max)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"A {rawKind} key's count must be between 1 and {max}.");
        }

        return new IdvColumnType(rawKind, count, false, 0);
    }

    /// <summary>A vector of <paramref name="itemType"/> items.</summary>
    /// <param name="itemType">The scalar item type.</param>
    /// <param name="size">The fixed number of items, or 0 for a vector of variable size.</param>
    /// <returns>The type.</returns>
    public static IdvColumnType Vector(IdvColumnType itemType, int size = 0)
    {
        ArgumentNullException.ThrowIfNull(itemType);
        if (itemType.IsVector)
        {
            throw new ArgumentException("Vectors of vectors are not a type.", nameof(itemType));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(size);
        return new IdvColumnType(itemType.ItemKind, itemType.KeyCount, true, size);
    }

    /// <inheritdoc />
    public bool Equals(IdvColumnType? other) =>
        other is not null && ItemKind == other.ItemKind && KeyCount == other.KeyCount && IsVector == other.IsVector && VectorSize == other.VectorSize;

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as IdvColumnType);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(ItemKind, KeyCount, IsVector, VectorSize);

    /// <summary>ML.NET's short name of the item kind with the key count if any (<c>R4</c>, <c>TX</c>, <c>U4[3]</c>), then
    /// for vectors the size in braces (<c>R4{3}</c>, <c>R4{*}</c>).</summary>
    /// <returns>The text.</returns>
    public override string ToString()
    {
        string item = ShortName(ItemKind);
        if (IsKey)
        {
            item += "[" + KeyCount.ToString(CultureInfo.InvariantCulture) + "]";
        }

        if (!IsVector)
        {
            return item;
        }

        return item + "{" + (VectorSize == 0 ? "*" : VectorSize.ToString(CultureInfo.InvariantCulture)) + "}";
    }

    /// <summary>ML.NET's short name of a kind (<c>BL</c>, <c>I1</c>, ..., <c>R8</c>, <c>TX</c>, <c>TS</c>, <c>DT</c>, <c>DZ</c>).</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>The short name.</returns>
    public static string ShortName(IdvDataKind kind) => kind switch
    {
        IdvDataKind.Boolean => "BL",
        IdvDataKind.SByte => "I1",
        IdvDataKind.Int16 => "I2",
        IdvDataKind.Int32 => "I4",
        IdvDataKind.Int64 => "I8",
        IdvDataKind.Byte => "U1",
        IdvDataKind.UInt16 => "U2",
        IdvDataKind.UInt32 => "U4",
        IdvDataKind.UInt64 => "U8",
        IdvDataKind.Single => "R4",
        IdvDataKind.Double => "R8",
        IdvDataKind.Text => "TX",
        IdvDataKind.TimeSpan => "TS",
        IdvDataKind.DateTime => "DT",
        IdvDataKind.DateTimeOffset => "DZ",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown kind."),
    };

    internal static ulong MaxKeyValue(IdvDataKind rawKind) => rawKind switch
    {
        IdvDataKind.Byte => byte.MaxValue,
        IdvDataKind.UInt16 => ushort.MaxValue,
        IdvDataKind.UInt32 => uint.MaxValue,
        IdvDataKind.UInt64 => ulong.MaxValue,
        _ => 0,
    };

    internal static Type ClrTypeOf(IdvDataKind kind) => kind switch
    {
        IdvDataKind.Boolean => typeof(bool),
        IdvDataKind.SByte => typeof(sbyte),
        IdvDataKind.Int16 => typeof(short),
        IdvDataKind.Int32 => typeof(int),
        IdvDataKind.Int64 => typeof(long),
        IdvDataKind.Byte => typeof(byte),
        IdvDataKind.UInt16 => typeof(ushort),
        IdvDataKind.UInt32 => typeof(uint),
        IdvDataKind.UInt64 => typeof(ulong),
        IdvDataKind.Single => typeof(float),
        IdvDataKind.Double => typeof(double),
        IdvDataKind.Text => typeof(string),
        IdvDataKind.TimeSpan => typeof(System.TimeSpan),
        IdvDataKind.DateTime => typeof(System.DateTime),
        IdvDataKind.DateTimeOffset => typeof(System.DateTimeOffset),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown kind."),
    };
}
