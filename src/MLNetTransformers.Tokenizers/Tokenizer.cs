using MLNetTransformers.Tokenizers.Core;
using MLNetTransformers.Tokenizers.Decoders;
using MLNetTransformers.Tokenizers.Models;
using MLNetTransformers.Tokenizers.Normalizers;
using MLNetTransformers.Tokenizers.PostProcessors;
using MLNetTransformers.Tokenizers.PreTokenizers;

namespace MLNetTransformers.Tokenizers;

/// <summary>
/// A Hugging Face tokenizer: the <c>tokenizer.json</c> pipeline (added tokens → normalizer → pre-tokenizer → model →
/// post-processor, and the decoder back), with the facts of <c>tokenizer_config.json</c>. Load with <see cref="FromFile"/>,
/// <see cref="FromDirectory"/> or <see cref="FromJson"/>.
/// </summary>
/// <remarks>Thread-safe: one instance may encode and decode from many threads at once.</remarks>
public sealed partial class Tokenizer
{
    private readonly Normalizer? _normalizer;
    private readonly PreTokenizer? _preTokenizer;
    private readonly TokenizerModel _model;
    private readonly PostProcessor? _postProcessor;
    private readonly TokenDecoder? _decoder;
    private readonly AddedVocabulary _added;
    private readonly Func<int, string?> _idToToken;
    private readonly BpeModel? _byteLevelBpe;

    internal Tokenizer(
        TokenizerModel model,
        Normalizer? normalizer,
        PreTokenizer? preTokenizer,
        PostProcessor? postProcessor,
        TokenDecoder? decoder,
        IReadOnlyList<AddedToken> addedTokens,
        TokenizerConfig config,
        TruncationOptions? truncation,
        PaddingOptions? padding)
    {
        _model = model;
        _normalizer = normalizer;
        _preTokenizer = preTokenizer;
        _postProcessor = postProcessor;
        _decoder = decoder;
        Config = config;
        DefaultTruncation = truncation;
        DefaultPadding = padding;
        _added = new AddedVocabulary(addedTokens, normalizer is null ? null : s => normalizer.Normalize(new NormalizedString(s, 0)).Text);
        _idToToken = IdToToken;
        _byteLevelBpe = normalizer is null && preTokenizer is ByteLevelPreTokenizer { AddPrefixSpace: false, UseRegex: true } && model is BpeModel bpe ? bpe : null;
        VocabularySize = Math.Max(model.VocabularySize, addedTokens.Count == 0 ? 0 : addedTokens.Max(t => t.Id) + 1);
        BosTokenId = TokenIdOf(config.BosToken);
        EosTokenId = TokenIdOf(config.EosToken);
        PadTokenId = TokenIdOf(config.PadToken);
        UnkTokenId = TokenIdOf(config.UnkToken);
    }

    /// <summary>The facts of tokenizer_config.json (special tokens, max length, padding side, chat templates).</summary>
    public TokenizerConfig Config { get; }

    /// <summary>tokenizer.json's <c>truncation</c> section, if any (applied only when passed in <see cref="EncodeOptions"/>).</summary>
    public TruncationOptions? DefaultTruncation { get; }

    /// <summary>tokenizer.json's <c>padding</c> section, if any (applied only when passed in <see cref="EncodeOptions"/>).</summary>
    public PaddingOptions? DefaultPadding { get; }

    /// <summary>One more than the largest token id (model vocabulary and added tokens).</summary>
    public int VocabularySize { get; }

    /// <summary>The added tokens (special and normal).</summary>
    public IReadOnlyList<AddedToken> AddedTokens => _added.Tokens;

    /// <summary>The id of the BOS token, if the tokenizer has one.</summary>
    public int? BosTokenId { get; }

    /// <summary>The id of the EOS token, if the tokenizer has one.</summary>
    public int? EosTokenId { get; }

    /// <summary>The id of the padding token, if the tokenizer has one.</summary>
    public int? PadTokenId { get; }

    /// <summary>The id of the unknown token, if the tokenizer has one.</summary>
    public int? UnkTokenId { get; }

    /// <summary>The id of a token string (added tokens first, then the model's vocabulary).</summary>
    /// <param name="token">The token string, e.g. <c>Ġthe</c> or <c>[CLS]</c>.</param>
    /// <returns>The id, or <see langword="null"/>.</returns>
    public int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (_added.ByContent.TryGetValue(token, out AddedToken? added))
        {
            return added.Id;
        }

        return _model.TryGetId(token, out int id) ? id : null;
    }

    /// <summary>The token string of an id.</summary>
    /// <param name="id">The id.</param>
    /// <returns>The token string, or <see langword="null"/> if no token has the id.</returns>
    public string? IdToToken(int id) => _added.ById.TryGetValue(id, out AddedToken? added) ? added.Content : _model.GetToken(id);

    /// <summary>Whether an id is a special token.</summary>
    /// <param name="id">The id.</param>
    /// <returns>True for special added tokens.</returns>
    public bool IsSpecialToken(int id) => _added.ById.TryGetValue(id, out AddedToken? added) && added.Special;

    /// <summary>Encodes a text.</summary>
    /// <param name="text">The text.</param>
    /// <param name="addSpecialTokens">Whether the post-processor adds special tokens.</param>
    /// <returns>The encoding.</returns>
    public TokenEncoding Encode(string text, bool addSpecialTokens = true) =>
        EncodeCore(text, null, addSpecialTokens ? DefaultOptions : NoSpecialOptions);

    /// <summary>Encodes a text, or a text pair, with options.</summary>
    /// <param name="text">The text.</param>
    /// <param name="pair">The second sequence of a pair, or <see langword="null"/>.</param>
    /// <param name="options">Special tokens, truncation, padding.</param>
    /// <returns>The encoding.</returns>
    public TokenEncoding Encode(string text, string? pair, EncodeOptions? options = null) => EncodeCore(text, pair, options ?? DefaultOptions);

    /// <summary>Counts the tokens of a text without building an encoding.</summary>
    /// <param name="text">The text.</param>
    /// <param name="addSpecialTokens">Whether to count the special tokens the post-processor adds.</param>
    /// <returns>The number of tokens.</returns>
    public int CountTokens(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Tokenize(text).Count + (addSpecialTokens && _postProcessor is not null ? _postProcessor.AddedTokenCount(isPair: false) : 0);
    }

    private static readonly EncodeOptions DefaultOptions = new();
    private static readonly EncodeOptions NoSpecialOptions = new() { AddSpecialTokens = false };

    /// <summary>The one encoding path every public overload takes.</summary>
    private TokenEncoding EncodeCore(string text, string? pair, EncodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(text);
        TokenList first = Tokenize(text);
        TokenList? second = pair is null ? null : Tokenize(pair);
        if (options.Truncation is { } truncation)
        {
            Truncate(first, second, truncation, options.AddSpecialTokens);
        }

        TokenList tokens = _postProcessor is null
            ? PostProcessor.Default(first, second)
            : _postProcessor.Process(first, second, options.AddSpecialTokens);
        _postProcessor?.AdjustOffsets(tokens, _idToToken);
        return ToEncoding(tokens, options.Padding, targetLength: null);
    }

    /// <summary>Added tokens → normalizer → pre-tokenizer → model, with offsets into <paramref name="text"/>.</summary>
    private TokenList Tokenize(string text)
    {
        var tokens = new TokenList(text.Length / 3 + 4);
        var modelTokens = new List<ModelToken>(32);
        int position = 0;
        foreach (var (start, end, token) in _added.HasRawTokens ? _added.FindRaw(text) : [])
        {
            TokenizeSection(text, position, start, tokens, modelTokens);
            tokens.Add(token.Id, start, end, 0, token.Special);
            position = end;
        }

        TokenizeSection(text, position, text.Length, tokens, modelTokens);
        return tokens;
    }

    private void TokenizeSection(string text, int start, int end, TokenList tokens, List<ModelToken> modelTokens)
    {
        if (end <= start)
        {
            return;
        }

        if (_byteLevelBpe is not null)
        {
            TokenizeByteLevel(text, start, end, tokens, modelTokens);
            return;
        }

        var section = new NormalizedString(start == 0 && end == text.Length ? text : text[start..end], start);
        NormalizedString normalized = _normalizer is null ? section : _normalizer.Normalize(section);
        var pieces = new PreTokenizedString(SplitNormalizedAddedTokens(normalized));
        _preTokenizer?.PreTokenize(pieces);
        foreach (Split split in pieces.Splits)
        {
            NormalizedString piece = split.Text;
            if (split.IsToken)
            {
                var (s, e) = piece.OriginalRange(0, piece.Length);
                tokens.Add(split.TokenId, s, e, 0, _added.ById[split.TokenId].Special);
                continue;
            }

            modelTokens.Clear();
            _model.Tokenize(piece.Text, modelTokens);
            foreach (ModelToken token in modelTokens)
            {
                var (s, e) = piece.OriginalRange(token.Start, token.End);
                tokens.Add(token.Id, s, e, 0, special: false);
            }
        }
    }

    /// <summary>
    /// The GPT-2 pipeline (no normalizer, byte-level pre-tokenizer, BPE) without intermediate objects: each pattern match is
    /// mapped to byte-level characters on the stack and looked up in the BPE word cache; ASCII words keep 1:1 offsets.
    /// Produces exactly what the general path produces (covered by the golden tests of both paths).
    /// </summary>
    private void TokenizeByteLevel(string text, int start, int end, TokenList tokens, List<ModelToken> modelTokens)
    {
        ReadOnlySpan<char> section = text.AsSpan(start, end - start);
        Span<char> buffer = stackalloc char[128];
        int i = 0;
        while (i < section.Length)
        {
            int matchEnd = Gpt2Pattern.MatchAt(section, i);
            ReadOnlySpan<char> word = section[i..matchEnd];
            if (word.Length <= buffer.Length && System.Text.Ascii.IsValid(word))
            {
                Span<char> mapped = buffer[..word.Length];
                for (int c = 0; c < word.Length; c++)
                {
                    mapped[c] = ByteLevelAlphabet.ToChar((byte)word[c]);
                }

                ModelToken[]? cached = _byteLevelBpe!.TryGetCached(mapped);
                if (cached is null)
                {
                    modelTokens.Clear();
                    _byteLevelBpe.Tokenize(mapped.ToString(), modelTokens);
                }

                ReadOnlySpan<ModelToken> wordTokens = cached ?? System.Runtime.InteropServices.CollectionsMarshal.AsSpan(modelTokens);

                int offset = start + i;
                foreach (ModelToken token in wordTokens)
                {
                    tokens.Add(token.Id, offset + token.Start, offset + token.End, 0, special: false);
                }
            }
            else
            {
                NormalizedString piece = ByteLevelPreTokenizer.ToByteLevel(new NormalizedString(word.ToString(), start + i));
                modelTokens.Clear();
                _byteLevelBpe!.Tokenize(piece.Text, modelTokens);
                foreach (ModelToken token in modelTokens)
                {
                    var (s, e) = piece.OriginalRange(token.Start, token.End);
                    tokens.Add(token.Id, s, e, 0, special: false);
                }
            }

            i = matchEnd;
        }
    }

    private List<Split> SplitNormalizedAddedTokens(NormalizedString normalized)
    {
        if (!_added.HasNormalizedTokens)
        {
            return [new Split(normalized)];
        }

        var splits = new List<Split>();
        int position = 0;
        foreach (var (start, end, token) in _added.FindNormalized(normalized.Text))
        {
            if (start > position)
            {
                splits.Add(new Split(normalized.Slice(position, start)));
            }

            splits.Add(new Split(normalized.Slice(start, end), token.Id));
            position = end;
        }

        if (position < normalized.Length)
        {
            splits.Add(new Split(normalized.Slice(position, normalized.Length)));
        }

        return splits;
    }

    private void Truncate(TokenList first, TokenList? second, TruncationOptions options, bool addSpecialTokens)
    {
        int budget = options.MaxLength - (addSpecialTokens && _postProcessor is not null ? _postProcessor.AddedTokenCount(second is not null) : 0);
        if (budget < 0)
        {
            throw new ArgumentException($"Truncation max length {options.MaxLength} is smaller than the {options.MaxLength - budget} special tokens the post-processor adds.", nameof(options));
        }

        bool fromLeft = (options.Side ?? Config.TruncationSide ?? Side.Right) == Side.Left;
        if (second is null)
        {
            first.Truncate(budget, fromLeft);
            return;
        }

        int total = first.Count + second.Count;
        if (total <= budget)
        {
            return;
        }

        switch (options.Strategy)
        {
            case TruncationStrategy.OnlyFirst:
                first.Truncate(Math.Max(0, budget - second.Count), fromLeft);
                break;
            case TruncationStrategy.OnlySecond:
                second.Truncate(Math.Max(0, budget - first.Count), fromLeft);
                break;
            default:
                // Remove from the longer sequence one token at a time (ties take from the second).
                int a = first.Count, b = second.Count;
                while (a + b > budget)
                {
                    if (a > b)
                    {
                        a--;
                    }
                    else
                    {
                        b--;
                    }
                }

                first.Truncate(a, fromLeft);
                second.Truncate(b, fromLeft);
                break;
        }
    }

    private TokenEncoding ToEncoding(TokenList tokens, PaddingOptions? padding, int? targetLength)
    {
        int length = tokens.Count;
        int padded = length;
        if (padding is not null && padding.Strategy != PaddingStrategy.None)
        {
            padded = padding.Strategy == PaddingStrategy.MaxLength
                ? Math.Max(length, padding.MaxLength ?? throw new ArgumentException("Padding to MaxLength needs PaddingOptions.MaxLength.", nameof(padding)))
                : Math.Max(length, targetLength ?? length);
            if (padding.PadToMultipleOf is > 0 and int multiple && padded % multiple != 0)
            {
                padded += multiple - (padded % multiple);
            }
        }

        var ids = new int[padded];
        var offsets = new (int, int)[padded];
        var typeIds = new int[padded];
        var special = new int[padded];
        var attention = new int[padded];
        int padCount = padded - length;
        bool left = padCount > 0 && (padding!.Side ?? Config.PaddingSide ?? Side.Right) == Side.Left;
        int at = left ? padCount : 0;
        for (int i = 0; i < length; i++)
        {
            ids[at + i] = tokens.Ids[i];
            offsets[at + i] = tokens.Offsets[i];
            typeIds[at + i] = tokens.TypeIds[i];
            special[at + i] = tokens.Special[i] ? 1 : 0;
            attention[at + i] = 1;
        }

        if (padCount > 0)
        {
            int padId = padding!.PadId ?? PadTokenId ?? throw new InvalidOperationException(
                "The tokenizer has no padding token (tokenizer_config.json pad_token); set PaddingOptions.PadId.");
            int from = left ? 0 : length;
            for (int i = from; i < from + padCount; i++)
            {
                ids[i] = padId;
                typeIds[i] = padding.PadTypeId;
                special[i] = 1;
            }
        }

        return new TokenEncoding(ids, offsets, typeIds, special, attention, _idToToken);
    }

    private int? TokenIdOf(string? token) => token is null ? null : TokenToId(token);
}
