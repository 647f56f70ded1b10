using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MLNetTransformers.Tokenizers.Core;
using MLNetTransformers.Tokenizers.PreTokenizers;

namespace MLNetTransformers.Tokenizers.Normalizers;

/// <summary>Rewrites text before pre-tokenization, keeping alignment to the original (Hugging Face's <c>normalizer</c>).</summary>
internal abstract class Normalizer
{
    public abstract NormalizedString Normalize(NormalizedString text);

    /// <summary>Rebuilds <paramref name="text"/> code point by code point; <paramref name="map"/> appends the replacement of each.</summary>
    protected static NormalizedString MapRunes(NormalizedString text, Func<Rune, StringBuilder, bool> map)
    {
        var builder = text.Transform();
        var replacement = new StringBuilder(8);
        int copyFrom = 0;
        int i = 0;
        string s = text.Text;
        while (i < s.Length)
        {
            Rune rune = Runes.At(s, i, out int width);
            replacement.Clear();
            if (map(rune, replacement))
            {
                builder.Copy(copyFrom, i);
                builder.Replace(replacement.ToString(), i, i + width);
                copyFrom = i + width;
            }

            i += width;
        }

        if (copyFrom == 0)
        {
            return text;
        }

        builder.Copy(copyFrom, s.Length);
        return builder.Build();
    }
}

internal sealed class SequenceNormalizer(IReadOnlyList<Normalizer> normalizers) : Normalizer
{
    public override NormalizedString Normalize(NormalizedString text)
    {
        foreach (Normalizer normalizer in normalizers)
        {
            text = normalizer.Normalize(text);
        }

        return text;
    }
}

/// <summary>Unicode normalization (NFC, NFD, NFKC, NFKD), applied per combining sequence so alignment stays precise.</summary>
internal sealed class UnicodeNormalizer : Normalizer
{
    private readonly NormalizationForm _form;

    public UnicodeNormalizer(NormalizationForm form)
    {
        EnsureAvailable(form);
        _form = form;
    }

    /// <summary>
    /// .NET normalizes through ICU; with <c>InvariantGlobalization</c> it silently returns text unchanged, which would give wrong
    /// tokens. Refuse instead, naming the fix.
    /// </summary>
    internal static void EnsureAvailable(NormalizationForm form)
    {
        if ("\u00E9".Normalize(NormalizationForm.FormD).Length != 2)
        {
            throw new NotSupportedException(
                $"This tokenizer needs Unicode normalization ({form}), which .NET does not perform when globalization is invariant "
                + "(InvariantGlobalization=true or DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1). Run with ICU (libicu) and invariant globalization off.");
        }
    }

    public override NormalizedString Normalize(NormalizedString text)
    {
        string s = text.Text;
        if (s.IsNormalized(_form))
        {
            return text;
        }

        var builder = text.Transform();
        int i = 0;
        while (i < s.Length)
        {
            // A segment is a starter followed by the marks (and conjoining jamo) that may combine with it.
            int start = i;
            Runes.At(s, i, out int width);
            i += width;
            while (i < s.Length)
            {
                Rune next = Runes.At(s, i, out int w);
                if (!Combines(next))
                {
                    break;
                }

                i += w;
            }

            string segment = s[start..i];
            string normalized = IsValidUtf16(segment) ? segment.Normalize(_form) : segment;
            if (normalized == segment)
            {
                builder.Copy(start, i);
            }
            else
            {
                builder.Replace(normalized, start, i);
            }
        }

        return builder.Build();
    }

    private static bool Combines(Rune rune) =>
        Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
        || (rune.Value >= 0x1160 && rune.Value <= 0x11FF) // Hangul medial vowels and final consonants
        || rune.Value == 0x3099 || rune.Value == 0x309A; // Japanese combining voiced marks

    private static bool IsValidUtf16(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(s[i]))
            {
                return false;
            }
        }

        return true;
    }
}

internal sealed class LowercaseNormalizer : Normalizer
{
    public override NormalizedString Normalize(NormalizedString text) => MapRunes(text, static (rune, output) =>
    {
        Rune lower = Rune.ToLowerInvariant(rune);
        if (lower == rune)
        {
            return false;
        }

        output.Append(lower.ToString());
        return true;
    });
}

/// <summary>Removes combining marks (Mn); used after NFD to strip accents.</summary>
internal sealed class StripAccentsNormalizer : Normalizer
{
    public override NormalizedString Normalize(NormalizedString text) => MapRunes(text, static (rune, _) => Rune.GetUnicodeCategory(rune) == UnicodeCategory.NonSpacingMark);
}

/// <summary>Removes leading and/or trailing whitespace.</summary>
internal sealed class StripNormalizer(bool left, bool right) : Normalizer
{
    public override NormalizedString Normalize(NormalizedString text)
    {
        string s = text.Text;
        int start = 0, end = s.Length;
        if (left)
        {
            while (start < end && char.IsWhiteSpace(s[start]))
            {
                start++;
            }
        }

        if (right)
        {
            while (end > start && char.IsWhiteSpace(s[end - 1]))
            {
                end--;
            }
        }

        return text.Slice(start, end);
    }
}

/// <summary>Prepends a string (aligned to the first character), unless the text is empty.</summary>
internal sealed class PrependNormalizer(string prefix) : Normalizer
{
    public override NormalizedString Normalize(NormalizedString text) =>
        text.Length == 0 ? text : text.Transform().Replace(prefix, 0, 1).Copy(0, text.Length).Build();
}

/// <summary>Replaces every match of a string or regex with fixed content.</summary>
internal sealed class ReplaceNormalizer(Regex pattern, string content) : Normalizer
{
    public override NormalizedString Normalize(NormalizedString text)
    {
        var matches = WhitespacePreTokenizer.RegexMatches(pattern, text.Text);
        if (matches.Count == 0)
        {
            return text;
        }

        var builder = text.Transform();
        int position = 0;
        foreach (var (start, end) in matches)
        {
            builder.Copy(position, start);
            builder.Replace(content, start, end);
            position = end;
        }

        builder.Copy(position, text.Length);
        return builder.Build();
    }
}

/// <summary>
/// BERT's normalizer: drop control characters and map whitespace to spaces, surround CJK ideographs with spaces, strip accents
/// (NFD then drop marks), lowercase.
/// </summary>
internal sealed class BertNormalizer(bool cleanText, bool handleChineseChars, bool? stripAccents, bool lowercase) : Normalizer
{
    private readonly UnicodeNormalizer? _nfd = stripAccents ?? lowercase ? new UnicodeNormalizer(NormalizationForm.FormD) : null;
    private static readonly StripAccentsNormalizer StripMarks = new();
    private static readonly LowercaseNormalizer Lower = new();

    public override NormalizedString Normalize(NormalizedString text)
    {
        if (cleanText)
        {
            text = MapRunes(text, static (rune, output) =>
            {
                int c = rune.Value;
                if (c == 0 || c == 0xFFFD || IsControl(rune))
                {
                    return true; // removed
                }

                if (c != ' ' && Rune.IsWhiteSpace(rune))
                {
                    output.Append(' ');
                    return true;
                }

                return false;
            });
        }

        if (handleChineseChars)
        {
            text = MapRunes(text, static (rune, output) =>
            {
                if (!IsChineseChar(rune.Value))
                {
                    return false;
                }

                output.Append(' ').Append(rune.ToString()).Append(' ');
                return true;
            });
        }

        if (_nfd is not null)
        {
            text = StripMarks.Normalize(_nfd.Normalize(text));
        }

        if (lowercase)
        {
            text = Lower.Normalize(text);
        }

        return text;
    }

    /// <summary>Rust's <c>is_other</c> (Cc, Cf, Cs, Co, Cn) except tab, newline and carriage return.</summary>
    private static bool IsControl(Rune rune) =>
        rune.Value is not ('\t' or '\n' or '\r')
        && Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.PrivateUse
            or UnicodeCategory.Surrogate or UnicodeCategory.OtherNotAssigned;

    private static bool IsChineseChar(int c) =>
        (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F)
        || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/// <summary>Maps text to GPT-2's byte-level alphabet without splitting it.</summary>
internal sealed class ByteLevelNormalizer : Normalizer
{
    public override NormalizedString Normalize(NormalizedString text) => ByteLevelPreTokenizer.ToByteLevel(text);
}
