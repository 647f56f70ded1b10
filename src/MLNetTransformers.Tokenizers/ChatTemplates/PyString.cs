using System.Globalization;
using System.Text;

namespace MLNetTransformers.Tokenizers.ChatTemplates;

/// <summary>Python's <c>str</c> operations, on code points (Python strings are sequences of code points, not UTF-16 units).</summary>
internal static class PyString
{
    /// <summary>Python's <c>str.isspace</c> for one UTF-16 unit.</summary>
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || (c >= '\x1c' && c <= '\x1f');

    private static bool HasSurrogates(string s)
    {
        foreach (char c in s)
        {
            if (char.IsSurrogate(c))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The code points of s (a lone surrogate is its own code point, as in Python).</summary>
    public static int[] CodePoints(string s)
    {
        var result = new List<int>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                result.Add(char.ConvertToUtf32(c, s[i + 1]));
                i++;
            }
            else
            {
                result.Add(c);
            }
        }

        return [.. result];
    }

    public static string FromCodePoints(IEnumerable<int> codePoints)
    {
        var sb = new StringBuilder();
        foreach (int cp in codePoints)
        {
            AppendCodePoint(sb, cp);
        }

        return sb.ToString();
    }

    public static void AppendCodePoint(StringBuilder sb, int cp)
    {
        if (cp < 0x10000)
        {
            sb.Append((char)cp);
        }
        else
        {
            sb.Append(char.ConvertFromUtf32(cp));
        }
    }

    public static string CodePointToString(int cp) => cp < 0x10000 ? ((char)cp).ToString() : char.ConvertFromUtf32(cp);

    public static int Length(string s)
    {
        int n = s.Length;
        for (int i = 0; i + 1 < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && char.IsLowSurrogate(s[i + 1]))
            {
                n--;
                i++;
            }
        }

        return n;
    }

    /// <summary>The characters of s, one string per code point (iterating a str).</summary>
    public static IEnumerable<object?> Chars(string s)
    {
        if (!HasSurrogates(s))
        {
            foreach (char c in s)
            {
                yield return c.ToString();
            }

            yield break;
        }

        foreach (int cp in CodePoints(s))
        {
            yield return CodePointToString(cp);
        }
    }

    /// <summary><c>s[index]</c> (index already normalized to 0..len-1).</summary>
    public static string At(string s, int index) =>
        HasSurrogates(s) ? CodePointToString(CodePoints(s)[index]) : s[index].ToString();

    public static string Slice(string s, PySlice slice)
    {
        if (!HasSurrogates(s))
        {
            var (start, _, step, count) = slice.Indices(s.Length);
            if (step == 1)
            {
                return s.Substring((int)start, (int)count);
            }

            var sb = new StringBuilder((int)count);
            for (long i = 0, j = start; i < count; i++, j += step)
            {
                sb.Append(s[(int)j]);
            }

            return sb.ToString();
        }

        int[] cps = CodePoints(s);
        var (st, _, stp, n) = slice.Indices(cps.Length);
        var result = new StringBuilder();
        for (long i = 0, j = st; i < n; i++, j += stp)
        {
            AppendCodePoint(result, cps[(int)j]);
        }

        return result.ToString();
    }

    public static string Reverse(string s)
    {
        int[] cps = CodePoints(s);
        Array.Reverse(cps);
        return FromCodePoints(cps);
    }

    private static bool InChars(char c, string? chars) => chars is null ? IsSpace(c) : chars.Contains(c, StringComparison.Ordinal);

    public static string Strip(string s, string? chars = null) => RStrip(LStrip(s, chars), chars);

    public static string LStrip(string s, string? chars = null)
    {
        int i = 0;
        while (i < s.Length && InChars(s[i], chars))
        {
            i++;
        }

        return s[i..];
    }

    public static string RStrip(string s, string? chars = null)
    {
        int i = s.Length;
        while (i > 0 && InChars(s[i - 1], chars))
        {
            i--;
        }

        return s[..i];
    }

    /// <summary><c>str.split(sep=None, maxsplit=-1)</c>.</summary>
    public static List<object?> Split(string s, string? sep, long maxSplit)
    {
        var result = new List<object?>();
        if (sep is null)
        {
            int i = 0;
            while (true)
            {
                while (i < s.Length && IsSpace(s[i]))
                {
                    i++;
                }

                if (i >= s.Length)
                {
                    break;
                }

                if (maxSplit >= 0 && result.Count == maxSplit)
                {
                    result.Add(RStrip(s[i..]));
                    break;
                }

                int j = i;
                while (j < s.Length && !IsSpace(s[j]))
                {
                    j++;
                }

                result.Add(s[i..j]);
                i = j;
            }

            return result;
        }

        if (sep.Length == 0)
        {
            throw ChatTemplateException.Runtime("ValueError", "empty separator");
        }

        int start = 0;
        while (maxSplit < 0 || result.Count < maxSplit)
        {
            int k = s.IndexOf(sep, start, StringComparison.Ordinal);
            if (k < 0)
            {
                break;
            }

            result.Add(s[start..k]);
            start = k + sep.Length;
        }

        result.Add(s[start..]);
        return result;
    }

    /// <summary><c>str.rsplit(sep=None, maxsplit=-1)</c>.</summary>
    public static List<object?> RSplit(string s, string? sep, long maxSplit)
    {
        if (maxSplit < 0)
        {
            return Split(s, sep, maxSplit);
        }

        var result = new List<object?>();
        if (sep is null)
        {
            int i = s.Length;
            while (true)
            {
                while (i > 0 && IsSpace(s[i - 1]))
                {
                    i--;
                }

                if (i <= 0)
                {
                    break;
                }

                if (result.Count == maxSplit)
                {
                    result.Add(LStrip(s[..i]));
                    break;
                }

                int j = i;
                while (j > 0 && !IsSpace(s[j - 1]))
                {
                    j--;
                }

                result.Add(s[j..i]);
                i = j;
            }

            result.Reverse();
            return result;
        }

        if (sep.Length == 0)
        {
            throw ChatTemplateException.Runtime("ValueError", "empty separator");
        }

        int end = s.Length;
        while (result.Count < maxSplit)
        {
            int k = end - sep.Length < 0 ? -1 : s.LastIndexOf(sep, end - 1, end, StringComparison.Ordinal);
            if (k < 0 || k + sep.Length > end)
            {
                break;
            }

            result.Add(s[(k + sep.Length)..end]);
            end = k;
        }

        result.Add(s[..end]);
        result.Reverse();
        return result;
    }

    private static bool IsLineBreak(char c) => c is '\n' or '\r' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029';

    /// <summary><c>str.splitlines(keepends=False)</c>.</summary>
    public static List<object?> SplitLines(string s, bool keepEnds = false)
    {
        var result = new List<object?>();
        int i = 0;
        while (i < s.Length)
        {
            int j = i;
            while (j < s.Length && !IsLineBreak(s[j]))
            {
                j++;
            }

            int eol = j;
            if (j < s.Length)
            {
                j += s[j] == '\r' && j + 1 < s.Length && s[j + 1] == '\n' ? 2 : 1;
            }

            result.Add(keepEnds ? s[i..j] : s[i..eol]);
            i = j;
        }

        return result;
    }

    /// <summary><c>str.replace(old, new, count=-1)</c>.</summary>
    public static string Replace(string s, string old, string replacement, long count = -1)
    {
        if (count == 0)
        {
            return s;
        }

        if (old.Length == 0)
        {
            var sb = new StringBuilder();
            long n = 0;
            foreach (var ch in Chars(s))
            {
                if (count < 0 || n < count)
                {
                    sb.Append(replacement);
                    n++;
                }

                sb.Append((string)ch!);
            }

            if (count < 0 || n < count)
            {
                sb.Append(replacement);
            }

            return sb.ToString();
        }

        if (count < 0)
        {
            return s.Replace(old, replacement, StringComparison.Ordinal);
        }

        var result = new StringBuilder();
        int start = 0;
        for (long done = 0; done < count; done++)
        {
            int k = s.IndexOf(old, start, StringComparison.Ordinal);
            if (k < 0)
            {
                break;
            }

            result.Append(s, start, k - start).Append(replacement);
            start = k + old.Length;
        }

        return result.Append(s, start, s.Length - start).ToString();
    }

    public static string Upper(string s) => s.ToUpperInvariant().Replace("ß", "SS", StringComparison.Ordinal);

    public static string Lower(string s) => s.ToLowerInvariant();

    private static bool IsCased(Rune r) => Rune.IsUpper(r) || Rune.IsLower(r) || Rune.GetUnicodeCategory(r) == UnicodeCategory.TitlecaseLetter;

    /// <summary>Python's <c>str.title()</c>: a cased character after an uncased one starts a word.</summary>
    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool previousCased = false;
        foreach (Rune r in s.EnumerateRunes())
        {
            if (Rune.IsLower(r))
            {
                sb.Append(previousCased ? r.ToString() : Rune.ToUpperInvariant(r).ToString());
                previousCased = true;
            }
            else if (Rune.IsUpper(r) || Rune.GetUnicodeCategory(r) == UnicodeCategory.TitlecaseLetter)
            {
                sb.Append(previousCased ? Rune.ToLowerInvariant(r).ToString() : r.ToString());
                previousCased = true;
            }
            else
            {
                sb.Append(r.ToString());
                previousCased = IsCased(r);
            }
        }

        return sb.ToString();
    }

    /// <summary>Python's <c>str.capitalize()</c>.</summary>
    public static string Capitalize(string s)
    {
        if (s.Length == 0)
        {
            return s;
        }

        int firstLength = char.IsHighSurrogate(s[0]) && s.Length > 1 && char.IsLowSurrogate(s[1]) ? 2 : 1;
        return Upper(s[..firstLength]) + Lower(s[firstLength..]);
    }

    public static bool IsLowerStr(string s)
    {
        bool cased = false;
        foreach (Rune r in s.EnumerateRunes())
        {
            if (Rune.IsUpper(r) || Rune.GetUnicodeCategory(r) == UnicodeCategory.TitlecaseLetter)
            {
                return false;
            }

            cased |= Rune.IsLower(r);
        }

        return cased;
    }

    public static bool IsUpperStr(string s)
    {
        bool cased = false;
        foreach (Rune r in s.EnumerateRunes())
        {
            if (Rune.IsLower(r) || Rune.GetUnicodeCategory(r) == UnicodeCategory.TitlecaseLetter)
            {
                return false;
            }

            cased |= Rune.IsUpper(r);
        }

        return cased;
    }

    /// <summary>Python's <c>str.center(width)</c>.</summary>
    public static string Center(string s, long width, string fill = " ")
    {
        long len = Length(s);
        if (width <= len)
        {
            return s;
        }

        long marg = width - len;
        long left = (marg / 2) + (marg & width & 1);
        return Repeat(fill, left) + s + Repeat(fill, marg - left);
    }

    public static string Repeat(string s, long n) => n <= 0 ? "" : new StringBuilder(s.Length * (int)n).Insert(0, s, (int)n).ToString();

    public static string LJust(string s, long width, string fill = " ") => s + Repeat(fill, width - Length(s));

    public static string RJust(string s, long width, string fill = " ") => Repeat(fill, width - Length(s)) + s;

    /// <summary>Python's <c>str.find</c> on code points.</summary>
    public static long Find(string s, string sub, bool reverse = false)
    {
        int k = reverse ? s.LastIndexOf(sub, StringComparison.Ordinal) : s.IndexOf(sub, StringComparison.Ordinal);
        return k < 0 ? -1 : Length(s[..k]);
    }

    public static long Count(string s, string sub)
    {
        if (sub.Length == 0)
        {
            return Length(s) + 1;
        }

        long n = 0;
        for (int k = s.IndexOf(sub, StringComparison.Ordinal); k >= 0; k = s.IndexOf(sub, k + sub.Length, StringComparison.Ordinal))
        {
            n++;
        }

        return n;
    }
}
