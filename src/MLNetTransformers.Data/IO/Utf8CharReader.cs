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

    public Utf8CharReader(Stream stream) => _stream = stream;

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
            if (_invalid)
                throw new DecoderFallbackException("The bytes are not valid UTF-8.");
            if (_byteEnd > _byteStart)
            {
                OperationStatus status = Utf8.ToUtf16(_bytes.AsSpan(_byteStart, _byteEnd - _byteStart), _chars, out int read, out int written,
                    replaceInvalidSequences: false, isFinalBlock: _eof);
                _byteStart += read;
                if (status == OperationStatus.InvalidData)
                    _invalid = true; // the chars decoded before the bad bytes are still delivered first
                if (!_started && written > 0)
                {
                    _started = true;
                    if (_chars[0] == '\uFEFF')
                        _charPos = 1;
                }

                _charEnd = written;
                if (_charEnd > _charPos)
                    return true;
                if (_invalid)
                    continue;
            }

            if (_eof)
                return false;
            if (_byteStart > 0)
            {
                Buffer.BlockCopy(_bytes, _byteStart, _bytes, 0, _byteEnd - _byteStart);
                _byteEnd -= _byteStart;
                _byteStart = 0;
            }

            int n = _stream.Read(_bytes, _byteEnd, _bytes.Length - _byteEnd);
            if (n == 0)
                _eof = true;
            _byteEnd += n;
        }
    }

    public void Dispose() => _stream.Dispose();
}
