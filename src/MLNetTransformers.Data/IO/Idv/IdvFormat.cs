namespace MLNetTransformers.Data.IO.Idv;

/// <summary>Constants of the .idv container (ML.NET's <c>Header.cs</c>).</summary>
internal static class IdvFormat
{
    public const int HeaderSize = 256;

    /// <summary>"CML\0DVB\0" read as a little-endian uint64.</summary>
    public const ulong Signature = 0x00425644004C4D43;

    /// <summary>The byte-reversed signature, the file's last eight bytes.</summary>
    public const ulong TailSignature = 0x434D4C0044564200;

    /// <summary>Version 1.1.1.6 ("DvTypes replaced by .NET types"), what current ML.NET writes.</summary>
    public const ulong WriterVersion = 0x0001000100010006;

    /// <summary>The oldest reader version that can read what we write (ML.NET's <c>CanBeReadByVersion</c>).</summary>
    public const ulong CanBeReadByVersion = 0x0001000100010006;

    /// <summary>The newest version we read: files whose compatible version is newer are refused.</summary>
    public const ulong ReaderVersion = 0x0001000100010006;

    /// <summary>1.1.1.4, the oldest version with today's table of contents (ML.NET's oldest supported).</summary>
    public const ulong MinimumVersion = 0x0001000100010004;

    public const int LookupEntrySize = 16;

    public static string VersionToString(ulong v) => $"{(v >> 48) & 0xffff}.{(v >> 32) & 0xffff}.{(v >> 16) & 0xffff}.{v & 0xffff}";
}
