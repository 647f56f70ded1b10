namespace MLNetTransformers.Data.IO.Idv;

/// <summary>How the blocks of an .idv file are compressed (ML.NET's <c>CompressionKind</c>; the byte value is the on-disk code).</summary>
public enum IdvCompression : byte
{
    /// <summary>No compression.</summary>
    None = 0,

    /// <summary>Raw DEFLATE (RFC 1951), ML.NET's default.</summary>
    Deflate = 1,

    /// <summary>zlib (RFC 1950). Listed by the format document; this library reads it but does not write it, since ML.NET itself cannot read it.</summary>
    ZLib = 2,
}
