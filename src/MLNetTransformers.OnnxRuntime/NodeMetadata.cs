using MLNetTransformers.OnnxRuntime.Native;

namespace MLNetTransformers.OnnxRuntime;

/// <summary>
/// An input or output of a model: name, kind, element type and shape, where each dimension is a fixed size or a symbolic name
/// (such as <c>batch</c> or <c>sequence</c>). Immutable.
/// </summary>
public sealed class NodeMetadata
{
    internal NodeMetadata(string name, OnnxValueType valueType, TensorElementType elementType, long[] dimensions, string[] symbolicDimensions)
    {
        Name = name;
        ValueType = valueType;
        ElementType = elementType;
        Dimensions = dimensions;
        SymbolicDimensions = symbolicDimensions;
    }

    /// <summary>The name.</summary>
    public string Name { get; }

    /// <summary>The kind of value (tensor, sequence, map, ...).</summary>
    public OnnxValueType ValueType { get; }

    /// <summary>The element type for tensors; <see cref="TensorElementType.Undefined"/> otherwise.</summary>
    public TensorElementType ElementType { get; }

    /// <summary>Each dimension's fixed size, or -1 where it is symbolic or unknown.</summary>
    public IReadOnlyList<long> Dimensions { get; }

    /// <summary>Each dimension's symbolic name, or an empty string where it is fixed or unnamed.</summary>
    public IReadOnlyList<string> SymbolicDimensions { get; }

    /// <summary>The number of dimensions.</summary>
    public int Rank => Dimensions.Count;

    /// <summary>The shape as text, e.g. <c>[batch, sequence, 192]</c> (<c>?</c> for an unnamed unknown dimension).</summary>
    public string ShapeText => "[" + string.Join(", ", Dimensions.Select((d, i) => d >= 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : SymbolicDimensions[i].Length > 0 ? SymbolicDimensions[i] : "?")) + "]";

    /// <inheritdoc/>
    public override string ToString() => ValueType == OnnxValueType.Tensor ? $"{Name}: {ElementType.GetName()}{ShapeText}" : $"{Name}: {ValueType}";

    internal static unsafe NodeMetadata Read(string name, nint typeInfoPointer)
    {
        using var typeInfo = new TypeInfoHandle(typeInfoPointer);
        var valueType = (OnnxValueType)NativeMethods.GetOnnxTypeFromTypeInfo(typeInfo.Pointer);
        if (valueType != OnnxValueType.Tensor)
        {
            return new NodeMetadata(name, valueType, TensorElementType.Undefined, [], []);
        }

        // Owned by the type info: not released separately.
        nint tensorInfo = NativeMethods.CastTypeInfoToTensorInfo(typeInfo.Pointer);
        var elementType = (TensorElementType)NativeMethods.GetTensorElementType(tensorInfo);
        int rank = (int)NativeMethods.GetDimensionsCount(tensorInfo);
        long[] dims = new long[rank];
        byte*[] symbols = new byte*[rank];
        string[] symbolic = new string[rank];
        fixed (long* d = dims)
        fixed (byte** s = symbols)
        {
            NativeMethods.GetDimensions(tensorInfo, d, (nuint)rank);
            NativeMethods.GetSymbolicDimensions(tensorInfo, s, (nuint)rank);
        }

        for (int i = 0; i < rank; i++)
        {
            symbolic[i] = symbols[i] == null ? string.Empty : Utf8.FromNative(symbols[i]);
        }

        return new NodeMetadata(name, valueType, elementType, dims, symbolic);
    }
}

/// <summary>The model's own metadata (producer, graph name, custom key/value pairs). Immutable.</summary>
/// <param name="ProducerName">The tool that produced the model.</param>
/// <param name="GraphName">The graph's name.</param>
/// <param name="Domain">The model's domain.</param>
/// <param name="Description">The model's description.</param>
/// <param name="Version">The model's version.</param>
/// <param name="CustomMetadata">Custom key/value metadata.</param>
public sealed record ModelMetadata(string ProducerName, string GraphName, string Domain, string Description, long Version, IReadOnlyDictionary<string, string> CustomMetadata);
