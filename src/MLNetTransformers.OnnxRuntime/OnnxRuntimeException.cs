namespace MLNetTransformers.OnnxRuntime;

/// <summary>
/// An error reported by ONNX Runtime, carrying its error code, its message and the binding operation that received it.
/// </summary>
public class OnnxRuntimeException : Exception
{
    /// <summary>Creates an exception for an ONNX Runtime status.</summary>
    /// <param name="errorCode">ONNX Runtime's error code.</param>
    /// <param name="operation">The C API function (or binding operation) that failed, e.g. <c>CreateSession</c>.</param>
    /// <param name="nativeMessage">ONNX Runtime's own message text.</param>
    /// <param name="innerException">An optional inner exception.</param>
    public OnnxRuntimeException(OrtErrorCode errorCode, string operation, string nativeMessage, Exception? innerException = null)
        : base($"[{errorCode}] {operation}: {nativeMessage}", innerException)
    {
        ErrorCode = errorCode;
        Operation = operation;
        NativeMessage = nativeMessage;
    }

    /// <summary>ONNX Runtime's error code.</summary>
    public OrtErrorCode ErrorCode { get; }

    /// <summary>The C API function (or binding operation) that failed.</summary>
    public string Operation { get; }

    /// <summary>ONNX Runtime's message, unchanged.</summary>
    public string NativeMessage { get; }
}

/// <summary>The native ONNX Runtime library could not be found, loaded, or is not a version this binding can use.</summary>
public sealed class OnnxRuntimeLibraryException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong and how to fix it.</param>
    /// <param name="attempts">Every place tried, each with the reason it failed.</param>
    public OnnxRuntimeLibraryException(string message, IReadOnlyList<string> attempts)
        : base(message)
    {
        Attempts = attempts;
    }

    /// <summary>Every place that was tried, in order, each with the reason it failed.</summary>
    public IReadOnlyList<string> Attempts { get; }
}
