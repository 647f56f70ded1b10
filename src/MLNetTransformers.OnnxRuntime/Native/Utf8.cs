using System.Runtime.InteropServices;
using System.Text;

namespace MLNetTransformers.OnnxRuntime.Native;

/// <summary>NUL-terminated UTF-8 strings for native calls.</summary>
internal static class Utf8
{
    /// <summary>Encodes a string as NUL-terminated UTF-8 (the C API's <c>const char*</c>).</summary>
    public static byte[] Encode(string value)
    {
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }

    /// <summary>
    /// Encodes a file path as the C API's <c>ORTCHAR_T*</c>: UTF-16 on Windows, UTF-8 elsewhere.
    /// </summary>
    public static byte[] EncodePath(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            byte[] wide = new byte[(path.Length + 1) * 2];
            MemoryMarshal.AsBytes(path.AsSpan()).CopyTo(wide);
            return wide;
        }

        return Encode(path);
    }

    /// <summary>Copies a native NUL-terminated UTF-8 string to a managed string.</summary>
    public static unsafe string FromNative(byte* value) => Marshal.PtrToStringUTF8((nint)value) ?? string.Empty;
}

/// <summary>
/// A native block holding NUL-terminated UTF-8 copies of a list of strings and an array of pointers to them,
/// for the C API's <c>const char* const*</c> parameters (option keys and values, names).
/// </summary>
internal sealed unsafe class Utf8StringArray : IDisposable
{
    private nint _block;

    public Utf8StringArray(IReadOnlyList<string> values)
    {
        Count = values.Count;
        int pointerBytes = values.Count * sizeof(nint);
        int total = pointerBytes;
        foreach (string value in values)
        {
            total += Encoding.UTF8.GetByteCount(value) + 1;
        }

        _block = (nint)NativeMemory.Alloc((nuint)Math.Max(total, 1));
        var pointers = (byte**)_block;
        byte* text = (byte*)_block + pointerBytes;
        for (int i = 0; i < values.Count; i++)
        {
            pointers[i] = text;
            int written = Encoding.UTF8.GetBytes(values[i], new Span<byte>(text, total - (int)(text - (byte*)_block)));
            text[written] = 0;
            text += written + 1;
        }
    }

    public int Count { get; }

    public byte** Pointers => (byte**)_block;

    public void Dispose()
    {
        if (_block != 0)
        {
            NativeMemory.Free((void*)_block);
            _block = 0;
        }
    }
}
