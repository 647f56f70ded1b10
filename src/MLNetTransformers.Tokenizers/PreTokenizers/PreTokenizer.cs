using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MLNetTransformers.Tokenizers.Core;

namespace MLNetTransformers.Tokenizers.PreTokenizers;

/// <summary>Splits normalized text into the pieces the model tokenizes independently (Hugging Face's <c>pre_tokenizer</c>).</summary>
internal abstract class PreTokenizer
{
    public abstract void PreTokenize(PreTokenizedString text);

    /// <summary>Unicode punctuation as BERT defines it: ASCII symbols and every P* category.</summary>
    internal static bool IsPunctuation(Rune rune)
    {
        int c = rune.Value;
        if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126))
        {
            return true;
        }

        return Rune.GetUnicodeCategory(rune) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    /// <summary>Ranges of the code points (in UTF-16 units) of <paramref name="text"/> that satisfy <paramref name="predicate"/>.</summary>
    internal static List<(int Start, int End)> CharMatches(string text, Func<Rune, bool> predicate)
    {
        var matches = new List<(int, int)>();
        int i = 0;
        while (i < text.Length)
        {
            Rune rune = Runes.At(text, i, out int width);
            if (predicate(rune))
            {
                matches.Add((i, i + width));
            }

            i += width;
        }

        return matches;
    }
}

/// <summary>Code-point helpers that treat a lone surrogate as U+FFFD of width 1.</summary>
internal static class Runes
{
    public static Rune At(string text, int index, out int width)
    {
        if (Rune.DecodeFromUtf16(text.AsSpan(index), out Rune rune, out width) != System.Buffers.OperationStatus.Done)
        {
            width = 1;
            return Rune.ReplacementChar;
        }

        return rune;
    }
}

/// <summary>Applies pre-tokenizers in order.</summary>
internal sealed class SequencePreTokenizer(IReadOnlyList<PreTokenizer> preTokenizers) : PreTokenizer
{
    public override void PreTokenize(PreTokenizedString text)
    {
        foreach (PreTokenizer preTokenizer in preTokenizers)
        {
            preTokenizer.PreTokenize(text);
        }
    }
}

/// <summary>
/// GPT-2's byte-level pre-tokenizer: optional prefix space, the GPT-2 split pattern, then every UTF-8 byte mapped to its
/// printable stand-in (see <see cref="ByteLevelAlphabet"/>).
/// </summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : PreTokenizer
{
    public bool AddPrefixSpace { get; } = addPrefixSpace;

    public bool UseRegex { get; } = useRegex;

    public override void PreTokenize(PreTokenizedString text)
    {
        if (AddPrefixSpace)
        {
            text.Transform((piece, _) => piece.Length > 0 && piece.Text[0] != ' '
                ? piece.Transform().Replace(" ", 0, 1).Copy(0, piece.Length).Build()
                : piece);
        }

        if (UseRegex)
        {
            var matches = new List<(int Start, int End)>();
            text.Split((piece, output) =>
            {
                matches.Clear();
                Gpt2Pattern.Matches(piece.Text, matches);
                foreach (var (start, end) in matches)
                {
                    output.Add(piece.Slice(start, end));
                }
            });
        }

        text.Transform((piece, _) => ToByteLevel(piece));
    }

    /// <summary>Maps a piece to byte-level characters, each aligned to the character whose UTF-8 bytes it stands for.</summary>
    internal static NormalizedString ToByteLevel(NormalizedString piece)
    {
        string source = piece.Text;
        bool ascii = System.Text.Ascii.IsValid(source);
        if (ascii && piece.IsIdentity)
        {
            return new NormalizedString(string.Create(source.Length, source, static (span, s) =>
            {
                for (int i = 0; i < s.Length; i++)
                {
                    span[i] = ByteLevelAlphabet.ToChar((byte)s[i]);
                }
            }), piece.Base);
        }

        var builder = piece.Transform();
        Span<byte> utf8 = stackalloc byte[4];
        Span<char> chars = stackalloc char[4];
        int i = 0;
        while (i < source.Length)
        {
            Rune rune = Runes.At(source, i, out int width);
            int count = rune.EncodeToUtf8(utf8);
            for (int b = 0; b < count; b++)
            {
                chars[b] = ByteLevelAlphabet.ToChar(utf8[b]);
            }

            builder.Replace(chars[..count], i, i + width);
            i += width;
        }

        return builder.Build();
    }
}

/// <summary>Splits on whitespace (dropped) and isolates every punctuation character (BERT).</summary>
internal sealed class BertPreTokenizer : PreTokenizer
{
    public override void PreTokenize(PreTokenizedString text)
    {
        text.Split((piece, output) =>
        {
            var spaces = CharMatches(piece.Text, Rune.IsWhiteSpace);
            var words = new List<NormalizedString>();
            Splitter.SplitByMatches(piece, spaces, SplitDelimiterBehavior.Removed, invert: false, words);
            foreach (NormalizedString word in words)
            {
                Splitter.SplitByMatches(word, CharMatches(word.Text, IsPunctuation), SplitDelimiterBehavior.Isolated, invert: false, output);
            }
        });
    }
}

/// <summary>Splits on whitespace, dropping it.</summary>
internal sealed class WhitespaceSplitPreTokenizer : PreTokenizer
{
    public override void PreTokenize(PreTokenizedString text) =>
        text.Split((piece, output) => Splitter.SplitByMatches(piece, CharMatches(piece.Text, Rune.IsWhiteSpace), SplitDelimiterBehavior.Removed, false, output));
}

/// <summary>Keeps runs of word characters and runs of other non-space characters: the pattern <c>\w+|[^\w\s]+</c>.</summary>
internal sealed class WhitespacePreTokenizer : PreTokenizer
{
    private static readonly Regex Pattern = new(@"\w+|[^\w\s]+", RegexOptions.Compiled | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(10));

    public override void PreTokenize(PreTokenizedString text) =>
        text.Split((piece, output) => Splitter.SplitByMatches(piece, RegexMatches(Pattern, piece.Text), SplitDelimiterBehavior.Removed, invert: true, output));

    internal static List<(int Start, int End)> RegexMatches(Regex regex, string text)
    {
        var matches = new List<(int, int)>();
        foreach (ValueMatch match in regex.EnumerateMatches(text))
        {
            if (match.Length > 0)
            {
                matches.Add((match.Index, match.Index + match.Length));
            }
        }

        return matches;
    }
}

/// <summary>Splits on a string or regex pattern with one of the five delimiter behaviors, optionally inverted.</summary>
internal sealed class SplitPreTokenizer(Regex pattern, SplitDelimiterBehavior behavior, bool invert) : PreTokenizer
{
    public override void PreTokenize(PreTokenizedString text) =>
        text.Split((piece, output) => Splitter.SplitByMatches(piece, WhitespacePreTokenizer.RegexMatches(pattern, piece.Text), behavior, invert, output));
}

/// <summary>Isolates (or otherwise splits at) punctuation characters.</summary>
internal sealed class PunctuationPreTokenizer(SplitDelimiterBehavior behavior) : PreTokenizer
{
    public override void PreTokenize(PreTokenizedString text) =>
        text.Split((piece, output) => Splitter.SplitByMatches(piece, CharMatches(piece.Text, IsPunctuation), behavior, false, output));
}

/// <summary>Splits digits from the rest: each digit alone, or runs of digits.</summary>
internal sealed class DigitsPreTokenizer(bool individualDigits) : PreTokenizer
{
    public override void PreTokenize(PreTokenizedString text) =>
        text.Split((piece, output) => Splitter.SplitByMatches(
            piece,
            CharMatches(piece.Text, r => Rune.IsDigit(r)),
            individualDigits ? SplitDelimiterBehavior.Isolated : SplitDelimiterBehavior.Contiguous,
            false,
            output));
}

/// <summary>Splits on one delimiter character, dropping it.</summary>
internal sealed class CharDelimiterSplitPreTokenizer(char delimiter) : PreTokenizer
{
    public override void PreTokenize(PreTokenizedString text) =>
        text.Split((piece, output) => Splitter.SplitByMatches(piece, CharMatches(piece.Text, r => r.Value == delimiter), SplitDelimiterBehavior.Removed, false, output));
}

/// <summary>When to prepend the Metaspace replacement character.</summary>
internal enum PrependScheme
{
    /// <summary>Before every piece.</summary>
    Always,
    /// <summary>Only before the piece that starts the input.</summary>
    First,
    /// <summary>Never.</summary>
    Never,
}

/// <summary>
/// SentencePiece-style whitespace: spaces become <c>▁</c>, a <c>▁</c> is prepended per <see cref="PrependScheme"/>, and pieces
/// are split before each <c>▁</c> when <c>split</c> is on.
/// </summary>
internal sealed class MetaspacePreTokenizer(char replacement, PrependScheme prependScheme, bool split) : PreTokenizer
{
    public char Replacement { get; } = replacement;

    public PrependScheme PrependScheme { get; } = prependScheme;

    public override void PreTokenize(PreTokenizedString text)
    {
        text.Transform((piece, _) =>
        {
            var builder = piece.Transform();
            bool prepend = PrependScheme == PrependScheme.Always
                || (PrependScheme == PrependScheme.First && piece.Length > 0 && piece.OriginalStart(0) == 0);
            if (prepend && piece.Length > 0 && piece.Text[0] != Replacement && piece.Text[0] != ' ')
            {
                builder.Replace(Replacement.ToString(), 0, 1);
            }

            int runStart = 0;
            for (int i = 0; i < piece.Length; i++)
            {
                if (piece.Text[i] == ' ')
                {
                    builder.Copy(runStart, i);
                    builder.Replace(Replacement.ToString(), i, i + 1);
                    runStart = i + 1;
                }
            }

            builder.Copy(runStart, piece.Length);
            return builder.Build();
        });

        if (split)
        {
            text.Split((piece, output) => Splitter.SplitByMatches(piece, CharMatches(piece.Text, r => r.Value == Replacement), SplitDelimiterBehavior.MergedWithNext, false, output));
        }
    }
}
