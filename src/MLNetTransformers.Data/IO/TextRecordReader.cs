using System.Text;

namespace MLNetTransformers.Data.IO;

/// <summary>
/// Reads RFC 4180 records (quoted fields, doubled quotes, line breaks inside quotes, LF or CRLF) or plain lines, counting lines
/// so that every error names the line it happened on. Blank lines between records are skipped.
/// </summary>
internal sealed class TextRecordReader : IDisposable
{
    private readonly Utf8CharReader _reader;
    private readonly string _path;
    private readonly StringBuilder _sb = new();
    private long _line = 1;

    /// <summary>Opens a file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="lenient">Read past invalid UTF-8 (as U+FFFD), flagging the record in <see cref="LastRecordHadInvalidUtf8"/>, instead of throwing.</param>
    public TextRecordReader(string path, bool lenient = false)
    {
        _path = path;
        _reader = new Utf8CharReader(DataFiles.OpenRead(path), lenient);
    }

    /// <summary>Whether the record or line read last held invalid UTF-8 (lenient mode only).</summary>
    public bool LastRecordHadInvalidUtf8 { get; private set; }

    /// <summary>Reads one record into <paramref name="fields"/>: text, or <see langword="null"/> for an unquoted empty field
    /// (so that a saved <see langword="null"/> and a saved empty text round-trip apart).</summary>
    /// <returns>False at the end of the file.</returns>
    public bool ReadRecord(char separator, List<string?> fields, out long startLine)
    {
        long invalidBefore = _reader.InvalidSequences;
        bool read = ReadRecordCore(separator, fields, out startLine);
        LastRecordHadInvalidUtf8 = _reader.InvalidSequences != invalidBefore;
        return read;
    }

    private bool ReadRecordCore(char separator, List<string?> fields, out long startLine)
    {
        fields.Clear();
        if (!SkipBlankLines())
        {
            startLine = _line;
            return false;
        }

        startLine = _line;
        while (true)
        {
            _sb.Clear();
            if (Peek() == '"')
            {
                long fieldLine = _line;
                Read();
                while (true)
                {
                    int d = Read();
                    if (d == -1)
                    {
                        throw new DataFormatException(_path, fieldLine, null, "A quoted field is not closed before the end of the file.");
                    }

                    if (d == '"')
                    {
                        if (Peek() != '"')
                        {
                            break;
                        }

                        Read();
                    }
                    else if (d == '\n')
                    {
                        _line++;
                    }

                    _sb.Append((char)d);
                }

                // Text after a closing quote is kept as is (lenient, like most CSV readers).
                for (int c = Peek(); c != -1 && c != separator && c != '\r' && c != '\n'; c = Peek())
                {
                    _sb.Append((char)Read());
                }

                fields.Add(_sb.ToString());
            }
            else
            {
                for (int c = Peek(); c != -1 && c != separator && c != '\r' && c != '\n'; c = Peek())
                {
                    _sb.Append((char)Read());
                }

                fields.Add(_sb.Length == 0 ? null : _sb.ToString());
            }

            int end = Read();
            if (end == separator)
            {
                continue;
            }

            EndLine(end);
            return true;
        }
    }

    /// <summary>Reads one non-blank line without its terminator.</summary>
    /// <returns>The line, or <see langword="null"/> at the end of the file.</returns>
    public string? ReadLine(out long line)
    {
        long invalidBefore = _reader.InvalidSequences;
        string? text = ReadLineCore(out line);
        LastRecordHadInvalidUtf8 = _reader.InvalidSequences != invalidBefore;
        return text;
    }

    private string? ReadLineCore(out long line)
    {
        if (!SkipBlankLines())
        {
            line = _line;
            return null;
        }

        line = _line;
        _sb.Clear();
        for (int c = Peek(); c != -1 && c != '\r' && c != '\n'; c = Peek())
        {
            _sb.Append((char)Read());
        }

        EndLine(Read());
        return _sb.ToString();
    }

    private void EndLine(int terminator)
    {
        if (terminator == '\r' && Peek() == '\n')
        {
            Read();
        }

        if (terminator != -1)
        {
            _line++;
        }
    }

    private bool SkipBlankLines()
    {
        while (true)
        {
            int c = Peek();
            if (c == -1)
            {
                return false;
            }

            if (c is not '\r' and not '\n')
            {
                return true;
            }

            EndLine(Read());
        }
    }

    private int Peek()
    {
        try
        {
            return _reader.Peek();
        }
        catch (DecoderFallbackException e)
        {
            throw new DataFormatException(_path, _line, null, "The text is not valid UTF-8.", e);
        }
    }

    private int Read()
    {
        try
        {
            return _reader.Read();
        }
        catch (DecoderFallbackException e)
        {
            throw new DataFormatException(_path, _line, null, "The text is not valid UTF-8.", e);
        }
    }

    public void Dispose() => _reader.Dispose();
}
