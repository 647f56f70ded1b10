using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using MLNetTransformers.OnnxRuntime.Native;

namespace MLNetTransformers.OnnxRuntime;

/// <summary>
/// An ONNX Runtime value (<c>OrtValue</c>): a tensor over pinned managed memory (no copy), over pooled memory, over memory ONNX
/// Runtime allocated (session outputs), or a string tensor. Read tensor contents as spans without copying.
/// </summary>
/// <remarks>
/// Dispose values when done: that releases the native value and unpins (or returns to the pool) the managed buffer it aliases.
/// A value may be read from several threads at once; disposing it while another thread uses it is not supported.
/// Values whose memory lives on a device (outputs bound to a GPU) cannot be read as spans.
/// </remarks>
public sealed unsafe class OrtValue : IDisposable
{
    private static readonly byte[] s_emptyBuffer = GC.AllocateArray<byte>(1, pinned: true);

    private readonly PinnedMemoryHandle? _memory;
    private TensorInfo? _tensorInfo;
    private TensorElementType _elementType = (TensorElementType)(-1);
    private bool _onCpu;

    internal OrtValue(ValueHandle handle, PinnedMemoryHandle? memory = null, TensorInfo? knownInfo = null)
    {
        Handle = handle;
        _memory = memory;
        _onCpu = memory is not null;
        if (knownInfo is not null)
        {
            _tensorInfo = knownInfo;
            _elementType = knownInfo.ElementType;
        }
    }

    /// <summary>The kind of value (tensor, sequence, map, ...).</summary>
    public OnnxValueType ValueType => (OnnxValueType)NativeMethods.GetValueType(Handle.Pointer);

    /// <summary>Whether the value is a dense tensor.</summary>
    public bool IsTensor => NativeMethods.IsTensor(Handle.Pointer);

    /// <summary>The tensor's element type and shape.</summary>
    /// <exception cref="InvalidOperationException">The value is not a tensor.</exception>
    public TensorInfo TensorInfo => _tensorInfo ??= ReadTensorInfo();

    /// <summary>The tensor's element type.</summary>
    public TensorElementType ElementType
    {
        get
        {
            if ((int)_elementType < 0)
            {
                _elementType = TensorInfo.ElementType;
            }

            return _elementType;
        }
    }

    internal ValueHandle Handle { get; }

    /// <summary>
    /// Creates a tensor over <paramref name="data"/> without copying: the memory is pinned until the value is disposed, and
    /// changes to it are seen by ONNX Runtime (and outputs written into it are seen by the caller).
    /// </summary>
    /// <typeparam name="T">A supported element type: float, double, Half, BFloat16, sbyte, byte, short, ushort, int, uint, long, ulong, bool.</typeparam>
    /// <param name="data">The elements, in row-major order; exactly as many as the shape holds.</param>
    /// <param name="shape">The dimensions (each ≥ 0).</param>
    /// <returns>The tensor value.</returns>
    /// <exception cref="ArgumentException">The shape is invalid or does not match the data's length.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not a supported element type.</exception>
    public static OrtValue CreateTensor<T>(Memory<T> data, ReadOnlySpan<long> shape)
        where T : unmanaged
        => CreateOverMemory(data, shape, owner: null);

    /// <summary>Creates a tensor over an array without copying (see <see cref="CreateTensor{T}(Memory{T}, ReadOnlySpan{long})"/>).</summary>
    /// <typeparam name="T">A supported element type.</typeparam>
    /// <param name="data">The elements, in row-major order.</param>
    /// <param name="shape">The dimensions.</param>
    /// <returns>The tensor value.</returns>
    public static OrtValue CreateTensor<T>(T[] data, ReadOnlySpan<long> shape)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        return CreateOverMemory(data.AsMemory(), shape, owner: null);
    }

    /// <summary>
    /// Creates a zero-filled tensor over a buffer rented from <see cref="MemoryPool{T}.Shared"/>; the buffer goes back to the pool
    /// when the value is disposed. Fill it through <see cref="GetTensorSpan{T}"/>. Use for per-step inputs in loops.
    /// </summary>
    /// <typeparam name="T">A supported element type.</typeparam>
    /// <param name="shape">The dimensions.</param>
    /// <returns>The tensor value.</returns>
    public static OrtValue CreatePooledTensor<T>(ReadOnlySpan<long> shape)
        where T : unmanaged
    {
        int count = checked((int)ElementCount(shape));
        IMemoryOwner<T> owner = MemoryPool<T>.Shared.Rent(Math.Max(count, 1));
        try
        {
            Memory<T> memory = owner.Memory[..count];
            memory.Span.Clear();
            return CreateOverMemory(memory, shape, owner);
        }
        catch
        {
            owner.Dispose();
            throw;
        }
    }

    /// <summary>Creates a zero-filled tensor in memory allocated by ONNX Runtime's CPU allocator.</summary>
    /// <param name="elementType">The element type (not <see cref="TensorElementType.String"/>; see <see cref="CreateStringTensor"/>).</param>
    /// <param name="shape">The dimensions.</param>
    /// <returns>The tensor value.</returns>
    public static OrtValue CreateAllocatedTensor(TensorElementType elementType, ReadOnlySpan<long> shape)
    {
        if (elementType.SizeInBytes() == 0 || elementType is TensorElementType.Complex64 or TensorElementType.Complex128)
        {
            throw new NotSupportedException($"Element type {elementType.GetName()} cannot be allocated as a plain tensor.");
        }

        long count = ElementCount(shape);
        OrtValue value = AllocateNative(elementType, shape, count);
        new Span<byte>(NativeMethods.GetTensorMutableData(value.Handle.Pointer), checked((int)(count * elementType.SizeInBytes()))).Clear();
        return value;
    }

    /// <summary>Creates a string tensor (UTF-8 inside ONNX Runtime; any characters, including NUL, round-trip).</summary>
    /// <param name="values">The strings, in row-major order; exactly as many as the shape holds.</param>
    /// <param name="shape">The dimensions.</param>
    /// <returns>The tensor value.</returns>
    public static OrtValue CreateStringTensor(IReadOnlyList<string> values, ReadOnlySpan<long> shape)
    {
        ArgumentNullException.ThrowIfNull(values);
        long count = ElementCount(shape);
        if (count != values.Count)
        {
            throw new ArgumentException($"The shape [{string.Join(", ", shape.ToArray())}] holds {count} elements but {values.Count} strings were given.", nameof(values));
        }

        OrtValue value = AllocateNative(TensorElementType.String, shape, count);
        try
        {
            for (int i = 0; i < values.Count; i++)
            {
                string text = values[i] ?? throw new ArgumentException($"String at index {i} is null.", nameof(values));
                int byteCount = Encoding.UTF8.GetByteCount(text);
                byte* buffer = NativeMethods.GetResizedStringTensorElementBuffer(value.Handle.Pointer, (nuint)i, (nuint)byteCount);
                Encoding.UTF8.GetBytes(text, new Span<byte>(buffer, byteCount));
            }

            return value;
        }
        catch
        {
            value.Dispose();
            throw;
        }
    }

    /// <summary>The tensor's elements as a writable span over its memory (no copy).</summary>
    /// <typeparam name="T">The managed element type, which must match <see cref="ElementType"/>.</typeparam>
    /// <returns>The elements.</returns>
    /// <exception cref="InvalidOperationException">Not a tensor, a different element type, or memory not on the CPU.</exception>
    public Span<T> GetTensorSpan<T>()
        where T : unmanaged
    {
        TensorElementType expected = TensorElementTypeExtensions.Of<T>();
        if (expected != ElementType || expected == TensorElementType.Undefined)
        {
            throw new InvalidOperationException($"The tensor holds {ElementType.GetName()} elements; it cannot be read as {typeof(T).Name}.");
        }

        void* data = NativeMethods.GetTensorMutableData(Handle.Pointer);
        if (!_onCpu)
        {
            EnsureOnCpu();
            _onCpu = true;
        }

        return new Span<T>(data, checked((int)TensorInfo.ElementCount));
    }

    /// <summary>The tensor's elements as a read-only span over its memory (no copy).</summary>
    /// <typeparam name="T">The managed element type, which must match <see cref="ElementType"/>.</typeparam>
    /// <returns>The elements.</returns>
    public ReadOnlySpan<T> GetTensorReadOnlySpan<T>()
        where T : unmanaged
        => GetTensorSpan<T>();

    /// <summary>Copies the tensor's elements to a new array.</summary>
    /// <typeparam name="T">The managed element type, which must match <see cref="ElementType"/>.</typeparam>
    /// <returns>The elements.</returns>
    public T[] ToArray<T>()
        where T : unmanaged
        => GetTensorSpan<T>().ToArray();

    /// <summary>Reads a string tensor's elements.</summary>
    /// <returns>The strings, in row-major order.</returns>
    /// <exception cref="InvalidOperationException">The value is not a string tensor.</exception>
    public string[] GetStrings()
    {
        if (ElementType != TensorElementType.String)
        {
            throw new InvalidOperationException($"The tensor holds {ElementType.GetName()} elements, not strings.");
        }

        int count = checked((int)TensorInfo.ElementCount);
        nuint byteLength = NativeMethods.GetStringTensorDataLength(Handle.Pointer);
        byte[] bytes = new byte[Math.Max((int)byteLength, 1)];
        nuint[] offsets = new nuint[Math.Max(count, 1)];
        fixed (byte* b = bytes)
        fixed (nuint* o = offsets)
        {
            NativeMethods.GetStringTensorContent(Handle.Pointer, b, byteLength, o, (nuint)count);
        }

        var result = new string[count];
        for (int i = 0; i < count; i++)
        {
            int start = (int)offsets[i];
            int end = i + 1 < count ? (int)offsets[i + 1] : (int)byteLength;
            result[i] = Encoding.UTF8.GetString(bytes, start, end - start);
        }

        return result;
    }

    /// <summary>Releases the native value and unpins (or returns to its pool) the memory it aliases.</summary>
    public void Dispose()
    {
        Handle.Dispose();
        _memory?.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => Handle.IsClosed ? "OrtValue(disposed)" : IsTensor ? $"OrtValue({TensorInfo})" : $"OrtValue({ValueType})";

    /// <summary>Number of elements a shape holds; rejects negative dimensions.</summary>
    internal static long ElementCount(ReadOnlySpan<long> shape)
    {
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] < 0)
            {
                throw new ArgumentException($"Dimension {i} of shape [{string.Join(", ", shape.ToArray())}] is negative.", nameof(shape));
            }

            count = checked(count * shape[i]);
        }

        return count;
    }

    private static OrtValue CreateOverMemory<T>(Memory<T> data, ReadOnlySpan<long> shape, IDisposable? owner)
        where T : unmanaged
    {
        TensorElementType elementType = TensorElementTypeExtensions.Of<T>();
        if (elementType is TensorElementType.Undefined or TensorElementType.String)
        {
            throw new NotSupportedException($"{typeof(T).Name} is not a supported tensor element type.");
        }

        long count = ElementCount(shape);
        if (count != data.Length)
        {
            throw new ArgumentException($"The shape [{string.Join(", ", shape.ToArray())}] holds {count} elements but the buffer has {data.Length}.", nameof(data));
        }

        var memory = new PinnedMemoryHandle(data.Pin(), owner);
        try
        {
            void* pointer = data.Length == 0 ? Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(s_emptyBuffer)) : (void*)memory.DangerousGetHandle();
            nint value;
            fixed (long* dims = shape)
            {
                value = NativeMethods.CreateTensorWithDataAsOrtValue(
                    OrtMemoryInfo.Cpu.Handle.Pointer, pointer, (nuint)((long)data.Length * sizeof(T)), dims, (nuint)shape.Length, (int)elementType);
            }

            return new OrtValue(new ValueHandle(value), memory, new TensorInfo(elementType, shape.ToArray(), count));
        }
        catch
        {
            // The owner (if any) goes back to its pool with the pin; callers must not dispose it again.
            memory.Dispose();
            throw;
        }
    }

    private static OrtValue AllocateNative(TensorElementType elementType, ReadOnlySpan<long> shape, long count)
    {
        nint value;
        fixed (long* dims = shape)
        {
            value = NativeMethods.CreateTensorAsOrtValue(NativeMethods.GetAllocatorWithDefaultOptions(), dims, (nuint)shape.Length, (int)elementType);
        }

        return new OrtValue(new ValueHandle(value), null, new TensorInfo(elementType, shape.ToArray(), count));
    }

    private TensorInfo ReadTensorInfo()
    {
        if (!NativeMethods.IsTensor(Handle.Pointer))
        {
            throw new InvalidOperationException($"The value is a {ValueType}, not a tensor.");
        }

        using var info = new TensorTypeAndShapeInfoHandle(NativeMethods.GetTensorTypeAndShape(Handle.Pointer));
        var elementType = (TensorElementType)NativeMethods.GetTensorElementType(info.Pointer);
        int rank = (int)NativeMethods.GetDimensionsCount(info.Pointer);
        long[] dims = new long[rank];
        fixed (long* d = dims)
        {
            NativeMethods.GetDimensions(info.Pointer, d, (nuint)rank);
        }

        return new TensorInfo(elementType, dims, (long)NativeMethods.GetTensorShapeElementCount(info.Pointer));
    }

    private void EnsureOnCpu()
    {
        // The memory info belongs to the value: it is not released here.
        nint memoryInfo = NativeMethods.GetTensorMemoryInfo(Handle.Pointer);
        var device = (OrtDeviceType)NativeMethods.MemoryInfoGetDeviceType(memoryInfo);
        if (device != OrtDeviceType.Cpu)
        {
            throw new InvalidOperationException(
                $"The tensor lives in {NativeMethods.MemoryInfoGetName(memoryInfo)} memory ({device}); bind the output to the CPU to read it.");
        }
    }
}
