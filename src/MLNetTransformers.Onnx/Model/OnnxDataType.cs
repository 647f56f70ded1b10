using MLNetTransformers.Onnx.Protos;

namespace MLNetTransformers.Onnx.Model;

/// <summary>Facts about ONNX tensor data types (<c>TensorProto.DataType</c>).</summary>
public static class OnnxDataType
{
    /// <summary>Size of one element in bits (4 for the int4 types, 0 for strings and unknown types).</summary>
    /// <param name="dataType">The data type.</param>
    /// <returns>The size in bits.</returns>
    public static int BitsPerElement(int dataType) => (TensorProto.Types.DataType)dataType switch
    {
        TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Int32 or TensorProto.Types.DataType.Uint32 => 32,
        TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Int8 or TensorProto.Types.DataType.Bool
            or TensorProto.Types.DataType.Float8E4M3Fn or TensorProto.Types.DataType.Float8E4M3Fnuz
            or TensorProto.Types.DataType.Float8E5M2 or TensorProto.Types.DataType.Float8E5M2Fnuz => 8,
        TensorProto.Types.DataType.Uint16 or TensorProto.Types.DataType.Int16 or TensorProto.Types.DataType.Float16
            or TensorProto.Types.DataType.Bfloat16 => 16,
        TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Uint64 or TensorProto.Types.DataType.Double
            or TensorProto.Types.DataType.Complex64 => 64,
        TensorProto.Types.DataType.Complex128 => 128,
        TensorProto.Types.DataType.Uint4 or TensorProto.Types.DataType.Int4 or TensorProto.Types.DataType.Float4E2M1 => 4,
        _ => 0,
    };

    /// <summary>The lowercase name used in reports (<c>float32</c>, <c>int8</c>, <c>float16</c>, ...).</summary>
    /// <param name="dataType">The data type.</param>
    /// <returns>The name.</returns>
    public static string Name(int dataType) => (TensorProto.Types.DataType)dataType switch
    {
        TensorProto.Types.DataType.Float => "float32",
        TensorProto.Types.DataType.Double => "float64",
        TensorProto.Types.DataType.Float16 => "float16",
        TensorProto.Types.DataType.Bfloat16 => "bfloat16",
        TensorProto.Types.DataType.Undefined => "undefined",
        var other => other.ToString().ToLowerInvariant(),
    };

    /// <summary>The number of elements of a shape.</summary>
    /// <param name="dims">The dimensions.</param>
    /// <returns>The product (1 for a scalar).</returns>
    public static long ElementCount(IEnumerable<long> dims) => dims.Aggregate(1L, (a, d) => checked(a * d));
}
