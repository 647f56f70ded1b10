namespace MLNetTransformers.Data.IO.Idv;

/// <summary>Options for <see cref="IdvWriter"/>.</summary>
public sealed class IdvWriterOptions
{
    /// <summary>
    /// Rows per block (the same for every column). The writer buffers one block of every column in memory, so this bounds its
    /// memory use. Default 8192, ML.NET's <c>MaxRowsPerBlock</c> default.
    /// </summary>
    public int RowsPerBlock { get; init; } = 8192;

    /// <summary>Block compression: <see cref="IdvCompression.Deflate"/> (ML.NET's default, the default here) or <see cref="IdvCompression.None"/>.</summary>
    public IdvCompression Compression { get; init; } = IdvCompression.Deflate;
}
