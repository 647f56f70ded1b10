using MLNetTransformers.OnnxRuntime.Native;

namespace MLNetTransformers.OnnxRuntime;

/// <summary>
/// Binds a session's inputs and outputs ahead of a run (<c>OrtIoBinding</c>): inputs stay bound across runs, outputs can be
/// preallocated tensors (written in place, e.g. over the caller's arrays) or left for ONNX Runtime to allocate on a device
/// (<see cref="BindOutput(string, OrtMemoryInfo)"/>), which keeps results where they were computed. Run it with
/// <see cref="InferenceSession.RunWithBinding"/>. Bound values are kept alive by the binding until unbound or disposed; do not
/// dispose them while bound. Not thread-safe: use one binding per thread.
/// </summary>
public sealed unsafe class IoBinding : IDisposable
{
    private readonly Dictionary<string, OrtValue> _boundInputs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OrtValue> _boundOutputs = new(StringComparer.Ordinal);

    internal IoBinding(InferenceSession session, IoBindingHandle handle)
    {
        Session = session;
        Handle = handle;
    }

    internal InferenceSession Session { get; }

    internal IoBindingHandle Handle { get; }

    /// <summary>Binds an input value (replacing any value bound to that name).</summary>
    /// <param name="name">A model input.</param>
    /// <param name="value">The value; kept alive by the binding.</param>
    public void BindInput(string name, OrtValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        int index = Session.GetInputIndex(name);
        NativeMethods.BindInput(Handle.Pointer, (byte*)Session.GetInputNamePointer(index), value.Handle.DangerousGetHandle());
        _boundInputs[name] = value;
    }

    /// <summary>Binds an output to a preallocated value, which the run writes in place.</summary>
    /// <param name="name">A model output.</param>
    /// <param name="value">The value; kept alive by the binding.</param>
    public void BindOutput(string name, OrtValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        int index = Session.GetOutputIndex(name);
        NativeMethods.BindOutput(Handle.Pointer, (byte*)Session.GetOutputNamePointer(index), value.Handle.DangerousGetHandle());
        _boundOutputs[name] = value;
    }

    /// <summary>Binds an output to a device: ONNX Runtime allocates it there at run time (read it with <see cref="GetOutputValues"/>).</summary>
    /// <param name="name">A model output.</param>
    /// <param name="memoryInfo">Where to allocate it, e.g. <see cref="OrtMemoryInfo.Cpu"/> or <see cref="OrtMemoryInfo.Cuda"/>.</param>
    public void BindOutput(string name, OrtMemoryInfo memoryInfo)
    {
        ArgumentNullException.ThrowIfNull(memoryInfo);
        int index = Session.GetOutputIndex(name);
        NativeMethods.BindOutputToDevice(Handle.Pointer, (byte*)Session.GetOutputNamePointer(index), memoryInfo.Handle.Pointer);
        _boundOutputs.Remove(name);
    }

    /// <summary>Unbinds all inputs.</summary>
    public void ClearBoundInputs()
    {
        NativeMethods.ClearBoundInputs(Handle.Pointer);
        _boundInputs.Clear();
    }

    /// <summary>Unbinds all outputs.</summary>
    public void ClearBoundOutputs()
    {
        NativeMethods.ClearBoundOutputs(Handle.Pointer);
        _boundOutputs.Clear();
    }

    /// <summary>Waits for device copies of bound inputs to finish (a no-op on the CPU).</summary>
    public void SynchronizeBoundInputs() => NativeMethods.SynchronizeBoundInputs(Handle.Pointer);

    /// <summary>Waits for bound outputs to be ready on their device (a no-op on the CPU).</summary>
    public void SynchronizeBoundOutputs() => NativeMethods.SynchronizeBoundOutputs(Handle.Pointer);

    /// <summary>The names of the bound outputs, in binding order.</summary>
    /// <returns>The names.</returns>
    public IReadOnlyList<string> GetOutputNames()
    {
        nint allocator = NativeMethods.GetAllocatorWithDefaultOptions();
        NativeMethods.GetBoundOutputNames(Handle.Pointer, allocator, out byte* buffer, out nuint* lengths, out nuint count);
        if (count == 0)
        {
            return [];
        }

        using var bufferMemory = new AllocatorMemoryHandle((nint)buffer);
        using var lengthsMemory = new AllocatorMemoryHandle((nint)lengths);
        var names = new string[(int)count];
        int offset = 0;
        for (int i = 0; i < names.Length; i++)
        {
            int length = (int)lengths[i];
            names[i] = System.Text.Encoding.UTF8.GetString(buffer + offset, length);
            offset += length;
        }

        return names;
    }

    /// <summary>The bound outputs after a run, in binding order, as new values the caller owns.</summary>
    /// <returns>The outputs; dispose them.</returns>
    public SessionOutputs GetOutputValues()
    {
        IReadOnlyList<string> names = GetOutputNames();
        nint allocator = NativeMethods.GetAllocatorWithDefaultOptions();
        NativeMethods.GetBoundOutputValues(Handle.Pointer, allocator, out nint* values, out nuint count);
        if (count == 0)
        {
            return new SessionOutputs([], []);
        }

        using var array = new AllocatorMemoryHandle((nint)values);
        var result = new OrtValue?[(int)count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = new OrtValue(new ValueHandle(values[i]));
        }

        return new SessionOutputs(names.ToArray(), result);
    }

    /// <summary>Releases the native binding and lets go of the bound values (which the caller still owns).</summary>
    public void Dispose()
    {
        Handle.Dispose();
        _boundInputs.Clear();
        _boundOutputs.Clear();
    }
}
