using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace MLNetTransformers.Data.IO;

/// <summary>
/// Decodes strict UTF-8 from a stream one char at a time. Its own decoder (not a StreamReader) so that invalid bytes surface
/// only after every valid char before them was read: the reader above then knows the exact line to report.
/// </summary>
internal sealed class Utf8CharReader : IDisposable
{
    private readonly Stream _stream;
    private readonly byte[] _bytes = new byte[1 << 16];
    private readonly char[] _chars = new char[1 << 16];
    private int _byteStart;
    private int _byteEnd;
    private int _charPos;
    private int _charEnd;
    private bool _eof;
    private bool _invalid;
    private bool _started;
    private readonly bool _lenient;

    /// <summary>Creates the reader.</summary>
    /// <param name="stream">The bytes.</param>
    /// <param name="lenient">Instead of throwing at invalid bytes, deliver U+FFFD for each invalid sequence and count it in
    /// <see cref="InvalidSequences"/> (the count goes up when that char is peeked or read, so a caller can tell which record had it).</param>
    public Utf8CharReader(Stream stream, bool lenient = false)
    {
        _stream = stream;
        _lenient = lenient;
    }

    /// <summary>Invalid byte sequences replaced so far (lenient mode).</summary>
    public long InvalidSequences { get; private set; }

    /// <summary>The next char without consuming it, or -1 at the end.</summary>
    /// <exception cref="DecoderFallbackException">The next bytes are not valid UTF-8.</exception>
    public int Peek() => _charPos < _charEnd || Fill() ? _chars[_charPos] : -1;

    /// <summary>Consumes the next char, or returns -1 at the end.</summary>
    /// <exception cref="DecoderFallbackException">The next bytes are not valid UTF-8.</exception>
    public int Read() => _charPos < _charEnd || Fill() ? _chars[_charPos++] : -1;

    private bool Fill()
    {
        _charPos = 0;
        _charEnd = 0;
        while (true)
        {
            if (_invalid && _lenient)
            {
                // One replacement char for the invalid sequence, delivered alone so the count rises exactly when it is reached.
                _invalid = false;
                Rune.DecodeFromUtf8(_bytes.AsSpan(_byteStart, _byteEnd - _byteStart), out _, out int skip);
                _byteStart += Math.Max(1, skip);
                _started = true;
                _chars[0] = '\uFFFD';
                _charEnd = 1;
                InvalidSequences++;
                return true;
            }

            if (_invalid)
            {
                throw new DecoderFallbackException("The bytes are not valid UTF-8.");
            }

            if (_byteEnd > _byteStart)
            {
                OperationStatus status = Utf8.ToUtf16(_bytes.AsSpan(_byteStart, _byteEnd - _byteStart), _chars, out int read, out int written,
                    replaceInvalidSequences: false, isFinalBlock: _eof);
                _byteStart += read;
                if (status == OperationStatus.InvalidData)
                {
                    _invalid = true; // the chars decoded before the bad bytes are still delivered first
                }

                if (!_started && written > 0)
                {
                    _started = true;
                    if (_chars[0] == '\uFEFF')
                    {
                        _charPos = 1;
                    }
                }

                _charEnd = written;
                if (_charEnd > _charPos)
                {
                    return true;
                }

                if (_invalid)
                {
                    continue;
                }
            }

            if (_eof)
            {
                return false;
            }

            if (_byteStart > 0)
            {
                Buffer.BlockCopy(_bytes, _byteStart, _bytes, 0, _byteEnd - _byteStart);
                _byteEnd -= _byteStart;
                _byteStart = 0;
            }

            int n = _stream.Read(_bytes, _byteEnd, _bytes.Length - _byteEnd);
            if (n == 0)
            {
                _eof = true;
            }

            _byteEnd += n;
        }
    }

    public void Dispose() => _stream.Dispose();
}
