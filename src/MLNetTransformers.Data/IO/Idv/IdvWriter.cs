using System.IO.Compression;
using System.Text;

namespace MLNetTransformers.Data.IO.Idv;

/// <summary>
/// Writes ML.NET binary data view (.idv) files in the layout of ML.NET's <c>BinarySaver</c>, format version 1.1.1.6: a
/// 256-byte header, the column blocks, per-column block lookup tables, the table of contents, and the tail signature.
/// </summary>
/// <remarks>
/// Rows are buffered one block at a time (<see cref="IdvWriterOptions.RowsPerBlock"/>); each full block is encoded,
/// compressed and written out immediately. Besides that block, the writer keeps 16 bytes per written block and column for
/// the lookup tables, which are written at the end (as ML.NET does). Every type in <see cref="IdvColumnType"/> can be
/// written; vectors are written dense, missing text (<see langword="null"/>) with ML.NET's "missing" flag.
/// Call <see cref="Complete"/> (or <see cref="Dispose"/>) to finish the file; until then it is not a valid .idv file.
/// </remarks>
public sealed class IdvWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly IdvColumn[] _columns;
    private readonly IdvCodec[] _codecs;
    private readonly IdvEncoder[] _encoders;
    private readonly List<(long Offset, int Length, int Decompressed)>[] _lookups;
    private readonly IdvWriterOptions _options;
    private readonly MemoryStream _block = new();
    private readonly MemoryStream _compressed = new();
    private readonly BinaryWriter _blockWriter;
    private readonly long _start;
    private int _rowsInBlock;
    private long _rowCount;
    private bool _completed;
    private bool _failed;
    private bool _disposed;

    private IdvWriter(Stream stream, bool ownsStream, IReadOnlyList<IdvColumn> columns, IdvWriterOptions? options)
    {
        _options = options ?? new IdvWriterOptions();
        if (_options.RowsPerBlock <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.RowsPerBlock, "RowsPerBlock must be positive.");
        }

        if (_options.Compression is not (IdvCompression.None or IdvCompression.Deflate))
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.Compression, "Only None and Deflate compression can be written (ML.NET reads no other).");
        }

        _columns = [.. columns];
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (IdvColumn column in _columns)
        {
            ArgumentNullException.ThrowIfNull(column, nameof(columns));
            ArgumentNullException.ThrowIfNull(column.Type, nameof(columns));
            if (string.IsNullOrEmpty(column.Name))
            {
                throw new ArgumentException("Column names must be non-empty.", nameof(columns));
            }

            if (!names.Add(column.Name))
            {
                throw new ArgumentException($"Duplicate column name '{column.Name}'.", nameof(columns));
            }
        }
        _codecs = [.. _columns.Select(c => IdvCodec.ForType(c.Type))];
        _encoders = [.. _codecs.Select((codec, i) => codec.CreateEncoder(_columns[i].Name))];
        _lookups = [.. _columns.Select(_ => new List<(long, int, int)>())];
        _blockWriter = new BinaryWriter(_block, Encoding.UTF8, leaveOpen: true);
        _stream = stream;
        _ownsStream = ownsStream;
        _start = stream.Position;
        // Reserve the header; it is written last, when the offsets and row count are known.
        _stream.Write(new byte[IdvFormat.HeaderSize]);
    }

    /// <summary>The columns being written.</summary>
    public IReadOnlyList<IdvColumn> Columns => _columns;

    /// <summary>The number of rows written so far.</summary>
    public long RowCount => _rowCount;

    /// <summary>Creates (or overwrites) an .idv file.</summary>
    /// <param name="path">The file path.</param>
    /// <param name="columns">The columns.</param>
    /// <param name="options">Block size and compression; defaults if <see langword="null"/>.</param>
    /// <returns>The writer, which owns the file.</returns>
    public static IdvWriter Create(string path, IReadOnlyList<IdvColumn> columns, IdvWriterOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(columns);
        var stream = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16);
        try
        {
            return new IdvWriter(stream, ownsStream: true, columns, options);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Writes an .idv file into a writable, seekable stream starting at its current position; the stream is not disposed.</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="columns">The columns.</param>
    /// <param name="options">Block size and compression; defaults if <see langword="null"/>.</param>
    /// <returns>The writer.</returns>
    public static IdvWriter Create(Stream stream, IReadOnlyList<IdvColumn> columns, IdvWriterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(columns);
        if (!stream.CanWrite || !stream.CanSeek)
        {
            throw new ArgumentException("The stream must be writable and seekable.", nameof(stream));
        }

        return new IdvWriter(stream, ownsStream: false, columns, options);
    }

    /// <summary>Appends one row: one value per column, of the .NET type described on <see cref="IdvColumnType"/>.</summary>
    /// <param name="values">The values, in column order.</param>
    /// <exception cref="ArgumentException">A value does not fit its column; the row is not written, and the writer can no longer be used.</exception>
    public void WriteRow(ReadOnlySpan<object?> values)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed)
        {
            throw new InvalidOperationException("The writer is complete.");
        }

        if (_failed)
        {
            throw new InvalidOperationException("A previous write failed; the file is incomplete.");
        }

        if (values.Length != _columns.Length)
        {
            throw new ArgumentException($"Expected {_columns.Length} values but got {values.Length}.", nameof(values));
        }

        try
        {
            for (int c = 0; c < _columns.Length; c++)
            {
                _encoders[c].Add(values[c]);
            }
        }
        catch
        {
            // Some columns took the value and others not: the block is inconsistent, so refuse further use.
            _failed = true;
            throw;
        }
        _rowCount++;
        if (++_rowsInBlock == _options.RowsPerBlock)
        {
            FlushBlock();
        }
    }

    /// <summary>Appends one row (see <see cref="WriteRow(ReadOnlySpan{object})"/>).</summary>
    /// <param name="values">The values, in column order.</param>
    public void WriteRow(params object?[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        WriteRow(values.AsSpan());
    }

    private void FlushBlock()
    {
        for (int c = 0; c < _columns.Length; c++)
        {
            _block.SetLength(0);
            _encoders[c].Commit(_blockWriter);
            _blockWriter.Flush();
            int uncompressedLength = checked((int)_block.Length);
            long offset = _stream.Position - _start;
            int length;
            if (_options.Compression == IdvCompression.Deflate)
            {
                _compressed.SetLength(0);
                using (var deflate = new DeflateStream(_compressed, CompressionLevel.Optimal, leaveOpen: true))
                {
                    deflate.Write(_block.GetBuffer(), 0, uncompressedLength);
                }

                length = checked((int)_compressed.Length);
                _stream.Write(_compressed.GetBuffer(), 0, length);
            }
            else
            {
                length = uncompressedLength;
                _stream.Write(_block.GetBuffer(), 0, length);
            }
            _lookups[c].Add((offset, length, uncompressedLength));
        }
        _rowsInBlock = 0;
        if (_block.Capacity > 1 << 20 && _block.Length < _block.Capacity / 4)
        {
            _block.Capacity = (int)_block.Length;
        }
    }

    /// <summary>Writes the last partial block, the lookup tables, the table of contents, the tail and the header. Idempotent.</summary>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed)
        {
            return;
        }

        if (_failed)
        {
            throw new InvalidOperationException("A previous write failed; the file is incomplete.");
        }

        if (_rowsInBlock > 0)
        {
            FlushBlock();
        }

        using var writer = new BinaryWriter(_stream, Encoding.UTF8, leaveOpen: true);
        var lookupOffsets = new long[_columns.Length];
        for (int c = 0; c < _columns.Length; c++)
        {
            lookupOffsets[c] = _stream.Position - _start;
            foreach ((long offset, int length, int decompressed) in _lookups[c])
            {
                writer.Write(offset);
                writer.Write(length);
                writer.Write(decompressed);
            }
        }
        long tocOffset = _stream.Position - _start;
        for (int c = 0; c < _columns.Length; c++)
        {
            writer.Write(_columns[c].Name);
            IdvCodec.WriteDefinition(writer, _codecs[c]);
            writer.Write((byte)_options.Compression);
            writer.Write7BitEncodedInt64(_options.RowsPerBlock);
            writer.Write(lookupOffsets[c]);
            writer.Write(0L); // no metadata
        }
        long tailOffset = _stream.Position - _start;
        writer.Write(IdvFormat.TailSignature);
        long end = _stream.Position;

        _stream.Seek(_start, SeekOrigin.Begin);
        writer.Write(IdvFormat.Signature);
        writer.Write(IdvFormat.WriterVersion);
        writer.Write(IdvFormat.CanBeReadByVersion);
        writer.Write(tocOffset);
        writer.Write(tailOffset);
        writer.Write(_rowCount);
        writer.Write(_columns.Length);
        writer.Flush();
        _stream.Seek(end, SeekOrigin.Begin);
        _stream.Flush();
        _completed = true;
    }

    /// <summary>Completes the file (unless a write failed) and releases the stream if the writer owns it.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            if (!_completed && !_failed)
            {
                Complete();
            }
        }
        finally
        {
            _disposed = true;
            _blockWriter.Dispose();
            _block.Dispose();
            _compressed.Dispose();
            if (_ownsStream)
            {
                _stream.Dispose();
            }
        }
    }
}
