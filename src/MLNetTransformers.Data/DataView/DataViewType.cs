using System.Globalization;

namespace MLNetTransformers.Data;

/// <summary>The kind of a primitive value; the internal switch every reader, writer and converter keys on.</summary>
internal enum ValueKind
{
    Text,
    Single,
    Double,
    Int32,
    Int64,
    Boolean,
}

/// <summary>
/// The type of a data view column, as ML.NET's <c>DataViewType</c>: a primitive (<see cref="TextDataViewType"/>,
/// <see cref="NumberDataViewType"/>, <see cref="BooleanDataViewType"/>) or a <see cref="VectorDataViewType"/> of primitives.
/// </summary>
public abstract class DataViewType : IEquatable<DataViewType>
{
    private protected DataViewType(Type rawType) => RawType = rawType;

    /// <summary>The .NET type of one value of the column (<see cref="string"/>, <see cref="float"/>, <c>long[]</c>, ...).</summary>
    public Type RawType { get; }

    /// <inheritdoc />
    public virtual bool Equals(DataViewType? other) => ReferenceEquals(this, other);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as DataViewType);

    /// <inheritdoc />
    public override int GetHashCode() => RawType.GetHashCode();
}

/// <summary>A primitive (non-vector) column type.</summary>
public abstract class PrimitiveDataViewType : DataViewType
{
    private protected PrimitiveDataViewType(Type rawType, ValueKind kind, string name)
        : base(rawType)
    {
        Kind = kind;
        Name = name;
    }

    internal ValueKind Kind { get; }

    /// <summary>The type's name (<c>Text</c>, <c>Single</c>, ...).</summary>
    public string Name { get; }

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>Text: <see cref="string"/> values, <see langword="null"/> for missing.</summary>
public sealed class TextDataViewType : PrimitiveDataViewType
{
    private TextDataViewType()
        : base(typeof(string), ValueKind.Text, "Text")
    {
    }

    /// <summary>The text type.</summary>
    public static TextDataViewType Instance { get; } = new();
}

/// <summary>Booleans: <see cref="bool"/> values.</summary>
public sealed class BooleanDataViewType : PrimitiveDataViewType
{
    private BooleanDataViewType()
        : base(typeof(bool), ValueKind.Boolean, "Boolean")
    {
    }

    /// <summary>The boolean type.</summary>
    public static BooleanDataViewType Instance { get; } = new();
}

/// <summary>Numbers: <see cref="float"/>, <see cref="double"/>, <see cref="int"/> or <see cref="long"/> values.</summary>
public sealed class NumberDataViewType : PrimitiveDataViewType
{
    private NumberDataViewType(Type rawType, ValueKind kind)
        : base(rawType, kind, rawType.Name)
    {
    }

#pragma warning disable CA1720 // Named after the .NET types they hold, as ML.NET's NumberDataViewType members are.
    /// <summary>32-bit floats (ML.NET's R4).</summary>
    public static NumberDataViewType Single { get; } = new(typeof(float), ValueKind.Single);

    /// <summary>64-bit floats (ML.NET's R8).</summary>
    public static NumberDataViewType Double { get; } = new(typeof(double), ValueKind.Double);

    /// <summary>32-bit signed integers (ML.NET's I4).</summary>
    public static NumberDataViewType Int32 { get; } = new(typeof(int), ValueKind.Int32);

    /// <summary>64-bit signed integers (ML.NET's I8), the type of token ids.</summary>
    public static NumberDataViewType Int64 { get; } = new(typeof(long), ValueKind.Int64);
#pragma warning restore CA1720
}

/// <summary>
/// A vector of primitive items with a known size, or a variable size (0) such as token-id sequences. Values are arrays of the
/// item type (<c>float[]</c>, <c>long[]</c>, <c>string?[]</c>, ...), never <see langword="null"/> in a batch (missing is empty).
/// </summary>
public sealed class VectorDataViewType : DataViewType
{
    /// <summary>Creates a vector type.</summary>
    /// <param name="itemType">The item type.</param>
    /// <param name="size">The number of items, or 0 for a variable length.</param>
    public VectorDataViewType(PrimitiveDataViewType itemType, int size = 0)
        : base((itemType ?? throw new ArgumentNullException(nameof(itemType))).RawType.MakeArrayType())
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ItemType = itemType;
        Size = size;
    }

    /// <summary>The item type.</summary>
    public PrimitiveDataViewType ItemType { get; }

    /// <summary>The fixed number of items, or 0 when the length varies from row to row.</summary>
    public int Size { get; }

    /// <summary>Whether every value has <see cref="Size"/> items.</summary>
    public bool IsKnownSize => Size > 0;

    /// <inheritdoc />
    public override bool Equals(DataViewType? other) =>
        other is VectorDataViewType v && v.ItemType.Equals(ItemType) && v.Size == Size;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(ItemType, Size);

    /// <inheritdoc />
    public override string ToString() =>
        IsKnownSize ? $"Vector<{ItemType}, {Size.ToString(CultureInfo.InvariantCulture)}>" : $"Vector<{ItemType}>";
}
