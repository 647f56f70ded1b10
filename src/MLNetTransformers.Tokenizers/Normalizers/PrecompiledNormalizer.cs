using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using MLNetTransformers.Tokenizers.Core;
using MLNetTransformers.Tokenizers.Json;

namespace MLNetTransformers.Tokenizers.Normalizers;

/// <summary>
/// SentencePiece's precompiled character map (T5, ALBERT, XLM-R, ...): a Darts double-array trie from UTF-8 sequences to their
/// normalized replacements. Applied as Hugging Face does: each extended grapheme cluster shorter than 6 UTF-8 bytes is replaced
/// by the replacement of its first (shortest) trie match, otherwise each character is looked up on its own.
/// </summary>
internal sealed class PrecompiledNormalizer : Normalizer
{
    private readonly uint[] _trie;
    private readonly byte[] _normalized;

    public PrecompiledNormalizer(byte[] charsmap)
    {
        if (charsmap.Length < 4)
        {
            throw new InvalidDataException("precompiled_charsmap is shorter than its 4-byte header.");
        }

        uint trieBytes = BinaryPrimitives.ReadUInt32LittleEndian(charsmap);
        if (trieBytes % 4 != 0 || 4 + (long)trieBytes > charsmap.Length)
        {
            throw new InvalidDataException($"precompiled_charsmap declares a trie of {trieBytes} bytes but holds {charsmap.Length - 4}.");
        }

        _trie = new uint[trieBytes / 4];
        for (int i = 0; i < _trie.Length; i++)
        {
            _trie[i] = BinaryPrimitives.ReadUInt32LittleEndian(charsmap.AsSpan(4 + (i * 4)));
        }

        _normalized = charsmap[(4 + (int)trieBytes)..];
    }

    public static PrecompiledNormalizer FromBase64(JsonSection section)
    {
        try
        {
            return new PrecompiledNormalizer(Convert.FromBase64String(section.AsString()));
        }
        catch (FormatException)
        {
            throw section.Invalid("precompiled_charsmap is not valid base64");
        }
        catch (InvalidDataException ex)
        {
            throw section.Invalid(ex.Message.TrimEnd('.'));
        }
    }

    public override NormalizedString Normalize(NormalizedString text)
    {
        string s = text.Text;
        if (s.Length == 0)
        {
            return text;
        }

        var builder = text.Transform();
        bool changed = false;
        int copyFrom = 0;
        TextElementEnumerator graphemes = StringInfo.GetTextElementEnumerator(s);
        while (graphemes.MoveNext())
        {
            int start = graphemes.ElementIndex;
            string grapheme = graphemes.GetTextElement();
            int end = start + grapheme.Length;
            if (Encoding.UTF8.GetByteCount(grapheme) < 6 && Transform(grapheme) is { } whole)
            {
                if (whole != grapheme)
                {
                    builder.Copy(copyFrom, start).Replace(whole, start, end);
                    copyFrom = end;
                    changed = true;
                }

                continue;
            }

            int i = start;
            while (i < end)
            {
                int width = char.IsHighSurrogate(s[i]) && i + 1 < end && char.IsLowSurrogate(s[i + 1]) ? 2 : 1;
                if (Transform(s.Substring(i, width)) is { } replacement && replacement != s.Substring(i, width))
                {
                    builder.Copy(copyFrom, i).Replace(replacement, i, i + width);
                    copyFrom = i + width;
                    changed = true;
                }

                i += width;
            }
        }

        if (!changed)
        {
            return text;
        }

        builder.Copy(copyFrom, s.Length);
        return builder.Build();
    }

    /// <summary>The replacement of the shortest trie key that is a prefix of <paramref name="chunk"/>'s UTF-8, if any.</summary>
    private string? Transform(string chunk)
    {
        Span<byte> bytes = stackalloc byte[Encoding.UTF8.GetMaxByteCount(chunk.Length)];
        int count = Encoding.UTF8.GetBytes(chunk, bytes);
        int value = FirstPrefixMatch(bytes[..count]);
        if (value < 0 || value >= _normalized.Length)
        {
            return null;
        }

        int end = Array.IndexOf(_normalized, (byte)0, value);
        return Encoding.UTF8.GetString(_normalized, value, (end < 0 ? _normalized.Length : end) - value);
    }

    private int FirstPrefixMatch(ReadOnlySpan<byte> key)
    {
        if (_trie.Length == 0)
        {
            return -1;
        }

        uint position = 0;
        position ^= Offset(_trie[position]);
        foreach (byte b in key)
        {
            if (b == 0)
            {
                break;
            }

            position ^= b;
            if (position >= _trie.Length)
            {
                return -1;
            }

            uint unit = _trie[position];
            if ((unit & 0x800000FF) != b)
            {
                return -1;
            }

            position ^= Offset(unit);
            if (((unit >> 8) & 1) == 1 && position < _trie.Length)
            {
                return (int)(_trie[position] & 0x7FFFFFFF);
            }
        }

        return -1;
    }

    private static uint Offset(uint unit) => (unit >> 10) << (int)((unit & (1u << 9)) >> 6);
}
