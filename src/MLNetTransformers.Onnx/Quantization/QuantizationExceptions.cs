namespace MLNetTransformers.Onnx.Quantization;

/// <summary>A model or its data cannot be quantized as asked. The message names the node or tensor at fault.</summary>
public class QuantizationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public QuantizationException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public QuantizationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public QuantizationException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A node (or the model's opset) does not support the chosen quantization mode: e.g. a node named in the include list that
/// is not a MatMul/Gemm with a constant 2-D float weight, an opset too old for QuantizeLinear, or a subgraph in fp16 mode.
/// </summary>
public sealed class UnsupportedModelException : QuantizationException
{
    /// <summary>Creates the exception.</summary>
    public UnsupportedModelException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public UnsupportedModelException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public UnsupportedModelException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for one node.</summary>
    /// <param name="nodeName">The node's name (or its first output when it has none).</param>
    /// <param name="opType">The node's operator, domain-qualified outside the default domain.</param>
    /// <param name="message">What is not supported.</param>
    public UnsupportedModelException(string nodeName, string opType, string message)
        : base(message)
    {
        NodeName = nodeName;
        OpType = opType;
    }

    /// <summary>The node at fault, when one is.</summary>
    public string? NodeName { get; }

    /// <summary>The node's operator, when a node is at fault.</summary>
    public string? OpType { get; }
}

/// <summary>Calibration data is missing, empty, or does not fit the model (static int8 quantization).</summary>
public sealed class CalibrationException : QuantizationException
{
    /// <summary>Creates the exception.</summary>
    public CalibrationException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public CalibrationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public CalibrationException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
