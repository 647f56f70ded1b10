using System.Text;
using MLNetTransformers.Data.IO;

namespace MLNetTransformers.Data.Scoring;

/// <summary>
/// A write-ahead output file for batch scoring: rows are appended batch by batch and each batch is flushed to disk
/// (<see cref="FileStream.Flush(bool)"/> with <c>flushToDisk</c>), so a crash loses at most the batch being written. Opening
/// with <c>resume</c> keeps the complete rows already there (a torn last record is cut off) and reports how many there are.
/// </summary>
/// <remarks>
/// CSV/TSV and JSON Lines are appended in place. ML.NET binary (<c>.idv</c>) ends with a trailer and cannot be appended to, so
/// rows are journaled to <c>OUTPUT.partial.jsonl</c> while the job runs (a resume reads that journal) and
/// <see cref="Complete"/> writes the <c>.idv</c> from it and deletes the journal.
/// </remarks>
public sealed class ScoreOutputWriter : IDisposable
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);
    private readonly DataFileFormat _format;
    private readonly char _separator;
    private readonly FileStream _stream;
    private bool _completed;

    private ScoreOutputWriter(string path, string appendPath, DataViewSchema schema, DataFileFormat format, FileStream stream, long existingRows)
    {
        Path = path;
        AppendPath = appendPath;
        Schema = schema;
        _format = format;
        _separator = DataFiles.SeparatorFor(path, null);
        _stream = stream;
        ExistingRows = existingRows;
    }

    /// <summary>The output file.</summary>
    public string Path { get; }

    /// <summary>The file rows are appended to: <see cref="Path"/>, or for <c>.idv</c> output its journal <c>Path.partial.jsonl</c>.</summary>
    public string AppendPath { get; }

    /// <summary>The output columns.</summary>
    public DataViewSchema Schema { get; }

    /// <summary>The complete rows found in the output when it was opened with resume (0 otherwise).</summary>
    public long ExistingRows { get; }

    /// <summary>Whether <paramref name="path"/>'s extension names an output format (.csv .tsv .tab .txt .jsonl .ndjson .idv).</summary>
    /// <param name="path">The output path.</param>
    /// <returns>Whether it can be written.</returns>
    public static bool IsSupported(string path)
    {
        try
        {
            _ = DataFiles.FormatOf(path);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Opens (creates, or with <paramref name="resume"/> continues) an output file.</summary>
    /// <param name="path">The output file; the format comes from its extension.</param>
    /// <param name="schema">The output columns.</param>
    /// <param name="resume">Keep the complete rows already written (cutting off a torn last record) instead of starting over.</param>
    /// <returns>The writer; <see cref="ExistingRows"/> says how many rows were kept.</returns>
    /// <exception cref="ArgumentException">The extension is not a known format.</exception>
    /// <exception cref="InvalidDataException">Resuming a CSV/TSV output whose header differs from <paramref name="schema"/>.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static ScoreOutputWriter Open(string path, DataViewSchema schema, bool resume)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(schema);
        DataFileFormat format = DataFiles.FormatOf(path);
        string appendPath = format == DataFileFormat.Binary ? path + ".partial.jsonl" : path;
        string? directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        if (resume && format == DataFileFormat.Binary && !File.Exists(appendPath) && File.Exists(path))
        {
            // A finished .idv: turn it back into a journal so the run can continue (or find nothing left to do).
            using FileStream journal = OpenAppend(appendPath, truncate: true);
            DataSavers.SaveAsJsonLines(new BinaryDataView(path), journal, new SaveOptions(), CancellationToken.None);
            journal.Flush(flushToDisk: true);
        }

        bool text = format == DataFileFormat.Text;
        FileStream stream = OpenAppend(appendPath, truncate: !resume);
        try
        {
            long rows = 0;
            byte[] header = text ? HeaderBytes(schema, DataFiles.SeparatorFor(path, null)) : [];
            if (stream.Length > 0)
            {
                (long records, long validLength, long firstRecordEnd) = ScanRecords(stream, quoted: text);
                if (validLength < stream.Length)
                {
                    stream.SetLength(validLength);
                    stream.Flush(flushToDisk: true);
                }

                if (text && records > 0)
                {
                    var found = new byte[firstRecordEnd];
                    stream.Position = 0;
                    stream.ReadExactly(found);
                    if (!found.AsSpan().SequenceEqual(header))
                    {
                        throw new InvalidDataException(
                            $"Cannot resume '{path}': its header '{Encoding.UTF8.GetString(found).TrimEnd('\r', '\n')}' differs from this job's columns '{Encoding.UTF8.GetString(header).TrimEnd('\n')}'.");
                    }
                }

                if (!text && records > 0)
                {
                    var first = new byte[firstRecordEnd];
                    stream.Position = 0;
                    stream.ReadExactly(first);
                    string[] names = PropertyNames(first);
                    if (!names.SequenceEqual(schema.Select(c => c.Name)))
                    {
                        throw new InvalidDataException(
                            $"Cannot resume '{appendPath}': its rows have the properties ({string.Join(", ", names)}), not this job's columns ({string.Join(", ", schema.Select(c => c.Name))}).");
                    }
                }

                rows = text ? Math.Max(0, records - 1) : records;
            }

            stream.Seek(0, SeekOrigin.End);
            if (text && stream.Length == 0)
            {
                stream.Write(header);
                stream.Flush(flushToDisk: true);
            }

            return new ScoreOutputWriter(path, appendPath, schema, format, stream, rows);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Appends one batch of rows (of <see cref="Schema"/>) and flushes it to disk.</summary>
    /// <param name="batch">The rows.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <exception cref="ArgumentException">The batch's columns differ from <see cref="Schema"/>.</exception>
    public void Append(DataBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(_completed, this);
        if (batch.Schema.Count != Schema.Count || batch.Schema.Zip(Schema).Any(p => p.First.Name != p.Second.Name || !p.First.Type.Equals(p.Second.Type)))
        {
            throw new ArgumentException($"The batch's columns ({batch.Schema}) differ from the output's ({Schema}).", nameof(batch));
        }

        if (batch.RowCount == 0)
        {
            return;
        }

        var view = new SingleBatchView(batch, batch.Schema);
        var options = new SaveOptions { WriteHeader = false, BatchSize = batch.RowCount };
        if (_format == DataFileFormat.Text)
        {
            DataSavers.SaveAsText(view, _stream, _separator, options, cancellationToken);
        }
        else
        {
            DataSavers.SaveAsJsonLines(view, _stream, options, cancellationToken);
        }

        _stream.Flush(flushToDisk: true);
    }

    /// <summary>Finishes the output: for <c>.idv</c>, writes the binary file from the journal and deletes the journal.</summary>
    /// <param name="cancellationToken">Cancellation.</param>
    public void Complete(CancellationToken cancellationToken = default)
    {
        if (_completed)
        {
            return;
        }

        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        _completed = true;
        if (_format != DataFileFormat.Binary)
        {
            return;
        }

        var journal = new JsonLinesDataView(AppendPath, new LoadOptions { Columns = Schema.Select(c => new LoaderColumn(c.Name, c.Type)).ToArray() });
        string temporary = Path + ".tmp";
        using (FileStream output = DataFiles.Create(temporary))
        {
            DataSavers.SaveAsBinary(journal, output, new SaveOptions(), cancellationToken);
            output.Flush(flushToDisk: true);
        }

        File.Move(temporary, Path, overwrite: true);
        File.Delete(AppendPath);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_completed)
        {
            _stream.Dispose();
            _completed = true;
        }
    }

    private static FileStream OpenAppend(string path, bool truncate)
    {
        try
        {
            return new FileStream(path, truncate ? FileMode.Create : FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"The output file '{path}' cannot be written: {e.Message}", e);
        }
    }

    private static string[] PropertyNames(byte[] line)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(line);
            return doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object ? doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray() : [];
        }
        catch (System.Text.Json.JsonException)
        {
            return [];
        }
    }

    private static byte[] HeaderBytes(DataViewSchema schema, char separator)
    {
        using var buffer = new MemoryStream();
        DataSavers.SaveAsText(new SingleBatchView(null, schema), buffer, separator, new SaveOptions(), CancellationToken.None);
        return buffer.ToArray();
    }

    /// <summary>
    /// Counts complete records (each ends with a line feed; in CSV/TSV a line feed inside quotes does not end one) and finds
    /// where the last one ends and where the first one ends.
    /// </summary>
    private static (long Records, long ValidLength, long FirstRecordEnd) ScanRecords(FileStream stream, bool quoted)
    {
        stream.Position = 0;
        var buffer = new byte[1 << 16];
        long records = 0, validLength = 0, firstEnd = 0, position = 0;
        bool inQuotes = false;
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            for (int i = 0; i < read; i++)
            {
                byte b = buffer[i];
                if (quoted && b == (byte)'"')
                {
                    inQuotes = !inQuotes;
                }
                else if (b == (byte)'\n' && !inQuotes)
                {
                    records++;
                    validLength = position + i + 1;
                    if (records == 1)
                    {
                        firstEnd = validLength;
                    }
                }
            }

            position += read;
        }

        return (records, validLength, firstEnd);
    }

    /// <summary>A view of one batch (or of no rows), for the savers.</summary>
    private sealed class SingleBatchView(DataBatch? batch, DataViewSchema schema) : IDataView
    {
        public DataViewSchema Schema => schema;

        public long? GetRowCount() => batch?.RowCount ?? 0;

        public IEnumerable<DataBatch> GetBatches(int maxRows, CancellationToken cancellationToken = default)
        {
            if (batch is not null && batch.RowCount > 0)
            {
                yield return batch;
            }
        }
    }
}
