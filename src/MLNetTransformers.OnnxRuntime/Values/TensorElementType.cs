namespace MLNetTransformers.OnnxRuntime;

#pragma warning disable CA1720 // The names are ONNX's element types.
/// <summary>Element type of a tensor (<c>ONNXTensorElementDataType</c>; the values are ONNX's <c>TensorProto.DataType</c>).</summary>
public enum TensorElementType
{
    /// <summary>Unknown or not a tensor.</summary>
    Undefined = 0,
    /// <summary>32-bit IEEE float (<see cref="float"/>).</summary>
    Float32 = 1,
    /// <summary>Unsigned 8-bit integer (<see cref="byte"/>).</summary>
    UInt8 = 2,
    /// <summary>Signed 8-bit integer (<see cref="sbyte"/>).</summary>
    Int8 = 3,
    /// <summary>Unsigned 16-bit integer (<see cref="ushort"/>).</summary>
    UInt16 = 4,
    /// <summary>Signed 16-bit integer (<see cref="short"/>).</summary>
    Int16 = 5,
    /// <summary>Signed 32-bit integer (<see cref="int"/>).</summary>
    Int32 = 6,
    /// <summary>Signed 64-bit integer (<see cref="long"/>).</summary>
    Int64 = 7,
    /// <summary>UTF-8 string (<see cref="string"/> on the managed side).</summary>
    String = 8,
    /// <summary>Boolean stored as one byte (<see cref="bool"/>).</summary>
    Bool = 9,
    /// <summary>16-bit IEEE float (<see cref="Half"/>).</summary>
    Float16 = 10,
    /// <summary>64-bit IEEE float (<see cref="double"/>).</summary>
    Float64 = 11,
    /// <summary>Unsigned 32-bit integer (<see cref="uint"/>).</summary>
    UInt32 = 12,
    /// <summary>Unsigned 64-bit integer (<see cref="ulong"/>).</summary>
    UInt64 = 13,
    /// <summary>Complex of two float32 (not supported as a managed element type).</summary>
    Complex64 = 14,
    /// <summary>Complex of two float64 (not supported as a managed element type).</summary>
    Complex128 = 15,
    /// <summary>Brain float 16 (<see cref="BFloat16"/>).</summary>
    BFloat16 = 16,
}
#pragma warning restore CA1720

/// <summary>Helpers for <see cref="TensorElementType"/>.</summary>
public static class TensorElementTypeExtensions
{
    /// <summary>The size of one element in bytes; 0 for strings and unsupported types.</summary>
    /// <param name="type">The element type.</param>
    /// <returns>The size in bytes.</returns>
    public static int SizeInBytes(this TensorElementType type) => type switch
    {
        TensorElementType.Float32 or TensorElementType.Int32 or TensorElementType.UInt32 => 4,
        TensorElementType.UInt8 or TensorElementType.Int8 or TensorElementType.Bool => 1,
        TensorElementType.UInt16 or TensorElementType.Int16 or TensorElementType.Float16 or TensorElementType.BFloat16 => 2,
        TensorElementType.Int64 or TensorElementType.UInt64 or TensorElementType.Float64 or TensorElementType.Complex64 => 8,
        TensorElementType.Complex128 => 16,
        _ => 0,
    };

    /// <summary>The short lowercase name used in shapes and messages (<c>float32</c>, <c>int64</c>, <c>bool</c>, ...).</summary>
    /// <param name="type">The element type.</param>
    /// <returns>The name.</returns>
    public static string GetName(this TensorElementType type) => type switch
    {
        TensorElementType.Float32 => "float32",
        TensorElementType.UInt8 => "uint8",
        TensorElementType.Int8 => "int8",
        TensorElementType.UInt16 => "uint16",
        TensorElementType.Int16 => "int16",
        TensorElementType.Int32 => "int32",
        TensorElementType.Int64 => "int64",
        TensorElementType.String => "string",
        TensorElementType.Bool => "bool",
        TensorElementType.Float16 => "float16",
        TensorElementType.Float64 => "float64",
        TensorElementType.UInt32 => "uint32",
        TensorElementType.UInt64 => "uint64",
        TensorElementType.Complex64 => "complex64",
        TensorElementType.Complex128 => "complex128",
        TensorElementType.BFloat16 => "bfloat16",
        TensorElementType.Undefined => "undefined",
        _ => $"type{(int)type}",
    };

    /// <summary>The element type of a managed element type, or <see cref="TensorElementType.Undefined"/> if it has none.</summary>
    /// <typeparam name="T">The managed element type.</typeparam>
    /// <returns>The tensor element type.</returns>
    public static TensorElementType Of<T>() => ElementTypeOf<T>.Value;

    private static class ElementTypeOf<T>
    {
        public static readonly TensorElementType Value =
            typeof(T) == typeof(float) ? TensorElementType.Float32
            : typeof(T) == typeof(double) ? TensorElementType.Float64
            : typeof(T) == typeof(Half) ? TensorElementType.Float16
            : typeof(T) == typeof(BFloat16) ? TensorElementType.BFloat16
            : typeof(T) == typeof(sbyte) ? TensorElementType.Int8
            : typeof(T) == typeof(byte) ? TensorElementType.UInt8
            : typeof(T) == typeof(short) ? TensorElementType.Int16
            : typeof(T) == typeof(ushort) ? TensorElementType.UInt16
            : typeof(T) == typeof(int) ? TensorElementType.Int32
            : typeof(T) == typeof(uint) ? TensorElementType.UInt32
            : typeof(T) == typeof(long) ? TensorElementType.Int64
            : typeof(T) == typeof(ulong) ? TensorElementType.UInt64
            : typeof(T) == typeof(bool) ? TensorElementType.Bool
            : typeof(T) == typeof(string) ? TensorElementType.String
            : TensorElementType.Undefined;
    }
}
