namespace MLNetTransformers.Data;

/// <summary>Creation of column arrays and the kinds behind a column type.</summary>
internal static class ColumnArrays
{
    /// <summary>An array of <paramref name="length"/> default values: null text, zero numbers, false, empty vectors.</summary>
    public static Array Create(DataViewType type, int length)
    {
        switch (type)
        {
            case PrimitiveDataViewType p:
                return CreatePrimitive(p.Kind, length);
            case VectorDataViewType v:
                Array a = Array.CreateInstance(v.RawType, length);
                Array empty = CreatePrimitive(v.ItemType.Kind, 0);
                for (int i = 0; i < length; i++)
                {
                    a.SetValue(empty, i);
                }

                return a;
            default:
                throw new NotSupportedException($"Column type {type} is not supported.");
        }
    }

    public static Array CreatePrimitive(ValueKind kind, int length) => kind switch
    {
        ValueKind.Text => new string?[length],
        ValueKind.Single => new float[length],
        ValueKind.Double => new double[length],
        ValueKind.Int32 => new int[length],
        ValueKind.Int64 => new long[length],
        ValueKind.Boolean => new bool[length],
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>The item kind of a column type (the type's own kind for primitives) and whether it is a vector.</summary>
    public static (ValueKind Kind, bool IsVector) KindOf(DataViewType type) => type switch
    {
        PrimitiveDataViewType p => (p.Kind, false),
        VectorDataViewType v => (v.ItemType.Kind, true),
        _ => throw new NotSupportedException($"Column type {type} is not supported."),
    };

    /// <summary>The primitive type of a kind.</summary>
    public static PrimitiveDataViewType TypeOf(ValueKind kind) => kind switch
    {
        ValueKind.Text => TextDataViewType.Instance,
        ValueKind.Single => NumberDataViewType.Single,
        ValueKind.Double => NumberDataViewType.Double,
        ValueKind.Int32 => NumberDataViewType.Int32,
        ValueKind.Int64 => NumberDataViewType.Int64,
        ValueKind.Boolean => BooleanDataViewType.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>The column type of a .NET member type (<see cref="string"/>, numbers, <see cref="bool"/>, arrays of them), or null.</summary>
    public static DataViewType? TypeOfClr(Type clr)
    {
        if (clr.IsArray && clr.GetArrayRank() == 1)
        {
            return TypeOfClr(clr.GetElementType()!) is PrimitiveDataViewType item ? new VectorDataViewType(item) : null;
        }

        if (clr == typeof(string))
        {
            return TextDataViewType.Instance;
        }

        if (clr == typeof(float))
        {
            return NumberDataViewType.Single;
        }

        if (clr == typeof(double))
        {
            return NumberDataViewType.Double;
        }

        if (clr == typeof(int))
        {
            return NumberDataViewType.Int32;
        }

        if (clr == typeof(long))
        {
            return NumberDataViewType.Int64;
        }

        if (clr == typeof(bool))
        {
            return BooleanDataViewType.Instance;
        }

        return null;
    }
}
