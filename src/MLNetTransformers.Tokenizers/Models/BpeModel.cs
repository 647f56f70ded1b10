using System.Collections.Concurrent;
using System.Text;

namespace MLNetTransformers.Tokenizers.Models;

/// <summary>
/// Byte-pair encoding with ranked merges (GPT-2, RoBERTa, Llama, Mistral, ...): <c>byte_fallback</c> to <c>&lt;0xXX&gt;</c>
/// tokens, <c>continuing_subword_prefix</c>, <c>end_of_word_suffix</c>, <c>ignore_merges</c> (Llama-3), <c>unk_token</c> with
/// <c>fuse_unk</c>. Merging a word is O(n log n) with a priority queue; results are cached per word (thread-safe).
/// </summary>
internal sealed class BpeModel : TokenizerModel
{
    private const int CacheCapacity = 100_000;
    private const int MaxCachedWordLength = 256;

    private readonly Dictionary<string, int> _vocabulary;
    private readonly string?[] _tokens;
    private readonly Dictionary<long, (int Rank, int Id)> _merges;
    private readonly int _unkId;
    private readonly string? _prefix;
    private readonly string? _suffix;
    private readonly bool _fuseUnk;
    private readonly bool _byteFallback;
    private readonly bool _ignoreMerges;
    private readonly int[] _byteIds;
    private readonly ConcurrentDictionary<string, ModelToken[]> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ModelToken[]>.AlternateLookup<ReadOnlySpan<char>> _cacheBySpan;
    private readonly bool _splitBeforeMetaspace;

    public BpeModel(
        Dictionary<string, int> vocabulary,
        IReadOnlyList<(string Left, string Right)> merges,
        string? unkToken,
        string? continuingSubwordPrefix,
        string? endOfWordSuffix,
        bool fuseUnk,
        bool byteFallback,
        bool ignoreMerges)
    {
        _vocabulary = vocabulary;
        _tokens = InvertVocabulary(vocabulary);
        _prefix = string.IsNullOrEmpty(continuingSubwordPrefix) ? null : continuingSubwordPrefix;
        _suffix = string.IsNullOrEmpty(endOfWordSuffix) ? null : endOfWordSuffix;
        _fuseUnk = fuseUnk;
        _byteFallback = byteFallback;
        _ignoreMerges = ignoreMerges;
        UnkToken = unkToken;
        _unkId = unkToken is not null && vocabulary.TryGetValue(unkToken, out int unk) ? unk : -1;

        _merges = new Dictionary<long, (int, int)>(merges.Count);
        int prefixLength = _prefix?.Length ?? 0;
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (!vocabulary.TryGetValue(left, out int leftId) || !vocabulary.TryGetValue(right, out int rightId))
            {
                throw new InvalidDataException($"BPE merge #{rank} '{left} {right}': a side is not in the vocabulary.");
            }

            string merged = left + (prefixLength > 0 && right.StartsWith(_prefix!, StringComparison.Ordinal) ? right[prefixLength..] : right);
            if (!vocabulary.TryGetValue(merged, out int mergedId))
            {
                throw new InvalidDataException($"BPE merge #{rank} '{left} {right}': the merged token '{merged}' is not in the vocabulary.");
            }

            _merges.TryAdd(Key(leftId, rightId), (rank, mergedId));
        }

        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<char>>();

        // SentencePiece-style vocabularies mark word starts with '▁'. When no token holds '▁' after another character, no
        // merge can cross the point before a word's leading '▁' run, so a long piece can be merged word by word with the same
        // result (and the per-word cache) instead of as one huge sequence.
        _splitBeforeMetaspace = _prefix is null && _suffix is null
            && vocabulary.ContainsKey(Metaspace.ToString())
            && vocabulary.Keys.Any(t => t.Length > 1 && t[0] == Metaspace)
            && !vocabulary.Keys.Any(HasMetaspaceAfterOtherChar);

        _byteIds = new int[256];
        for (int b = 0; b < 256; b++)
        {
            _byteIds[b] = vocabulary.TryGetValue($"<0x{b:X2}>", out int id) ? id : -1;
        }
    }

    private const char Metaspace = '\u2581';

    public string? UnkToken { get; }

    public override int VocabularySize => _tokens.Length;

    public override bool TryGetId(string token, out int id) => _vocabulary.TryGetValue(token, out id);

    public override string? GetToken(int id) => (uint)id < (uint)_tokens.Length ? _tokens[id] : null;

    public override void Tokenize(string text, List<ModelToken> output)
    {
        if (text.Length == 0)
        {
            return;
        }

        if (_ignoreMerges && _vocabulary.TryGetValue(text, out int whole))
        {
            output.Add(new ModelToken(whole, 0, text.Length));
            return;
        }

        if (_splitBeforeMetaspace && text.Length > 16)
        {
            int chunkStart = 0;
            for (int i = 1; i <= text.Length; i++)
            {
                if (i == text.Length || (text[i] == Metaspace && text[i - 1] != Metaspace))
                {
                    TokenizeWord(text, chunkStart, i - chunkStart, output);
                    chunkStart = i;
                }
            }

            return;
        }

        TokenizeWord(text, 0, text.Length, output);
    }

    /// <summary>Tokens of a cached word, looked up without allocating; null when the word is not cached yet.</summary>
    public ModelToken[]? TryGetCached(ReadOnlySpan<char> word) => _cacheBySpan.TryGetValue(word, out ModelToken[]? tokens) ? tokens : null;

    /// <summary>Merges <paramref name="text"/>[<paramref name="start"/>..+<paramref name="length"/>] (through the cache), offsets relative to <paramref name="text"/>.</summary>
    private void TokenizeWord(string text, int start, int length, List<ModelToken> output)
    {
        ReadOnlySpan<char> span = text.AsSpan(start, length);
        if (!_cacheBySpan.TryGetValue(span, out ModelToken[]? tokens))
        {
            string word = start == 0 && length == text.Length ? text : span.ToString();
            var merged = new List<ModelToken>(Math.Min(length, 16));
            Merge(word, merged);
            tokens = merged.ToArray();
            if (length <= MaxCachedWordLength && _cache.Count < CacheCapacity)
            {
                _cache.TryAdd(word, tokens);
            }
        }

        if (start == 0)
        {
            output.AddRange(tokens);
            return;
        }

        foreach (ModelToken token in tokens)
        {
            output.Add(new ModelToken(token.Id, token.Start + start, token.End + start));
        }
    }

    private static bool HasMetaspaceAfterOtherChar(string token)
    {
        for (int i = 1; i < token.Length; i++)
        {
            if (token[i] == Metaspace && token[i - 1] != Metaspace)
            {
                return true;
            }
        }

        return false;
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    private struct Symbol
    {
        public int Id;
        public int Start;
        public int End;
        public int Prev;
        public int Next;
        public bool IsBytes;
    }

    private void Merge(string word, List<ModelToken> output)
    {
        var symbols = new List<Symbol>(word.Length);
        int i = 0;
        while (i < word.Length)
        {
            int width = char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
            bool first = i == 0;
            bool last = i + width == word.Length;
            string piece = word.Substring(i, width);
            if (!first && _prefix is not null)
            {
                piece = _prefix + piece;
            }

            if (last && _suffix is not null)
            {
                piece += _suffix;
            }

            if (_vocabulary.TryGetValue(piece, out int id))
            {
                AddSymbol(symbols, id, i, i + width, isBytes: false);
            }
            else if (_byteFallback && TryAddBytes(symbols, word.AsSpan(i, width), i, i + width))
            {
            }
            else if (_unkId >= 0)
            {
                if (_fuseUnk && symbols.Count > 0 && symbols[^1].Id == _unkId)
                {
                    Symbol previous = symbols[^1];
                    previous.End = i + width;
                    symbols[^1] = previous;
                }
                else
                {
                    AddSymbol(symbols, _unkId, i, i + width, isBytes: false);
                }
            }

            i += width;
        }

        if (symbols.Count > 1)
        {
            ApplyMerges(symbols);
        }

        for (int s = 0; s < symbols.Count; s++)
        {
            if (symbols[s].Id >= 0)
            {
                output.Add(new ModelToken(symbols[s].Id, symbols[s].Start, symbols[s].End));
            }
        }
    }

    private bool TryAddBytes(List<Symbol> symbols, ReadOnlySpan<char> character, int start, int end)
    {
        Span<byte> bytes = stackalloc byte[8];
        int count = Encoding.UTF8.GetBytes(character, bytes);
        for (int b = 0; b < count; b++)
        {
            if (_byteIds[bytes[b]] < 0)
            {
                return false;
            }
        }

        for (int b = 0; b < count; b++)
        {
            AddSymbol(symbols, _byteIds[bytes[b]], start, end, isBytes: true);
        }

        return true;
    }

    private static void AddSymbol(List<Symbol> symbols, int id, int start, int end, bool isBytes) =>
        symbols.Add(new Symbol { Id = id, Start = start, End = end, Prev = symbols.Count - 1, Next = symbols.Count + 1, IsBytes = isBytes });

    private void ApplyMerges(List<Symbol> list)
    {
        Span<Symbol> symbols = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list);
        symbols[^1].Next = -1;
        var queue = new PriorityQueue<(int Left, int LeftId, int RightId, int NewId), (int Rank, int Position)>();
        for (int s = 0; s + 1 < symbols.Length; s++)
        {
            Enqueue(queue, symbols, s);
        }

        while (queue.TryDequeue(out var merge, out _))
        {
            ref Symbol left = ref symbols[merge.Left];
            if (left.Id != merge.LeftId || left.Next < 0 || left.Id < 0)
            {
                continue; // stale: the left symbol changed or was merged away
            }

            ref Symbol right = ref symbols[left.Next];
            if (right.Id != merge.RightId)
            {
                continue;
            }

            left.Id = merge.NewId;
            left.End = right.End;
            left.IsBytes = false;
            left.Next = right.Next;
            right.Id = -1;
            if (left.Next >= 0)
            {
                symbols[left.Next].Prev = merge.Left;
            }

            if (left.Prev >= 0)
            {
                Enqueue(queue, symbols, left.Prev);
            }

            Enqueue(queue, symbols, merge.Left);
        }
    }

    private void Enqueue(PriorityQueue<(int, int, int, int), (int, int)> queue, Span<Symbol> symbols, int leftIndex)
    {
        ref Symbol left = ref symbols[leftIndex];
        if (left.Next < 0)
        {
            return;
        }

        ref Symbol right = ref symbols[left.Next];
        if (_merges.TryGetValue(Key(left.Id, right.Id), out var merge))
        {
            queue.Enqueue((leftIndex, left.Id, right.Id, merge.Id), (merge.Rank, left.Start));
        }
    }
}
