namespace MLNetTransformers.OnnxRuntime;

/// <summary>Kind of an ONNX value (<c>ONNXType</c>).</summary>
public enum OnnxValueType
{
    /// <summary>Unknown.</summary>
    Unknown = 0,
    /// <summary>A dense tensor.</summary>
    Tensor = 1,
    /// <summary>A sequence.</summary>
    Sequence = 2,
    /// <summary>A map.</summary>
    Map = 3,
    /// <summary>An opaque value.</summary>
    Opaque = 4,
    /// <summary>A sparse tensor.</summary>
    SparseTensor = 5,
    /// <summary>An optional value.</summary>
    Optional = 6,
}

/// <summary>Element type and concrete shape of a tensor value.</summary>
/// <param name="ElementType">The element type.</param>
/// <param name="Shape">The dimensions.</param>
/// <param name="ElementCount">The number of elements (product of the dimensions).</param>
public sealed record TensorInfo(TensorElementType ElementType, IReadOnlyList<long> Shape, long ElementCount)
{
    /// <inheritdoc/>
    public override string ToString() => $"{ElementType.GetName()}[{string.Join(", ", Shape)}]";
}
