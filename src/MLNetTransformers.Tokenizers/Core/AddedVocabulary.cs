using System.Globalization;
using System.Text;

namespace MLNetTransformers.Tokenizers.Core;

/// <summary>A token added on top of the model's vocabulary (tokenizer.json <c>added_tokens</c>).</summary>
/// <param name="Id">The token id.</param>
/// <param name="Content">The text that stands for the token.</param>
/// <param name="SingleWord">Match only as a whole word.</param>
/// <param name="LeftStrip">A match also takes the whitespace on its left.</param>
/// <param name="RightStrip">A match also takes the whitespace on its right.</param>
/// <param name="Normalized">Matched in the normalized text (otherwise in the raw input).</param>
/// <param name="Special">A special token (skipped by <c>Decode(skipSpecialTokens: true)</c>).</param>
public sealed record AddedToken(int Id, string Content, bool SingleWord = false, bool LeftStrip = false, bool RightStrip = false, bool Normalized = false, bool Special = true);

/// <summary>
/// Finds added tokens in text before the model sees it: leftmost match wins, the longest at a position; <c>single_word</c>,
/// <c>lstrip</c> and <c>rstrip</c> as Hugging Face defines them. Thread-safe after construction.
/// </summary>
internal sealed class AddedVocabulary
{
    private readonly Dictionary<char, AddedToken[]> _rawByFirstChar;
    private readonly Dictionary<char, AddedToken[]> _normalizedByFirstChar;

    public AddedVocabulary(IReadOnlyList<AddedToken> tokens, Func<string, string>? normalize)
    {
        Tokens = tokens;
        ById = tokens.GroupBy(t => t.Id).ToDictionary(g => g.Key, g => g.Last());
        var byContent = new Dictionary<string, AddedToken>(StringComparer.Ordinal);
        foreach (AddedToken token in tokens)
        {
            byContent[token.Content] = token;
        }

        ByContent = byContent;

        _rawByFirstChar = Index(tokens.Where(t => !t.Normalized && t.Content.Length > 0), t => t.Content);
        var normalizedContent = new Dictionary<AddedToken, string>();
        foreach (AddedToken token in tokens.Where(t => t.Normalized && t.Content.Length > 0))
        {
            normalizedContent[token] = normalize?.Invoke(token.Content) ?? token.Content;
        }

        NormalizedContent = normalizedContent;
        _normalizedByFirstChar = Index(normalizedContent.Keys.Where(t => normalizedContent[t].Length > 0), t => normalizedContent[t]);
    }

    public IReadOnlyList<AddedToken> Tokens { get; }

    public IReadOnlyDictionary<int, AddedToken> ById { get; }

    public IReadOnlyDictionary<string, AddedToken> ByContent { get; }

    private Dictionary<AddedToken, string> NormalizedContent { get; }

    public bool HasRawTokens => _rawByFirstChar.Count > 0;

    public bool HasNormalizedTokens => _normalizedByFirstChar.Count > 0;

    /// <summary>Finds raw-text added tokens: (start, end, token) ranges, sorted and non-overlapping.</summary>
    public List<(int Start, int End, AddedToken Token)> FindRaw(string text) => Find(text, _rawByFirstChar, t => t.Content);

    /// <summary>Finds normalized-text added tokens.</summary>
    public List<(int Start, int End, AddedToken Token)> FindNormalized(string text) => Find(text, _normalizedByFirstChar, t => NormalizedContent[t]);

    private static Dictionary<char, AddedToken[]> Index(IEnumerable<AddedToken> tokens, Func<AddedToken, string> content) =>
        tokens.GroupBy(t => content(t)[0]).ToDictionary(g => g.Key, g => g.OrderByDescending(t => content(t).Length).ToArray());

    private static List<(int, int, AddedToken)> Find(string text, Dictionary<char, AddedToken[]> byFirstChar, Func<AddedToken, string> content)
    {
        var matches = new List<(int, int, AddedToken)>();
        if (byFirstChar.Count == 0)
        {
            return matches;
        }

        int lastEnd = 0;
        int i = 0;
        while (i < text.Length)
        {
            if (!byFirstChar.TryGetValue(text[i], out AddedToken[]? candidates))
            {
                i++;
                continue;
            }

            AddedToken? found = null;
            foreach (AddedToken candidate in candidates)
            {
                string c = content(candidate);
                if (string.CompareOrdinal(text, i, c, 0, c.Length) == 0 && (!candidate.SingleWord || IsWholeWord(text, i, i + c.Length)))
                {
                    found = candidate;
                    break;
                }
            }

            if (found is null)
            {
                i++;
                continue;
            }

            int start = i;
            int end = i + content(found).Length;
            if (found.LeftStrip)
            {
                while (start > lastEnd && char.IsWhiteSpace(text[start - 1]))
                {
                    start--;
                }
            }

            if (found.RightStrip)
            {
                while (end < text.Length && char.IsWhiteSpace(text[end]))
                {
                    end++;
                }
            }

            matches.Add((start, end, found));
            lastEnd = end;
            i = end;
        }

        return matches;
    }

    private static bool IsWholeWord(string text, int start, int end)
    {
        bool before = start == 0 || !IsWordChar(text, start - 1, backwards: true);
        bool after = end == text.Length || !IsWordChar(text, end, backwards: false);
        return before && after;
    }

    private static bool IsWordChar(string text, int index, bool backwards)
    {
        if (backwards && index > 0 && char.IsLowSurrogate(text[index]) && char.IsHighSurrogate(text[index - 1]))
        {
            index--;
        }

        Rune rune = Rune.DecodeFromUtf16(text.AsSpan(index), out Rune r, out _) == System.Buffers.OperationStatus.Done ? r : Rune.ReplacementChar;
        return Rune.IsLetterOrDigit(rune) || rune.Value == '_' || Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark;
    }
}
