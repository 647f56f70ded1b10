using System.Buffers.Binary;
using System.IO.Compression;

namespace MLNetTransformers.Data.IO.Idv;

/// <summary>
/// Reads ML.NET binary data view (.idv) files as written by ML.NET's <c>BinarySaver</c> (format versions 1.1.1.4 to 1.1.1.6).
/// Rows are streamed block by block: at most one decoded block per column is held in memory.
/// </summary>
/// <remarks>
/// Values are returned as described on <see cref="IdvColumnType"/>; sparse vectors are returned dense. Column metadata
/// (slot names, key values) is not read. Malformed input raises <see cref="InvalidDataException"/> naming the file.
/// </remarks>
public sealed class IdvReader : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly string _name;
    private readonly long _tailOffset;
    private readonly ColumnInfo[] _columns;
    private bool _disposed;

    private sealed record ColumnInfo(IdvColumn Column, IdvCodec Codec, IdvCompression Compression, int RowsPerBlock, long LookupOffset, long BlockCount);

    private IdvReader(Stream stream, bool ownsStream, string name)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        _name = name;
        try
        {
            long length = stream.Length;
            if (length < IdvFormat.HeaderSize + 8)
            {
                throw Error($"truncated: {length} bytes is shorter than the {IdvFormat.HeaderSize}-byte header and the tail signature");
            }

            byte[] header = ReadAt(0, IdvFormat.HeaderSize);
            ulong signature = BinaryPrimitives.ReadUInt64LittleEndian(header);
            if (signature != IdvFormat.Signature)
            {
                throw Error($"bad signature 0x{signature:X16}, not an .idv file (expected \"CML\\0DVB\\0\")");
            }

            ulong version = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(8));
            ulong compatible = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(16));
            if (compatible > IdvFormat.ReaderVersion)
            {
                throw Error($"needs a reader of version {IdvFormat.VersionToString(compatible)}; this reader is {IdvFormat.VersionToString(IdvFormat.ReaderVersion)}");
            }

            if (version < IdvFormat.MinimumVersion)
            {
                throw Error($"version {IdvFormat.VersionToString(version)} is older than the oldest supported {IdvFormat.VersionToString(IdvFormat.MinimumVersion)}");
            }

            long tocOffset = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(24));
            _tailOffset = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(32));
            RowCount = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(40));
            int columnCount = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(48));
            if (_tailOffset < IdvFormat.HeaderSize || _tailOffset > length - 8)
            {
                throw Error($"truncated or corrupt: the tail offset {_tailOffset} is outside the file of {length} bytes");
            }

            ulong tail = BinaryPrimitives.ReadUInt64LittleEndian(ReadAt(_tailOffset, 8));
            if (tail != IdvFormat.TailSignature)
            {
                throw Error($"bad tail signature 0x{tail:X16} at offset {_tailOffset} (truncated or corrupt file)");
            }

            if (tocOffset < IdvFormat.HeaderSize || tocOffset > _tailOffset)
            {
                throw Error($"table of contents offset {tocOffset} is out of range [{IdvFormat.HeaderSize}, {_tailOffset}]");
            }

            if (RowCount < 0)
            {
                throw Error($"negative row count {RowCount}");
            }

            long tocLength = _tailOffset - tocOffset;
            if (columnCount < 0 || columnCount > tocLength)
            {
                throw Error($"column count {columnCount} does not fit the {tocLength}-byte table of contents");
            }

            if (tocLength > int.MaxValue)
            {
                throw Error($"table of contents of {tocLength} bytes is too large");
            }

            var toc = new ByteCursor(ReadAt(tocOffset, (int)tocLength), 0, (int)tocLength, $"{_name}: table of contents");
            _columns = new ColumnInfo[columnCount];
            for (int c = 0; c < columnCount; c++)
            {
                _columns[c] = ReadColumn(toc, c);
            }

            Columns = Array.AsReadOnly(_columns.Select(c => c.Column).ToArray());
        }
        catch
        {
            if (_ownsStream)
            {
                _stream.Dispose();
            }

            throw;
        }
    }

    /// <summary>The columns, in file order.</summary>
    public IReadOnlyList<IdvColumn> Columns { get; }

    /// <summary>The number of rows.</summary>
    public long RowCount { get; }

    /// <summary>Opens an .idv file.</summary>
    /// <param name="path">The file path.</param>
    /// <returns>The reader, which owns the file handle.</returns>
    /// <exception cref="InvalidDataException">The file is not a well-formed .idv file.</exception>
    public static IdvReader Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.RandomAccess);
        return new IdvReader(stream, ownsStream: true, path);
    }

    /// <summary>Reads an .idv file from a readable, seekable stream, which the reader does not dispose.</summary>
    /// <param name="stream">The stream positioned anywhere; the file starts at position 0.</param>
    /// <param name="name">A name for error messages.</param>
    /// <returns>The reader.</returns>
    /// <exception cref="InvalidDataException">The stream is not a well-formed .idv file.</exception>
    public static IdvReader Open(Stream stream, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead || !stream.CanSeek)
        {
            throw new ArgumentException("The stream must be readable and seekable.", nameof(stream));
        }

        return new IdvReader(stream, ownsStream: false, name ?? "<stream>");
    }

    /// <summary>
    /// Streams the rows in order. Each row is a new array with one value per column (see <see cref="IdvColumnType"/> for the
    /// .NET types). Enumerations must not run concurrently with each other.
    /// </summary>
    /// <param name="cancellationToken">Checked before each row.</param>
    /// <returns>The rows.</returns>
    /// <exception cref="InvalidDataException">A block is malformed.</exception>
    public IEnumerable<object?[]> ReadRows(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return ReadRowsCore(cancellationToken);
    }

    private IEnumerable<object?[]> ReadRowsCore(CancellationToken cancellationToken)
    {
        var blocks = new Array?[_columns.Length];
        var blockIndex = new long[_columns.Length];
        var inBlock = new int[_columns.Length];
        Array.Fill(blockIndex, -1);
        for (long row = 0; row < RowCount; row++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ObjectDisposedException.ThrowIf(_disposed, this);
            var values = new object?[_columns.Length];
            for (int c = 0; c < _columns.Length; c++)
            {
                ColumnInfo col = _columns[c];
                long b = row / col.RowsPerBlock;
                if (b != blockIndex[c])
                {
                    blocks[c] = null; // release the previous block before decoding the next
                    blocks[c] = ReadBlock(col, b);
                    blockIndex[c] = b;
                }
                inBlock[c] = (int)(row - b * col.RowsPerBlock);
                values[c] = blocks[c]!.GetValue(inBlock[c]);
            }
            yield return values;
        }
    }

    private ColumnInfo ReadColumn(ByteCursor toc, int index)
    {
        string name = toc.ReadString($"column {index} name");
        IdvCodec codec = IdvCodec.ReadDefinition(toc, name);
        byte compression = toc.ReadByte($"column '{name}' compression kind");
        if (compression > (byte)IdvCompression.ZLib)
        {
            throw toc.Error($"column '{name}' has unknown compression kind {compression}");
        }

        ulong rowsPerBlock = toc.ReadLeb128($"column '{name}' rows per block");
        long lookupOffset = toc.ReadInt64($"column '{name}' lookup table offset");
        long metadataOffset = toc.ReadInt64($"column '{name}' metadata offset");
        if (rowsPerBlock == 0 || rowsPerBlock > int.MaxValue)
        {
            throw toc.Error($"column '{name}' has invalid rows per block {rowsPerBlock}");
        }

        long blockCount = RowCount == 0 ? 0 : ((RowCount - 1) / (long)rowsPerBlock) + 1;
        if (lookupOffset < IdvFormat.HeaderSize || lookupOffset > _tailOffset
            || blockCount > (_tailOffset - lookupOffset) / IdvFormat.LookupEntrySize)
        {
            throw toc.Error($"column '{name}' lookup table ({blockCount} blocks at offset {lookupOffset}) is outside the file");
        }

        if (metadataOffset != 0 && (metadataOffset < IdvFormat.HeaderSize || metadataOffset > _tailOffset))
        {
            throw toc.Error($"column '{name}' metadata offset {metadataOffset} is outside the file");
        }

        return new ColumnInfo(new IdvColumn(name, codec.Type), codec, (IdvCompression)compression, (int)rowsPerBlock, lookupOffset, blockCount);
    }

    private Array ReadBlock(ColumnInfo col, long block)
    {
        string context = $"{_name}: column '{col.Column.Name}' block {block}";
        byte[] entry = ReadAt(col.LookupOffset + block * IdvFormat.LookupEntrySize, IdvFormat.LookupEntrySize);
        long offset = BinaryPrimitives.ReadInt64LittleEndian(entry);
        int length = BinaryPrimitives.ReadInt32LittleEndian(entry.AsSpan(8));
        int decompressed = BinaryPrimitives.ReadInt32LittleEndian(entry.AsSpan(12));
        if (offset < IdvFormat.HeaderSize || length < 0 || offset > _tailOffset - length)
        {
            throw new InvalidDataException($"{context}: block offset {offset} with length {length} is out of range [{IdvFormat.HeaderSize}, {_tailOffset}]");
        }

        if (decompressed < 0)
        {
            throw new InvalidDataException($"{context}: negative decompressed length {decompressed}");
        }

        int rows = (int)Math.Min(col.RowsPerBlock, RowCount - (block * col.RowsPerBlock));
        byte[] raw = ReadAt(offset, length);
        byte[] data;
        if (col.Compression == IdvCompression.None)
        {
            // ML.NET records 0 as the "uncompressed length" of uncompressed blocks; only the block length matters.
            data = raw;
        }
        else
        {
            // DEFLATE cannot expand data more than about 1032:1; refuse lengths that no stream of this size can produce.
            if (decompressed > (length * 1100L) + 1024)
            {
                throw new InvalidDataException($"{context}: decompressed length {decompressed} is impossible for {length} compressed bytes");
            }

            data = new byte[decompressed];
            try
            {
                using var input = new MemoryStream(raw, writable: false);
                using Stream inflater = col.Compression == IdvCompression.Deflate
                    ? new DeflateStream(input, CompressionMode.Decompress)
                    : new ZLibStream(input, CompressionMode.Decompress);
                int read = inflater.ReadAtLeast(data, decompressed, throwOnEndOfStream: false);
                if (read != decompressed)
                {
                    throw new InvalidDataException($"{context}: block decompressed to {read} bytes where the lookup table says {decompressed}");
                }
            }
            catch (InvalidDataException ex) when (!ex.Message.StartsWith(context, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"{context}: corrupt compressed data ({ex.Message})", ex);
            }
        }
        var cursor = new ByteCursor(data, 0, data.Length, context);
        return col.Codec.Decode(cursor, rows);
    }

    private byte[] ReadAt(long offset, int count)
    {
        var buffer = new byte[count];
        _stream.Seek(offset, SeekOrigin.Begin);
        int read = _stream.ReadAtLeast(buffer, count, throwOnEndOfStream: false);
        if (read != count)
        {
            throw Error($"truncated: wanted {count} bytes at offset {offset} but the file ends after {read}");
        }

        return buffer;
    }

    private InvalidDataException Error(string what) => new($"{_name}: {what}");

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_ownsStream)
        {
            _stream.Dispose();
        }
    }
}
