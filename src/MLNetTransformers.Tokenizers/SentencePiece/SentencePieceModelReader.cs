using System.Text.RegularExpressions;
using MLNetTransformers.Tokenizers.Core;
using MLNetTransformers.Tokenizers.Decoders;
using MLNetTransformers.Tokenizers.Models;
using MLNetTransformers.Tokenizers.Normalizers;
using MLNetTransformers.Tokenizers.PostProcessors;
using MLNetTransformers.Tokenizers.PreTokenizers;

namespace MLNetTransformers.Tokenizers.SentencePiece;

/// <summary>
/// Builds a <see cref="Tokenizer"/> from a SentencePiece <c>tokenizer.model</c> (<c>sentencepiece.ModelProto</c>), the pipeline
/// Hugging Face's slow-to-fast converters (transformers' <c>convert_slow_tokenizer.py</c>) would write to tokenizer.json:
/// <list type="bullet">
/// <item>BPE models as <c>LlamaConverter</c>: BPE with merges derived like <c>SentencePieceExtractor</c>, <c>byte_fallback</c>,
/// <c>fuse_unk</c>; legacy normalizer <c>Prepend("▁") + Replace(" " → "▁")</c> (non-legacy: a Metaspace pre-tokenizer with
/// prepend scheme <c>first</c> instead); decoder <c>Replace("▁" → " "), ByteFallback, Fuse, Strip(" ", 1, 0)</c>; post-processor
/// <c>&lt;s&gt; $A</c> per <c>add_bos_token</c> (default true) and <c>add_eos_token</c> (default false).</item>
/// <item>Unigram models as the T5/ALBERT-style <c>SpmConverter</c>: Unigram with the pieces' scores and <c>unk_id</c>; normalizer
/// <c>Precompiled(charsmap)</c> (when the model has one) <c>+ Replace(" {2,}" → " ")</c>; Metaspace pre-tokenizer and decoder;
/// post-processor <c>$A &lt;/s&gt;</c> (T5) per <c>add_eos_token</c> (default true) and <c>add_bos_token</c> (default false).</item>
/// </list>
/// CONTROL and UNKNOWN pieces become special added tokens and USER_DEFINED pieces normal added tokens (none normalized);
/// tokenizer_config.json's <c>added_tokens_decoder</c>, T5's <c>extra_ids</c>, <c>additional_special_tokens</c> and the
/// special tokens are added as the transformers tokenizer classes add them.
/// </summary>
internal static class SentencePieceModelReader
{
    private const char Replacement = '▁';
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Reads the model and builds the tokenizer.</summary>
    /// <param name="model">The bytes of the .model file.</param>
    /// <param name="file">The file's path (for messages; its folder is searched for tokenizer_config.json).</param>
    /// <param name="config">The facts of tokenizer_config.json and special_tokens_map.json.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="InvalidDataException">The file is not a well-formed SentencePiece model (the message names it, where and why).</exception>
    /// <exception cref="NotSupportedException">The model type (WORD, CHAR) or an option cannot be represented.</exception>
    public static Tokenizer Read(byte[] model, string file, TokenizerConfig config)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(config);

        SentencePieceModelProto proto;
        try
        {
            proto = SentencePieceModelProto.Parse(model);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{file}: not a valid SentencePiece model: {ex.Message}", ex);
        }

        Dictionary<string, int> vocabulary = Validate(proto, file);
        SentencePieceTrainerSpec trainer = proto.Trainer;
        string? directory = Path.GetDirectoryName(file);
        SentencePieceConfigFacts facts = SentencePieceConfigFacts.Read(string.IsNullOrEmpty(directory) ? null : directory);
        TokenizerConfig effective = WithModelSpecialTokens(config, proto);
        List<AddedToken> added = AddedTokens(proto, vocabulary, effective, facts);

        int? IdOf(string? token)
        {
            if (token is null)
            {
                return null;
            }

            AddedToken? addedToken = added.FindLast(t => t.Content == token);
            return addedToken?.Id ?? (vocabulary.TryGetValue(token, out int id) ? id : null);
        }

        bool addPrefixSpace = facts.AddPrefixSpace ?? proto.Normalizer.AddDummyPrefix;
        bool legacy = facts.Legacy ?? true;
        TokenizerModel tokenizerModel;
        Normalizer? normalizer;
        PreTokenizer? preTokenizer;
        TokenDecoder decoder;
        PostProcessor? postProcessor;
        if (trainer.ModelType == (int)SentencePieceModelType.Bpe)
        {
            tokenizerModel = BuildBpe(proto, vocabulary);
            if (legacy)
            {
                var sequence = new List<Normalizer>();
                if (addPrefixSpace)
                {
                    sequence.Add(new PrependNormalizer(Replacement.ToString()));
                }

                sequence.Add(new ReplaceNormalizer(Literal(" "), Replacement.ToString()));
                normalizer = new SequenceNormalizer(sequence);
                preTokenizer = null;
            }
            else
            {
                normalizer = null;
                preTokenizer = new MetaspacePreTokenizer(Replacement, addPrefixSpace ? PrependScheme.First : PrependScheme.Never, split: false);
            }

            decoder = ByteFallbackDecoderSequence(addPrefixSpace);
            postProcessor = Template(
                Special(config.AddBosToken, defaultOn: true, effective.BosToken, "add_bos_token", "bos_token", IdOf, file),
                Special(config.AddEosToken, defaultOn: false, effective.EosToken, "add_eos_token", "eos_token", IdOf, file),
                pairTypeId: 1,
                always: true);
        }
        else
        {
            tokenizerModel = BuildUnigram(proto, file);
            var sequence = new List<Normalizer>();
            if (proto.Normalizer.PrecompiledCharsmap.Length > 0)
            {
                try
                {
                    sequence.Add(new PrecompiledNormalizer(proto.Normalizer.PrecompiledCharsmap));
                }
                catch (InvalidDataException ex)
                {
                    throw new InvalidDataException($"{file}: ModelProto.normalizer_spec.precompiled_charsmap: {ex.Message}", ex);
                }
            }

            sequence.Add(new ReplaceNormalizer(new Regex(" {2,}", RegexOptions.CultureInvariant, RegexTimeout), " "));
            normalizer = new SequenceNormalizer(sequence);
            PrependScheme scheme = !addPrefixSpace ? PrependScheme.Never : legacy ? PrependScheme.Always : PrependScheme.First;
            preTokenizer = new MetaspacePreTokenizer(Replacement, scheme, split: true);
            decoder = trainer.ByteFallback ? ByteFallbackDecoderSequence(addPrefixSpace) : new MetaspaceDecoder(Replacement, addPrefixSpace);
            postProcessor = Template(
                Special(config.AddBosToken, defaultOn: false, effective.BosToken, "add_bos_token", "bos_token", IdOf, file),
                Special(config.AddEosToken, defaultOn: true, effective.EosToken, "add_eos_token", "eos_token", IdOf, file),
                pairTypeId: 0,
                always: false);
        }

        return new Tokenizer(tokenizerModel, normalizer, preTokenizer, postProcessor, decoder, added, effective, truncation: null, padding: null);
    }

    /// <summary>Checks what SentencePiece itself requires of a model, and what this reader can represent.</summary>
    private static Dictionary<string, int> Validate(SentencePieceModelProto proto, string file)
    {
        SentencePieceTrainerSpec trainer = proto.Trainer;
        if (trainer.ModelType is not ((int)SentencePieceModelType.Unigram or (int)SentencePieceModelType.Bpe))
        {
            throw new NotSupportedException(
                $"{file}: SentencePiece model_type {SentencePieceModelProto.DescribeModelType(trainer.ModelType)} is not supported; only UNIGRAM (1) and BPE (2) models can be loaded (Hugging Face's converters support no others).");
        }

        if (trainer.TreatWhitespaceAsSuffix)
        {
            throw new NotSupportedException($"{file}: SentencePiece trainer_spec.treat_whitespace_as_suffix = true is not supported (Hugging Face's pipeline puts '▁' before words).");
        }

        if (!proto.Normalizer.EscapeWhitespaces)
        {
            throw new NotSupportedException($"{file}: SentencePiece normalizer_spec.escape_whitespaces = false is not supported (Hugging Face's pipeline always replaces spaces with '▁').");
        }

        if (proto.Pieces.Count == 0)
        {
            throw new InvalidDataException($"{file}: not a valid SentencePiece model: ModelProto has no pieces (field 1); the file is empty, truncated or not a .model file.");
        }

        var vocabulary = new Dictionary<string, int>(proto.Pieces.Count, StringComparer.Ordinal);
        for (int id = 0; id < proto.Pieces.Count; id++)
        {
            string piece = proto.Pieces[id].Piece;
            if (!vocabulary.TryAdd(piece, id))
            {
                throw new InvalidDataException($"{file}: not a valid SentencePiece model: pieces[{id}] \"{piece}\" is already defined as pieces[{vocabulary[piece]}].");
            }
        }

        if (trainer.UnkId < 0 || trainer.UnkId >= proto.Pieces.Count)
        {
            throw new InvalidDataException($"{file}: not a valid SentencePiece model: trainer_spec.unk_id {trainer.UnkId} is outside the {proto.Pieces.Count} pieces.");
        }

        return vocabulary;
    }

    private static BpeModel BuildBpe(SentencePieceModelProto proto, Dictionary<string, int> vocabulary)
    {
        var pieces = new string[proto.Pieces.Count];
        var scores = new float[proto.Pieces.Count];
        for (int id = 0; id < pieces.Length; id++)
        {
            pieces[id] = proto.Pieces[id].Piece;

            // LlamaConverter.vocab() reports the first three pieces (<unk>, <s>, </s>) with score 0.
            scores[id] = id < 3 ? 0f : proto.Pieces[id].Score;
        }

        List<(string Left, string Right)> merges = SentencePieceMerges.Derive(pieces, scores, vocabulary);

        // LlamaConverter: handle_byte_fallback = True, fuse_unk = True, unk_token = the unknown piece.
        return new BpeModel(vocabulary, merges, pieces[proto.Trainer.UnkId], null, null, fuseUnk: true, byteFallback: true, ignoreMerges: false);
    }

    private static UnigramModel BuildUnigram(SentencePieceModelProto proto, string file)
    {
        var vocabulary = new List<(string, double)>(proto.Pieces.Count);
        foreach (SentencePieceEntry piece in proto.Pieces)
        {
            vocabulary.Add((piece.Piece, piece.Score));
        }

        try
        {
            return new UnigramModel(vocabulary, proto.Trainer.UnkId, proto.Trainer.ByteFallback);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{file}: {ex.Message}", ex);
        }
    }

    /// <summary>The Llama decoder: <c>Replace("▁" → " "), ByteFallback, Fuse</c>, and <c>Strip(" ", 1, 0)</c> with a prefix space.</summary>
    private static SequenceDecoder ByteFallbackDecoderSequence(bool addPrefixSpace)
    {
        var decoders = new List<TokenDecoder> { new ReplaceDecoder(Literal(Replacement.ToString()), " "), new ByteFallbackDecoder(), new FuseDecoder() };
        if (addPrefixSpace)
        {
            decoders.Add(new StripDecoder(' ', 1, 0));
        }

        return new SequenceDecoder(decoders);
    }

    private static Regex Literal(string text) => new(Regex.Escape(text), RegexOptions.CultureInvariant, RegexTimeout);

    /// <summary>A special token the post-processor adds, or null when it adds none.</summary>
    private static (string Token, int Id)? Special(bool? requested, bool defaultOn, string? token, string option, string tokenName, Func<string?, int?> idOf, string file)
    {
        if (!(requested ?? defaultOn))
        {
            return null;
        }

        if (idOf(token) is { } id)
        {
            return (token!, id);
        }

        if (requested is null)
        {
            return null; // on by default, but the model has no such token: nothing to add
        }

        throw new InvalidDataException($"{file}: tokenizer_config.json sets {option} = true but the model has no {tokenName} ({(token is null ? "none is named" : $"\"{token}\" is not in the vocabulary")}).");
    }

    /// <summary><c>[first] $A [last]</c> and <c>[first] $A [last] [first] $B [last]</c> (B's items with <paramref name="pairTypeId"/>).</summary>
    private static TemplateProcessor? Template((string Token, int Id)? first, (string Token, int Id)? last, int pairTypeId, bool always)
    {
        if (first is null && last is null && !always)
        {
            return null;
        }

        var special = new Dictionary<string, int[]>(StringComparer.Ordinal);
        List<TemplatePiece> Sequence(string id, int typeId)
        {
            var pieces = new List<TemplatePiece>(3);
            if (first is { } f)
            {
                special[f.Token] = [f.Id];
                pieces.Add(new TemplatePiece(false, f.Token, typeId));
            }

            pieces.Add(new TemplatePiece(true, id, typeId));
            if (last is { } l)
            {
                special[l.Token] = [l.Id];
                pieces.Add(new TemplatePiece(false, l.Token, typeId));
            }

            return pieces;
        }

        List<TemplatePiece> single = Sequence("A", 0);
        List<TemplatePiece> pair = [.. single, .. Sequence("B", pairTypeId)];
        return new TemplateProcessor(single, pair, special);
    }

    /// <summary>The config, with the special tokens it does not name taken from the model (as the slow tokenizers' defaults are).</summary>
    private static TokenizerConfig WithModelSpecialTokens(TokenizerConfig config, SentencePieceModelProto proto)
    {
        string? PieceAt(int id) => id >= 0 && id < proto.Pieces.Count ? proto.Pieces[id].Piece : null;

        string? bos = config.BosToken ?? PieceAt(proto.Trainer.BosId);
        string? eos = config.EosToken ?? PieceAt(proto.Trainer.EosId);
        string? unk = config.UnkToken ?? PieceAt(proto.Trainer.UnkId);
        string? pad = config.PadToken ?? PieceAt(proto.Trainer.PadId);
        if (bos == config.BosToken && eos == config.EosToken && unk == config.UnkToken && pad == config.PadToken)
        {
            return config;
        }

        return new TokenizerConfig
        {
            BosToken = bos,
            EosToken = eos,
            PadToken = pad,
            UnkToken = unk,
            AddBosToken = config.AddBosToken,
            AddEosToken = config.AddEosToken,
            ModelMaxLength = config.ModelMaxLength,
            PaddingSide = config.PaddingSide,
            TruncationSide = config.TruncationSide,
            CleanUpTokenizationSpaces = config.CleanUpTokenizationSpaces,
            TokenizerClass = config.TokenizerClass,
            ChatTemplate = config.ChatTemplate,
            ChatTemplates = config.ChatTemplates,
        };
    }

    /// <summary>
    /// The added tokens, by id: CONTROL and UNKNOWN pieces (special) and USER_DEFINED pieces (not special), none normalized, as
    /// <c>SentencePieceExtractor</c> and the fast tokenizer classes add them; then tokenizer_config.json's
    /// <c>added_tokens_decoder</c> (its flags win); then T5's <c>&lt;extra_id_N&gt;</c> (id = pieces + extra_ids − 1 − N);
    /// then the special tokens and <c>additional_special_tokens</c> (their vocabulary id, else a new id after the last).
    /// </summary>
    private static List<AddedToken> AddedTokens(SentencePieceModelProto proto, Dictionary<string, int> vocabulary, TokenizerConfig config, SentencePieceConfigFacts facts)
    {
        var byId = new SortedDictionary<int, AddedToken>();
        var byContent = new Dictionary<string, int>(StringComparer.Ordinal);
        void Set(AddedToken token)
        {
            if (byId.TryGetValue(token.Id, out AddedToken? replaced) && byContent.GetValueOrDefault(replaced.Content, -1) == token.Id)
            {
                byContent.Remove(replaced.Content);
            }

            byId[token.Id] = token;
            byContent[token.Content] = token.Id;
        }

        for (int id = 0; id < proto.Pieces.Count; id++)
        {
            SentencePieceEntry piece = proto.Pieces[id];
            if (piece.Type is SentencePieceType.Control or SentencePieceType.Unknown or SentencePieceType.UserDefined)
            {
                Set(new AddedToken(id, piece.Piece, Normalized: false, Special: piece.Type != SentencePieceType.UserDefined));
            }
        }

        foreach (AddedToken token in facts.AddedTokensDecoder)
        {
            Set(token);
        }

        int extraIds = facts.ExtraIds ?? (config.TokenizerClass?.StartsWith("T5", StringComparison.Ordinal) == true ? 100 : 0);
        for (int n = 0; n < extraIds; n++)
        {
            string content = $"<extra_id_{n}>";
            int id = proto.Pieces.Count + extraIds - 1 - n;
            if (!byContent.ContainsKey(content) && !byId.ContainsKey(id))
            {
                Set(new AddedToken(id, content, Normalized: false, Special: true));
            }
        }

        void EnsureSpecial(string? content)
        {
            if (string.IsNullOrEmpty(content))
            {
                return;
            }

            if (byContent.TryGetValue(content, out int existing))
            {
                if (!byId[existing].Special)
                {
                    Set(byId[existing] with { Special = true });
                }

                return;
            }

            int id = vocabulary.TryGetValue(content, out int inVocabulary)
                ? inVocabulary
                : Math.Max(proto.Pieces.Count, byId.Count == 0 ? 0 : byId.Keys.Max() + 1);
            Set(new AddedToken(id, content, Normalized: false, Special: true));
        }

        EnsureSpecial(config.BosToken);
        EnsureSpecial(config.EosToken);
        EnsureSpecial(config.UnkToken);
        EnsureSpecial(config.PadToken);
        foreach (string token in facts.AdditionalSpecialTokens)
        {
            EnsureSpecial(token);
        }

        return [.. byId.Values];
    }
}
