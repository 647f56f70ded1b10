using MLNetTransformers.OnnxRuntime.Native;

namespace MLNetTransformers.OnnxRuntime;

/// <summary>Which allocator owns memory (<c>OrtAllocatorType</c>).</summary>
public enum OrtAllocatorType
{
    /// <summary>A plain device allocator.</summary>
    Device = 0,
    /// <summary>An arena over the device allocator.</summary>
    Arena = 1,
}

/// <summary>Kind of memory on a device (<c>OrtMemType</c>).</summary>
public enum OrtMemoryType
{
    /// <summary>Host memory a non-CPU provider reads as input.</summary>
    CpuInput = -2,
    /// <summary>Host memory a non-CPU provider writes as output.</summary>
    CpuOutput = -1,
    /// <summary>The device's own memory.</summary>
    Default = 0,
}

/// <summary>Kind of device memory lives on (<c>OrtMemoryInfoDeviceType</c>).</summary>
public enum OrtDeviceType
{
    /// <summary>Host memory.</summary>
    Cpu = 0,
    /// <summary>GPU memory.</summary>
    Gpu = 1,
    /// <summary>FPGA memory.</summary>
    Fpga = 2,
    /// <summary>NPU memory.</summary>
    Npu = 3,
}

/// <summary>
/// Describes where tensor memory lives (<c>OrtMemoryInfo</c>): the CPU, or a device such as <c>Cuda</c> with its id.
/// Used to bind outputs to a device with <see cref="IoBinding.BindOutput(string, OrtMemoryInfo)"/>. Immutable and thread-safe.
/// </summary>
public sealed class OrtMemoryInfo : IDisposable
{
    private static readonly Lazy<OrtMemoryInfo> s_cpu = new(() => new OrtMemoryInfo(
        new MemoryInfoHandle(NativeMethods.CreateCpuMemoryInfo((int)OrtAllocatorType.Arena, (int)OrtMemoryType.Default)), isShared: true));

    private readonly bool _isShared;

    private OrtMemoryInfo(MemoryInfoHandle handle, bool isShared = false)
    {
        Handle = handle;
        _isShared = isShared;
        Name = NativeMethods.MemoryInfoGetName(handle.Pointer);
        DeviceId = NativeMethods.MemoryInfoGetId(handle.Pointer);
        DeviceType = (OrtDeviceType)NativeMethods.MemoryInfoGetDeviceType(handle.Pointer);
    }

    /// <summary>Host memory (the <c>Cpu</c> allocator). Shared; disposing it does nothing.</summary>
    public static OrtMemoryInfo Cpu => s_cpu.Value;

    /// <summary>The allocator name, e.g. <c>Cpu</c>, <c>Cuda</c>, <c>CudaPinned</c>.</summary>
    public string Name { get; }

    /// <summary>The device id.</summary>
    public int DeviceId { get; }

    /// <summary>The kind of device.</summary>
    public OrtDeviceType DeviceType { get; }

    internal MemoryInfoHandle Handle { get; }

    /// <summary>Describes memory of a named allocator (for example <c>Cuda</c> device 0).</summary>
    /// <param name="allocatorName">ONNX Runtime's allocator name: <c>Cpu</c>, <c>Cuda</c>, <c>CudaPinned</c>, ...</param>
    /// <param name="allocatorType">Device or arena allocator.</param>
    /// <param name="deviceId">The device id.</param>
    /// <param name="memoryType">The memory type.</param>
    /// <returns>The memory description; dispose it when done.</returns>
    public static unsafe OrtMemoryInfo Create(string allocatorName, OrtAllocatorType allocatorType, int deviceId, OrtMemoryType memoryType)
    {
        ArgumentException.ThrowIfNullOrEmpty(allocatorName);
        byte[] name = Utf8.Encode(allocatorName);
        fixed (byte* p = name)
        {
            return new OrtMemoryInfo(new MemoryInfoHandle(NativeMethods.CreateMemoryInfo(p, (int)allocatorType, deviceId, (int)memoryType)));
        }
    }

    /// <summary>Memory of CUDA device <paramref name="deviceId"/>.</summary>
    /// <param name="deviceId">The CUDA device id.</param>
    /// <returns>The memory description; dispose it when done.</returns>
    public static OrtMemoryInfo Cuda(int deviceId = 0) => Create("Cuda", OrtAllocatorType.Device, deviceId, OrtMemoryType.Default);

    /// <inheritdoc/>
    public override string ToString() => $"{Name}:{DeviceId}";

    /// <inheritdoc/>
    public void Dispose()
    {
        if (!_isShared)
        {
            Handle.Dispose();
        }
    }
}
