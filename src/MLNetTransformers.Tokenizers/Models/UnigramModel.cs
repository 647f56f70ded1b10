using System.Collections.Concurrent;
using System.Text;

namespace MLNetTransformers.Tokenizers.Models;

/// <summary>
/// SentencePiece's Unigram language model (T5, ALBERT, XLNet, mBART, ...): the segmentation with the best total log
/// probability (Viterbi over a prefix trie of the vocabulary). A character no piece covers becomes the unknown token (scored
/// below every piece, consecutive unknowns fused) or, with <c>byte_fallback</c>, its <c>&lt;0xXX&gt;</c> byte pieces.
/// </summary>
internal sealed class UnigramModel : TokenizerModel
{
    private const double UnknownPenalty = 10.0;
    private const int CacheCapacity = 100_000;

    private readonly Dictionary<string, int> _vocabulary;
    private readonly string[] _pieces;
    private readonly double[] _scores;
    private readonly TrieNode _root = new();
    private readonly int _unkId;
    private readonly double _unkScore;
    private readonly bool _byteFallback;
    private readonly int[] _byteIds = new int[256];
    private readonly ConcurrentDictionary<string, ModelToken[]> _cache = new(StringComparer.Ordinal);

    public UnigramModel(IReadOnlyList<(string Piece, double Score)> vocabulary, int? unkId, bool byteFallback)
    {
        _pieces = new string[vocabulary.Count];
        _scores = new double[vocabulary.Count];
        _vocabulary = new Dictionary<string, int>(vocabulary.Count, StringComparer.Ordinal);
        double minScore = double.MaxValue;
        for (int id = 0; id < vocabulary.Count; id++)
        {
            var (piece, score) = vocabulary[id];
            _pieces[id] = piece;
            _scores[id] = score;
            _vocabulary.TryAdd(piece, id);
            minScore = Math.Min(minScore, score);
            if (piece.Length > 0 && id != unkId)
            {
                Insert(piece, id);
            }
        }

        if (unkId is { } unk && (unk < 0 || unk >= vocabulary.Count))
        {
            throw new InvalidDataException($"Unigram: unk_id {unk} is outside the vocabulary of {vocabulary.Count} pieces.");
        }

        _unkId = unkId ?? -1;
        _unkScore = minScore - UnknownPenalty;
        _byteFallback = byteFallback;
        for (int b = 0; b < 256; b++)
        {
            _byteIds[b] = _vocabulary.TryGetValue($"<0x{b:X2}>", out int id) ? id : -1;
        }
    }

    public override int VocabularySize => _pieces.Length;

    public int UnkId => _unkId;

    public override bool TryGetId(string token, out int id) => _vocabulary.TryGetValue(token, out id);

    public override string? GetToken(int id) => (uint)id < (uint)_pieces.Length ? _pieces[id] : null;

    public override void Tokenize(string text, List<ModelToken> output)
    {
        if (text.Length == 0)
        {
            return;
        }

        if (_cache.TryGetValue(text, out ModelToken[]? cached))
        {
            output.AddRange(cached);
            return;
        }

        int mark = output.Count;
        Viterbi(text, output);
        if (text.Length <= 256 && _cache.Count < CacheCapacity)
        {
            _cache.TryAdd(text, output.GetRange(mark, output.Count - mark).ToArray());
        }
    }

    private void Viterbi(string text, List<ModelToken> output)
    {
        int n = text.Length;
        var bestScore = new double[n + 1];
        var bestStart = new int[n + 1];
        var bestId = new int[n + 1];
        Array.Fill(bestScore, double.NegativeInfinity);
        Array.Fill(bestStart, -1);
        bestScore[0] = 0;
        for (int start = 0; start < n; start++)
        {
            if (double.IsNegativeInfinity(bestScore[start]))
            {
                continue;
            }

            int charWidth = char.IsHighSurrogate(text[start]) && start + 1 < n && char.IsLowSurrogate(text[start + 1]) ? 2 : 1;
            bool singleCharCovered = false;
            TrieNode? node = _root;
            for (int end = start; end < n && node is not null; end++)
            {
                node = node.Next(text[end]);
                if (node is null || node.Id < 0)
                {
                    continue;
                }

                int pieceEnd = end + 1;
                if (pieceEnd - start == charWidth)
                {
                    singleCharCovered = true;
                }

                // Pieces never end inside a surrogate pair.
                if (pieceEnd < n && char.IsLowSurrogate(text[pieceEnd]) && char.IsHighSurrogate(text[end]))
                {
                    continue;
                }

                double score = bestScore[start] + _scores[node.Id];
                if (score > bestScore[pieceEnd])
                {
                    bestScore[pieceEnd] = score;
                    bestStart[pieceEnd] = start;
                    bestId[pieceEnd] = node.Id;
                }
            }

            if (!singleCharCovered)
            {
                int end = start + charWidth;
                double score = bestScore[start] + _unkScore;
                if (score > bestScore[end])
                {
                    bestScore[end] = score;
                    bestStart[end] = start;
                    bestId[end] = -1; // unknown
                }
            }
        }

        var pieces = new List<(int Id, int Start, int End)>();
        for (int end = n; end > 0; end = bestStart[end])
        {
            pieces.Add((bestId[end], bestStart[end], end));
        }

        pieces.Reverse();
        int unknownStart = -1, unknownEnd = -1;
        foreach (var (id, start, end) in pieces)
        {
            if (id < 0)
            {
                if (unknownStart < 0)
                {
                    unknownStart = start;
                }

                unknownEnd = end;
                continue;
            }

            FlushUnknown(text, ref unknownStart, unknownEnd, output);
            output.Add(new ModelToken(id, start, end));
        }

        FlushUnknown(text, ref unknownStart, unknownEnd, output);
    }

    private void FlushUnknown(string text, ref int start, int end, List<ModelToken> output)
    {
        if (start < 0)
        {
            return;
        }

        if (_byteFallback)
        {
            // Each character becomes its UTF-8 byte pieces, all pointing at that character.
            Span<byte> bytes = stackalloc byte[4];
            int i = start;
            while (i < end)
            {
                int width = char.IsHighSurrogate(text[i]) && i + 1 < end && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
                int count = Encoding.UTF8.GetBytes(text.AsSpan(i, width), bytes);
                bool all = true;
                for (int b = 0; b < count; b++)
                {
                    all &= _byteIds[bytes[b]] >= 0;
                }

                for (int b = 0; b < count; b++)
                {
                    output.Add(new ModelToken(all ? _byteIds[bytes[b]] : _unkId, i, i + width));
                }

                i += width;
            }
        }
        else if (_unkId >= 0)
        {
            output.Add(new ModelToken(_unkId, start, end));
        }

        start = -1;
    }

    private void Insert(string piece, int id)
    {
        TrieNode node = _root;
        foreach (char c in piece)
        {
            node = node.GetOrAdd(c);
        }

        if (node.Id < 0)
        {
            node.Id = id;
        }
    }

    private sealed class TrieNode
    {
        private Dictionary<char, TrieNode>? _children;

        public int Id { get; set; } = -1;

        public TrieNode? Next(char c) => _children is not null && _children.TryGetValue(c, out TrieNode? next) ? next : null;

        public TrieNode GetOrAdd(char c)
        {
            _children ??= [];
            if (!_children.TryGetValue(c, out TrieNode? next))
            {
                next = new TrieNode();
                _children[c] = next;
            }

            return next;
        }
    }
}
