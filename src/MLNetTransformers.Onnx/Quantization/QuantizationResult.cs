using MLNetTransformers.Onnx.Model;

namespace MLNetTransformers.Onnx.Quantization;

/// <summary>A node the quantizer rewrote.</summary>
/// <param name="NodeName">The original node's name.</param>
/// <param name="OpType">The original operator.</param>
/// <param name="Replacement">What it became (e.g. <c>com.microsoft.DynamicQuantizeMatMul</c>, <c>MatMul+QDQ</c>, <c>float16</c>).</param>
/// <param name="Weight">The weight initializer quantized, if any.</param>
public sealed record QuantizedNode(string NodeName, string OpType, string Replacement, string? Weight);

/// <summary>A node of the quantized operator types that was left as it was, and why.</summary>
/// <param name="NodeName">The node's name.</param>
/// <param name="OpType">The operator.</param>
/// <param name="Reason">Why it was not quantized.</param>
public sealed record SkippedNode(string NodeName, string OpType, string Reason);

/// <summary>The quantized model (a new model; the source is not modified) and what was done to it.</summary>
public sealed class QuantizationResult : IDisposable
{
    internal QuantizationResult(OnnxModel model, QuantizationMode mode, IReadOnlyList<QuantizedNode> quantized, IReadOnlyList<SkippedNode> skipped)
    {
        Model = model;
        Mode = mode;
        Quantized = quantized;
        Skipped = skipped;
    }

    /// <summary>The quantized model, with all its data in memory; <see cref="OnnxModel.Save"/> writes it.</summary>
    public OnnxModel Model { get; }

    /// <summary>The mode used.</summary>
    public QuantizationMode Mode { get; }

    /// <summary>The nodes rewritten.</summary>
    public IReadOnlyList<QuantizedNode> Quantized { get; }

    /// <summary>The candidate nodes left as they were, with the reason.</summary>
    public IReadOnlyList<SkippedNode> Skipped { get; }

    /// <summary>Saves the quantized model (see <see cref="OnnxModel.Save"/>).</summary>
    /// <param name="path">The .onnx file to write.</param>
    /// <param name="options">External data settings.</param>
    public void Save(string path, OnnxSaveOptions? options = null) => Model.Save(path, options);

    /// <summary>Releases the model.</summary>
    public void Dispose() => Model.Dispose();
}
