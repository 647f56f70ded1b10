using System.Globalization;
using System.Text;

namespace MLNetTransformers.Tokenizers.PreTokenizers;

/// <summary>
/// A hand-written matcher equivalent to GPT-2's pre-tokenization regex
/// <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>, working on code points (so letters outside
/// the BMP count as letters, as in the Rust implementation) and in linear time.
/// </summary>
internal static class Gpt2Pattern
{
    private enum Kind : byte
    {
        Letter,
        Number,
        Space,
        Other,
    }

    /// <summary>Appends the match ranges of the pattern over <paramref name="text"/> (they cover the whole text).</summary>
    public static void Matches(ReadOnlySpan<char> text, List<(int Start, int End)> output)
    {
        int i = 0;
        while (i < text.Length)
        {
            int end = MatchAt(text, i);
            output.Add((i, end));
            i = end;
        }
    }

    /// <summary>The end of the match that starts at <paramref name="i"/> (matches tile the text).</summary>
    public static int MatchAt(ReadOnlySpan<char> text, int i)
    {
        char c = text[i];
        if (c == '\'' && i + 1 < text.Length)
        {
            char n = text[i + 1];
            if (n is 's' or 't' or 'm' or 'd')
            {
                return i + 2;
            }

            if (i + 2 < text.Length && ((n == 'r' && text[i + 2] == 'e') || (n == 'v' && text[i + 2] == 'e') || (n == 'l' && text[i + 2] == 'l')))
            {
                return i + 3;
            }
        }

        int start = i;
        if (c == ' ' && i + 1 < text.Length)
        {
            Kind next = KindAt(text, i + 1, out _);
            if (next != Kind.Space)
            {
                return RunOf(text, i + 1, next);
            }
        }

        Kind kind = KindAt(text, i, out int width);
        if (kind != Kind.Space)
        {
            return RunOf(text, i, kind);
        }

        // \s+(?!\S) then \s+: a whitespace run, leaving its last unit to the next token when a non-space follows it.
        int runEnd = RunOf(text, start, Kind.Space);
        if (runEnd == text.Length)
        {
            return runEnd;
        }

        int lastWidth = runEnd - 2 >= start && char.IsLowSurrogate(text[runEnd - 1]) && char.IsHighSurrogate(text[runEnd - 2]) ? 2 : 1;
        int shortened = runEnd - lastWidth;
        return shortened > start ? shortened : start + width;
    }

    private static int RunOf(ReadOnlySpan<char> text, int i, Kind kind)
    {
        while (i < text.Length)
        {
            if (KindAt(text, i, out int width) != kind)
            {
                break;
            }

            i += width;
        }

        return i;
    }

    private static Kind KindAt(ReadOnlySpan<char> text, int i, out int width)
    {
        char c = text[i];
        if (c < 0x80)
        {
            width = 1;
            return AsciiKinds[c];
        }

        if (Rune.DecodeFromUtf16(text[i..], out Rune rune, out width) != System.Buffers.OperationStatus.Done)
        {
            width = 1;
            return Kind.Other; // a lone surrogate is neither letter, number nor space
        }

        if (Rune.IsWhiteSpace(rune))
        {
            return Kind.Space;
        }

        UnicodeCategory category = Rune.GetUnicodeCategory(rune);
        return category switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Kind.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Kind.Number,
            _ => Kind.Other,
        };
    }

    private static readonly Kind[] AsciiKinds = BuildAscii();

    private static Kind[] BuildAscii()
    {
        var kinds = new Kind[128];
        for (int c = 0; c < 128; c++)
        {
            kinds[c] = char.IsAsciiLetter((char)c) ? Kind.Letter
                : char.IsAsciiDigit((char)c) ? Kind.Number
                : char.IsWhiteSpace((char)c) ? Kind.Space
                : Kind.Other;
        }

        return kinds;
    }
}
