using System.Buffers;
using System.Runtime.InteropServices;

namespace MLNetTransformers.OnnxRuntime.Native;

/// <summary>
/// Keeps managed memory pinned while a native tensor aliases it, and returns pooled memory to its pool when released.
/// A <see cref="SafeHandle"/> so that a value that is never disposed still unpins (and returns its buffer) on finalization.
/// </summary>
internal sealed unsafe class PinnedMemoryHandle : SafeHandle
{
    private MemoryHandle _pin;
    private IDisposable? _owner;

    public PinnedMemoryHandle(MemoryHandle pin, IDisposable? owner)
        : base(0, ownsHandle: true)
    {
        _pin = pin;
        _owner = owner;
        SetHandle(pin.Pointer == null ? 1 : (nint)pin.Pointer);
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        _pin.Dispose();
        _owner?.Dispose();
        _owner = null;
        return true;
    }
}
