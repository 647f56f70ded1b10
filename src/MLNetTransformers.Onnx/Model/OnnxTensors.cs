using System.Runtime.InteropServices;
using Google.Protobuf;
using MLNetTransformers.Onnx.Protos;

namespace MLNetTransformers.Onnx.Model;

/// <summary>Creating and reading <see cref="TensorProto"/>s.</summary>
public static class OnnxTensors
{
    /// <summary>A float32 tensor (raw data).</summary>
    /// <param name="name">The name.</param>
    /// <param name="data">The values, row-major.</param>
    /// <param name="dims">The shape.</param>
    /// <returns>The tensor.</returns>
    public static TensorProto Create(string name, ReadOnlySpan<float> data, params long[] dims) => Create(name, TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(data), dims);

    /// <summary>An int64 tensor (raw data).</summary>
    /// <param name="name">The name.</param>
    /// <param name="data">The values.</param>
    /// <param name="dims">The shape.</param>
    /// <returns>The tensor.</returns>
    public static TensorProto Create(string name, ReadOnlySpan<long> data, params long[] dims) => Create(name, TensorProto.Types.DataType.Int64, MemoryMarshal.AsBytes(data), dims);

    /// <summary>A tensor of any fixed-size type from its raw little-endian bytes.</summary>
    /// <param name="name">The name.</param>
    /// <param name="dataType">The element type.</param>
    /// <param name="raw">The bytes.</param>
    /// <param name="dims">The shape.</param>
    /// <returns>The tensor.</returns>
    public static TensorProto Create(string name, TensorProto.Types.DataType dataType, ReadOnlySpan<byte> raw, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)dataType, RawData = ByteString.CopyFrom(raw) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    /// <summary>The raw little-endian bytes of an inline tensor (from raw_data or the typed repeated fields).</summary>
    /// <param name="tensor">The tensor.</param>
    /// <returns>The bytes.</returns>
    public static byte[] RawBytes(TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.HasRawData)
        {
            return tensor.RawData.ToByteArray();
        }

        switch ((TensorProto.Types.DataType)tensor.DataType)
        {
            case TensorProto.Types.DataType.Float:
                return MemoryMarshal.AsBytes(tensor.FloatData.ToArray().AsSpan()).ToArray();
            case TensorProto.Types.DataType.Double:
                return MemoryMarshal.AsBytes(tensor.DoubleData.ToArray().AsSpan()).ToArray();
            case TensorProto.Types.DataType.Int64:
                return MemoryMarshal.AsBytes(tensor.Int64Data.ToArray().AsSpan()).ToArray();
            case TensorProto.Types.DataType.Uint64 or TensorProto.Types.DataType.Uint32:
                return tensor.DataType == (int)TensorProto.Types.DataType.Uint64
                    ? MemoryMarshal.AsBytes(tensor.Uint64Data.ToArray().AsSpan()).ToArray()
                    : MemoryMarshal.AsBytes(tensor.Uint64Data.Select(v => (uint)v).ToArray().AsSpan()).ToArray();
            case TensorProto.Types.DataType.Int32:
                return MemoryMarshal.AsBytes(tensor.Int32Data.ToArray().AsSpan()).ToArray();
            case TensorProto.Types.DataType.Int16:
                return MemoryMarshal.AsBytes(tensor.Int32Data.Select(v => (short)v).ToArray().AsSpan()).ToArray();
            case TensorProto.Types.DataType.Uint16 or TensorProto.Types.DataType.Float16 or TensorProto.Types.DataType.Bfloat16:
                return MemoryMarshal.AsBytes(tensor.Int32Data.Select(v => (ushort)v).ToArray().AsSpan()).ToArray();
            case TensorProto.Types.DataType.Int8 or TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Bool
                or TensorProto.Types.DataType.Int4 or TensorProto.Types.DataType.Uint4:
                return tensor.Int32Data.Select(v => (byte)v).ToArray();
            default:
                if (tensor.DataType == (int)TensorProto.Types.DataType.String)
                {
                    throw new NotSupportedException($"Tensor '{tensor.Name}' holds strings, which have no raw layout.");
                }

                return [];
        }
    }

    /// <summary>Removes every data field (raw, typed, external) of a tensor.</summary>
    /// <param name="tensor">The tensor.</param>
    public static void ClearData(TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        tensor.ClearRawData();
        tensor.FloatData.Clear();
        tensor.DoubleData.Clear();
        tensor.Int32Data.Clear();
        tensor.Int64Data.Clear();
        tensor.Uint64Data.Clear();
        tensor.ExternalData.Clear();
        tensor.ClearDataLocation();
    }
}
