using System.Runtime.InteropServices;

namespace MLNetTransformers.OnnxRuntime.Native;

/// <summary>Base of every handle to a native ONNX Runtime object: owns the pointer and releases it exactly once.</summary>
internal abstract class OrtHandle : SafeHandle
{
    protected OrtHandle()
        : base(0, ownsHandle: true)
    {
    }

    protected OrtHandle(nint pointer)
        : base(0, ownsHandle: true)
    {
        SetHandle(pointer);
    }

    public override bool IsInvalid => handle == 0;

    /// <summary>The raw pointer, for native calls made while the owner keeps this handle alive.</summary>
    public nint Pointer => handle;
}

internal sealed class EnvHandle(nint pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle()
    {
        NativeMethods.ReleaseEnv(handle);
        return true;
    }
}

internal sealed class SessionOptionsHandle(nint pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle()
    {
        NativeMethods.ReleaseSessionOptions(handle);
        return true;
    }
}

internal sealed class SessionHandle(nint pointer) : OrtHandle(pointer)
{
    private readonly List<IDisposable> _dependents = [];

    /// <summary>Frees <paramref name="dependent"/> (native memory in-flight runs read, such as input names) after the session.</summary>
    public void Attach(IDisposable dependent) => _dependents.Add(dependent);

    protected override bool ReleaseHandle()
    {
        NativeMethods.ReleaseSession(handle);
        foreach (IDisposable dependent in _dependents)
        {
            dependent.Dispose();
        }

        return true;
    }
}

internal sealed class ValueHandle(nint pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle()
    {
        NativeMethods.ReleaseValue(handle);
        return true;
    }
}

internal sealed class RunOptionsHandle(nint pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle()
    {
        NativeMethods.ReleaseRunOptions(handle);
        return true;
    }
}

internal sealed class MemoryInfoHandle(nint pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle()
    {
        NativeMethods.ReleaseMemoryInfo(handle);
        return true;
    }
}

internal sealed class IoBindingHandle(nint pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle()
    {
        NativeMethods.ReleaseIoBinding(handle);
        return true;
    }
}

internal sealed class TypeInfoHandle(nint pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle()
    {
        NativeMethods.ReleaseTypeInfo(handle);
        return true;
    }
}

internal sealed class TensorTypeAndShapeInfoHandle(nint pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle()
    {
        NativeMethods.ReleaseTensorTypeAndShapeInfo(handle);
        return true;
    }
}

internal sealed class ModelMetadataHandle(nint pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle()
    {
        NativeMethods.ReleaseModelMetadata(handle);
        return true;
    }
}

internal sealed class CudaProviderOptionsHandle(nint pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle()
    {
        NativeMethods.ReleaseCUDAProviderOptions(handle);
        return true;
    }
}

internal sealed class TensorRtProviderOptionsHandle(nint pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle()
    {
        NativeMethods.ReleaseTensorRTProviderOptions(handle);
        return true;
    }
}

/// <summary>Memory that ONNX Runtime allocated with its default CPU allocator (names, strings) and that we must free with it.</summary>
internal sealed class AllocatorMemoryHandle(nint pointer) : OrtHandle(pointer)
{
    /// <summary>Reads the memory as a NUL-terminated UTF-8 string and frees it.</summary>
    public static string TakeString(nint pointer)
    {
        using var memory = new AllocatorMemoryHandle(pointer);
        return Marshal.PtrToStringUTF8(pointer) ?? string.Empty;
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.AllocatorFree(NativeMethods.GetAllocatorWithDefaultOptions(), handle);
        return true;
    }
}
