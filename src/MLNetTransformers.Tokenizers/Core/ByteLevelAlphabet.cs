using System.Text;

namespace MLNetTransformers.Tokenizers.Core;

/// <summary>
/// GPT-2's reversible mapping of the 256 byte values to printable characters (<c>bytes_to_unicode</c>), so byte-level BPE
/// vocabularies are ordinary strings: printable Latin-1 bytes map to themselves, the others to U+0100 onwards.
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] s_byteToChar = Build();
    private static readonly short[] s_charToByte = BuildInverse();

    /// <summary>The character standing for <paramref name="value"/>.</summary>
    public static char ToChar(byte value) => s_byteToChar[value];

    /// <summary>The byte a character stands for, or -1 if it is not in the alphabet.</summary>
    public static int ToByte(char c) => c < s_charToByte.Length ? s_charToByte[c] : -1;

    /// <summary>Encodes text as UTF-8 and maps every byte (lone surrogates become U+FFFD first, as UTF-8 cannot hold them).</summary>
    public static string Encode(ReadOnlySpan<char> text)
    {
        int byteCount = Encoding.UTF8.GetByteCount(text);
        Span<byte> bytes = byteCount <= 512 ? stackalloc byte[byteCount] : new byte[byteCount];
        Encoding.UTF8.GetBytes(text, bytes);
        return string.Create(byteCount, bytes.ToArray(), static (span, source) =>
        {
            for (int i = 0; i < source.Length; i++)
            {
                span[i] = s_byteToChar[source[i]];
            }
        });
    }

    /// <summary>Maps characters back to bytes; characters outside the alphabet are encoded as UTF-8 as they are.</summary>
    public static void Decode(ReadOnlySpan<char> text, List<byte> output)
    {
        Span<byte> scratch = stackalloc byte[4];
        foreach (char c in text)
        {
            int value = ToByte(c);
            if (value >= 0)
            {
                output.Add((byte)value);
            }
            else
            {
                int written = Encoding.UTF8.GetBytes([c], scratch);
                for (int i = 0; i < written; i++)
                {
                    output.Add(scratch[i]);
                }
            }
        }
    }

    private static char[] Build()
    {
        var map = new char[256];
        var assigned = new bool[256];
        foreach (var (from, to) in new[] { ('!', '~'), ('¡', '¬'), ('®', 'ÿ') })
        {
            for (int b = from; b <= to; b++)
            {
                map[b] = (char)b;
                assigned[b] = true;
            }
        }

        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            if (!assigned[b])
            {
                map[b] = (char)next++;
            }
        }

        return map;
    }

    private static short[] BuildInverse()
    {
        var inverse = new short[324];
        Array.Fill(inverse, (short)-1);
        for (int b = 0; b < 256; b++)
        {
            inverse[s_byteToChar[b]] = (short)b;
        }

        return inverse;
    }
}
