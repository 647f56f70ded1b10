using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MLNetTransformers.Tokenizers.Core;
using MLNetTransformers.Tokenizers.Decoders;
using MLNetTransformers.Tokenizers.Models;
using MLNetTransformers.Tokenizers.Normalizers;
using MLNetTransformers.Tokenizers.PostProcessors;
using MLNetTransformers.Tokenizers.PreTokenizers;

namespace MLNetTransformers.Tokenizers.Json;

/// <summary>Builds the pipeline components from a parsed <c>tokenizer.json</c>; every error names the JSON path and value.</summary>
internal static class TokenizerJsonReader
{
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(5);

    public static Tokenizer Read(JsonDocument document, string file, TokenizerConfig config)
    {
        var root = new JsonSection(document.RootElement, "$", file);
        if (root.Element.ValueKind != JsonValueKind.Object)
        {
            throw root.Invalid("expected a JSON object");
        }

        TokenizerModel model = ReadModel(root.Get("model"));
        Normalizer? normalizer = root.GetOptional("normalizer") is { } n ? ReadNormalizer(n) : null;
        PreTokenizer? preTokenizer = root.GetOptional("pre_tokenizer") is { } p ? ReadPreTokenizer(p) : null;
        TokenDecoder? decoder = root.GetOptional("decoder") is { } d ? ReadDecoder(d) : null;
        var added = new List<AddedToken>();
        if (root.GetOptional("added_tokens") is { } addedTokens)
        {
            foreach (JsonSection token in addedTokens.Items())
            {
                added.Add(new AddedToken(
                    token.Get("id").AsInt(),
                    token.GetString("content"),
                    token.GetBool("single_word", false),
                    token.GetBool("lstrip", false),
                    token.GetBool("rstrip", false),
                    token.GetBool("normalized", false),
                    token.GetBool("special", false)));
            }
        }

        int IdOf(string token, JsonSection at)
        {
            AddedToken? addedToken = added.FindLast(t => t.Content == token);
            if (addedToken is not null)
            {
                return addedToken.Id;
            }

            return model.TryGetId(token, out int id) ? id : throw at.Invalid($"token \"{token}\" is in neither the vocabulary nor added_tokens");
        }

        PostProcessor? postProcessor = root.GetOptional("post_processor") is { } pp ? ReadPostProcessor(pp, IdOf) : null;
        postProcessor = BosEosTemplate(config, IdOf, root) ?? postProcessor;
        TruncationOptions? truncation = root.GetOptional("truncation") is { } t ? ReadTruncation(t) : null;
        PaddingOptions? padding = root.GetOptional("padding") is { } pd ? ReadPadding(pd) : null;
        return new Tokenizer(model, normalizer, preTokenizer, postProcessor, decoder, added, config, truncation, padding);
    }

    private static string TypeOf(JsonSection section) => section.GetString("type");

    /// <summary>
    /// Llama- and Gemma-family tokenizers take <c>add_bos_token</c> / <c>add_eos_token</c> from tokenizer_config.json: transformers
    /// rebuilds their post-processor from those flags (<c>update_post_processor</c>), and so do we.
    /// </summary>
    private static TemplateProcessor? BosEosTemplate(TokenizerConfig config, Func<string, JsonSection, int> idOf, JsonSection at)
    {
        string? tokenizerClass = config.TokenizerClass;
        bool family = tokenizerClass is not null && (tokenizerClass.StartsWith("Llama", StringComparison.Ordinal)
            || tokenizerClass.StartsWith("CodeLlama", StringComparison.Ordinal) || tokenizerClass.StartsWith("Gemma", StringComparison.Ordinal));
        if (!family || (config.AddBosToken is null && config.AddEosToken is null))
        {
            return null;
        }

        bool addBos = config.AddBosToken ?? true;
        bool addEos = config.AddEosToken ?? false;
        var special = new Dictionary<string, int[]>(StringComparer.Ordinal);
        var single = new List<TemplatePiece>();
        var pair = new List<TemplatePiece>();
        void Special(List<TemplatePiece> template, string? token, int typeId, string flag)
        {
            if (token is null)
            {
                throw at.Invalid($"tokenizer_config.json sets {flag} but names no such token");
            }

            special[token] = [idOf(token, at)];
            template.Add(new TemplatePiece(false, token, typeId));
        }

        foreach (int typeId in new[] { 0, 1 })
        {
            List<TemplatePiece> target = typeId == 0 ? single : pair;
            if (addBos)
            {
                Special(target, config.BosToken, typeId, "add_bos_token");
            }

            target.Add(new TemplatePiece(true, typeId == 0 ? "A" : "B", typeId));
            if (addEos)
            {
                Special(target, config.EosToken, typeId, "add_eos_token");
            }
        }

        return new TemplateProcessor(single, [.. single, .. pair], special);
    }

    internal static TokenizerModel ReadModel(JsonSection section)
    {
        string type = section.GetOptionalString("type")
            ?? (section.Has("merges") ? "BPE"
                : section.Has("max_input_chars_per_word") ? "WordPiece"
                : section.Has("vocab") && section.Get("vocab").Element.ValueKind == JsonValueKind.Array ? "Unigram"
                : "WordLevel");
        switch (type)
        {
            case "BPE":
            {
                Dictionary<string, int> vocabulary = ReadVocabulary(section.Get("vocab"));
                var merges = new List<(string, string)>();
                foreach (JsonSection merge in section.Get("merges").Items())
                {
                    if (merge.Element.ValueKind == JsonValueKind.String)
                    {
                        string text = merge.AsString();
                        int space = text.IndexOf(' ', 1);
                        if (space < 0)
                        {
                            throw merge.Invalid($"expected \"left right\" but found {merge.Describe()}");
                        }

                        merges.Add((text[..space], text[(space + 1)..]));
                    }
                    else
                    {
                        var pair = merge.Items().Select(i => i.AsString()).ToArray();
                        if (pair.Length != 2)
                        {
                            throw merge.Invalid($"expected [left, right] but found {pair.Length} items");
                        }

                        merges.Add((pair[0], pair[1]));
                    }
                }

                try
                {
                    return new BpeModel(
                        vocabulary,
                        merges,
                        section.GetOptionalString("unk_token"),
                        section.GetOptionalString("continuing_subword_prefix"),
                        section.GetOptionalString("end_of_word_suffix"),
                        section.GetBool("fuse_unk", false),
                        section.GetBool("byte_fallback", false),
                        section.GetBool("ignore_merges", false));
                }
                catch (InvalidDataException ex)
                {
                    throw section.Invalid(ex.Message.TrimEnd('.'));
                }
            }

            case "WordPiece":
                return new WordPieceModel(
                    ReadVocabulary(section.Get("vocab")),
                    section.GetOptionalString("unk_token") ?? "[UNK]",
                    section.GetOptionalString("continuing_subword_prefix") ?? "##",
                    section.GetInt("max_input_chars_per_word", 100));

            case "WordLevel":
                return new WordLevelModel(ReadVocabulary(section.Get("vocab")), section.GetOptionalString("unk_token"));

            case "Unigram":
            {
                var vocabulary = new List<(string, double)>();
                foreach (JsonSection entry in section.Get("vocab").Items())
                {
                    var items = entry.Items().ToArray();
                    if (items.Length != 2)
                    {
                        throw entry.Invalid("expected [piece, score]");
                    }

                    vocabulary.Add((items[0].AsString(), items[1].AsDouble()));
                }

                int? unkId = section.GetOptional("unk_id")?.AsInt();
                try
                {
                    return new UnigramModel(vocabulary, unkId, section.GetBool("byte_fallback", false));
                }
                catch (InvalidDataException ex)
                {
                    throw section.Invalid(ex.Message.TrimEnd('.'));
                }
            }

            default:
                throw section.UnknownType("model", type, ["BPE", "WordPiece", "WordLevel", "Unigram"]);
        }
    }

    private static Dictionary<string, int> ReadVocabulary(JsonSection section)
    {
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (token, id) in section.Properties())
        {
            vocabulary[token] = id.AsInt();
        }

        return vocabulary;
    }

    internal static Normalizer ReadNormalizer(JsonSection section)
    {
        string type = TypeOf(section);
        return type switch
        {
            "Sequence" => new SequenceNormalizer(section.Get("normalizers").Items().Select(ReadNormalizer).ToArray()),
            "NFC" => new UnicodeNormalizer(NormalizationForm.FormC),
            "NFD" => new UnicodeNormalizer(NormalizationForm.FormD),
            "NFKC" => new UnicodeNormalizer(NormalizationForm.FormKC),
            "NFKD" => new UnicodeNormalizer(NormalizationForm.FormKD),
            "Lowercase" => new LowercaseNormalizer(),
            "Strip" => new StripNormalizer(section.GetBool("strip_left", true), section.GetBool("strip_right", true)),
            "StripAccents" => new StripAccentsNormalizer(),
            "BertNormalizer" => new BertNormalizer(
                section.GetBool("clean_text", true),
                section.GetBool("handle_chinese_chars", true),
                section.GetOptional("strip_accents")?.AsBool(),
                section.GetBool("lowercase", true)),
            "Replace" => new ReplaceNormalizer(ReadPattern(section.Get("pattern")), section.GetString("content")),
            "Prepend" => new PrependNormalizer(section.GetString("prepend")),
            "Precompiled" => PrecompiledNormalizer.FromBase64(section.Get("precompiled_charsmap")),
            "ByteLevel" => new ByteLevelNormalizer(),
            "Nmt" => new NmtNormalizer(),
            _ => throw section.UnknownType("normalizer", type, ["Sequence", "NFC", "NFD", "NFKC", "NFKD", "Lowercase", "Strip", "StripAccents", "BertNormalizer", "Replace", "Prepend", "Precompiled", "ByteLevel", "Nmt"]),
        };
    }

    internal static PreTokenizer ReadPreTokenizer(JsonSection section)
    {
        string type = TypeOf(section);
        return type switch
        {
            "Sequence" => new SequencePreTokenizer(section.Get("pretokenizers").Items().Select(ReadPreTokenizer).ToArray()),
            "ByteLevel" => new ByteLevelPreTokenizer(section.GetBool("add_prefix_space", true), section.GetBool("use_regex", true)),
            "Whitespace" => new WhitespacePreTokenizer(),
            "WhitespaceSplit" => new WhitespaceSplitPreTokenizer(),
            "BertPreTokenizer" => new BertPreTokenizer(),
            "Metaspace" => new MetaspacePreTokenizer(ReadReplacement(section), ReadPrependScheme(section), section.GetBool("split", true)),
            "Split" => new SplitPreTokenizer(ReadPattern(section.Get("pattern")), ReadBehavior(section.Get("behavior")), section.GetBool("invert", false)),
            "Punctuation" => new PunctuationPreTokenizer(section.GetOptional("behavior") is { } b ? ReadBehavior(b) : SplitDelimiterBehavior.Isolated),
            "Digits" => new DigitsPreTokenizer(section.GetBool("individual_digits", false)),
            "CharDelimiterSplit" => new CharDelimiterSplitPreTokenizer(ReadChar(section.Get("delimiter"))),
            _ => throw section.UnknownType("pre-tokenizer", type, ["Sequence", "ByteLevel", "Whitespace", "WhitespaceSplit", "BertPreTokenizer", "Metaspace", "Split", "Punctuation", "Digits", "CharDelimiterSplit"]),
        };
    }

    internal static PostProcessor ReadPostProcessor(JsonSection section, Func<string, JsonSection, int> idOf)
    {
        string type = TypeOf(section);
        switch (type)
        {
            case "TemplateProcessing":
            {
                var special = new Dictionary<string, int[]>(StringComparer.Ordinal);
                if (section.GetOptional("special_tokens") is { } specials)
                {
                    foreach (var (name, value) in specials.Properties())
                    {
                        special[name] = value.Get("ids").Items().Select(i => i.AsInt()).ToArray();
                    }
                }

                List<TemplatePiece> Template(JsonSection items)
                {
                    var pieces = new List<TemplatePiece>();
                    foreach (JsonSection item in items.Items())
                    {
                        if (item.GetOptional("SpecialToken") is { } token)
                        {
                            string id = token.GetString("id");
                            if (!special.ContainsKey(id))
                            {
                                special[id] = [idOf(id, token)];
                            }

                            pieces.Add(new TemplatePiece(false, id, token.GetInt("type_id", 0)));
                        }
                        else if (item.GetOptional("Sequence") is { } sequence)
                        {
                            string id = sequence.GetString("id");
                            if (id is not ("A" or "B"))
                            {
                                throw sequence.Get("id").Invalid($"expected \"A\" or \"B\" but found \"{id}\"");
                            }

                            pieces.Add(new TemplatePiece(true, id, sequence.GetInt("type_id", 0)));
                        }
                        else
                        {
                            throw item.Invalid("expected {\"SpecialToken\": ...} or {\"Sequence\": ...}");
                        }
                    }

                    return pieces;
                }

                return new TemplateProcessor(Template(section.Get("single")), Template(section.Get("pair")), special);
            }

            case "BertProcessing":
            case "RobertaProcessing":
            {
                (string Token, int Id) Read(string name)
                {
                    var items = section.Get(name).Items().ToArray();
                    return items.Length == 2 ? (items[0].AsString(), items[1].AsInt()) : throw section.Get(name).Invalid("expected [token, id]");
                }

                var (cls, clsId) = Read("cls");
                var (sep, sepId) = Read("sep");
                var special = new Dictionary<string, int[]>(StringComparer.Ordinal) { [cls] = [clsId], [sep] = [sepId] };
                var single = new List<TemplatePiece> { new(false, cls, 0), new(true, "A", 0), new(false, sep, 0) };
                if (type == "BertProcessing")
                {
                    var pair = new List<TemplatePiece>(single) { new(true, "B", 1), new(false, sep, 1) };
                    return new TemplateProcessor(single, pair, special);
                }

                var robertaPair = new List<TemplatePiece>(single) { new(false, sep, 0), new(true, "B", 0), new(false, sep, 0) };
                return new ByteLevelProcessor(section.GetBool("trim_offsets", true), section.GetBool("add_prefix_space", true), new TemplateProcessor(single, robertaPair, special));
            }

            case "ByteLevel":
                return new ByteLevelProcessor(section.GetBool("trim_offsets", true), section.GetBool("add_prefix_space", true));

            case "Sequence":
                return new SequenceProcessor(section.Get("processors").Items().Select(p => ReadPostProcessor(p, idOf)).ToArray());

            default:
                throw section.UnknownType("post-processor", type, ["TemplateProcessing", "BertProcessing", "RobertaProcessing", "ByteLevel", "Sequence"]);
        }
    }

    internal static TokenDecoder ReadDecoder(JsonSection section)
    {
        string type = TypeOf(section);
        return type switch
        {
            "Sequence" => new SequenceDecoder(section.Get("decoders").Items().Select(ReadDecoder).ToArray()),
            "ByteLevel" => new ByteLevelDecoder(),
            "WordPiece" => new WordPieceDecoder(section.GetOptionalString("prefix") ?? "##", section.GetBool("cleanup", true)),
            "Metaspace" => new MetaspaceDecoder(ReadReplacement(section), ReadPrependScheme(section) != PrependScheme.Never),
            "BPEDecoder" => new BpeDecoder(section.GetOptionalString("suffix") ?? "</w>"),
            "ByteFallback" => new ByteFallbackDecoder(),
            "Fuse" => new FuseDecoder(),
            "Strip" => new StripDecoder(ReadChar(section.Get("content")), section.GetInt("start", 0), section.GetInt("stop", 0)),
            "Replace" => new ReplaceDecoder(ReadPattern(section.Get("pattern")), section.GetString("content")),
            "CTC" => new CtcDecoder(section.GetOptionalString("pad_token") ?? "<pad>", section.GetOptionalString("word_delimiter_token") ?? "|", section.GetBool("cleanup", true)),
            _ => throw section.UnknownType("decoder", type, ["Sequence", "ByteLevel", "WordPiece", "Metaspace", "BPEDecoder", "ByteFallback", "Fuse", "Strip", "Replace", "CTC"]),
        };
    }

    private static TruncationOptions ReadTruncation(JsonSection section) => new()
    {
        MaxLength = section.Get("max_length").AsInt(),
        Strategy = section.GetOptionalString("strategy") switch
        {
            null or "LongestFirst" => TruncationStrategy.LongestFirst,
            "OnlyFirst" => TruncationStrategy.OnlyFirst,
            "OnlySecond" => TruncationStrategy.OnlySecond,
            string other => throw section.Get("strategy").Invalid($"unknown truncation strategy \"{other}\""),
        },
        Side = section.GetOptionalString("direction") == "Left" ? Side.Left : Side.Right,
    };

    private static PaddingOptions ReadPadding(JsonSection section)
    {
        var options = new PaddingOptions
        {
            Side = section.GetOptionalString("direction") == "Left" ? Side.Left : Side.Right,
            PadToMultipleOf = section.GetOptional("pad_to_multiple_of")?.AsInt(),
            PadId = section.GetOptional("pad_id")?.AsInt(),
            PadTypeId = section.GetInt("pad_type_id", 0),
        };
        JsonSection strategy = section.Get("strategy");
        if (strategy.Element.ValueKind == JsonValueKind.String)
        {
            options.Strategy = strategy.AsString() == "BatchLongest" ? PaddingStrategy.Longest : throw strategy.Invalid($"unknown padding strategy {strategy.Describe()}");
        }
        else if (strategy.GetOptional("Fixed") is { } fixedLength)
        {
            options.Strategy = PaddingStrategy.MaxLength;
            options.MaxLength = fixedLength.AsInt();
        }
        else
        {
            throw strategy.Invalid("expected \"BatchLongest\" or {\"Fixed\": n}");
        }

        return options;
    }

    private static Regex ReadPattern(JsonSection section)
    {
        if (section.GetOptional("String") is { } literal)
        {
            return new Regex(Regex.Escape(literal.AsString()), RegexOptions.CultureInvariant, RegexTimeout);
        }

        if (section.GetOptional("Regex") is { } regex)
        {
            try
            {
                return CreateRegex(regex.AsString());
            }
            catch (ArgumentException ex)
            {
                throw regex.Invalid($"invalid regular expression {regex.Describe()}: {ex.Message}");
            }
        }

        throw section.Invalid("expected {\"String\": ...} or {\"Regex\": ...}");
    }

    /// <summary>
    /// Compiles a tokenizer.json pattern so that no input can make matching hang: the linear-time NonBacktracking engine when the
    /// pattern allows it, otherwise (lookarounds, as in GPT-style patterns) the backtracking engine with a match timeout.
    /// </summary>
    internal static Regex CreateRegex(string pattern)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, RegexTimeout);
        }
        catch (NotSupportedException)
        {
            return new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled, RegexTimeout);
        }
    }

    private static SplitDelimiterBehavior ReadBehavior(JsonSection section) => section.AsString() switch
    {
        "Removed" => SplitDelimiterBehavior.Removed,
        "Isolated" => SplitDelimiterBehavior.Isolated,
        "MergedWithPrevious" => SplitDelimiterBehavior.MergedWithPrevious,
        "MergedWithNext" => SplitDelimiterBehavior.MergedWithNext,
        "Contiguous" => SplitDelimiterBehavior.Contiguous,
        _ => throw section.Invalid($"unknown split behavior {section.Describe()}"),
    };

    private static char ReadReplacement(JsonSection section) => section.GetOptional("replacement") is { } r ? ReadChar(r) : '▁';

    private static PrependScheme ReadPrependScheme(JsonSection section)
    {
        if (section.GetOptional("prepend_scheme") is { } scheme)
        {
            return scheme.AsString() switch
            {
                "always" => PrependScheme.Always,
                "first" => PrependScheme.First,
                "never" => PrependScheme.Never,
                _ => throw scheme.Invalid($"unknown prepend_scheme {scheme.Describe()}"),
            };
        }

        return section.GetBool("add_prefix_space", true) ? PrependScheme.Always : PrependScheme.Never;
    }

    private static char ReadChar(JsonSection section)
    {
        string text = section.AsString();
        return text.Length == 1 ? text[0] : throw section.Invalid($"expected a single character but found {section.Describe()}");
    }

    /// <summary>Reads tokenizer_config.json (and special_tokens_map.json for tokens the config lacks).</summary>
    public static TokenizerConfig ReadConfig(JsonDocument? config, JsonDocument? specialTokensMap, string file)
    {
        if (config is null && specialTokensMap is null)
        {
            return TokenizerConfig.Empty;
        }

        var root = config is null ? default : new JsonSection(config.RootElement, "$", file);
        var map = specialTokensMap is null ? default : new JsonSection(specialTokensMap.RootElement, "$", "special_tokens_map.json");

        string? Token(string name)
        {
            foreach (JsonSection source in new[] { root, map })
            {
                if (source.Element.ValueKind != JsonValueKind.Object || source.GetOptional(name) is not { } value)
                {
                    continue;
                }

                return value.Element.ValueKind == JsonValueKind.Object ? value.GetString("content") : value.AsString();
            }

            return null;
        }

        bool has = config is not null;
        string? chatTemplate = null;
        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        if (has && root.GetOptional("chat_template") is { } template)
        {
            if (template.Element.ValueKind == JsonValueKind.String)
            {
                chatTemplate = template.AsString();
            }
            else
            {
                foreach (JsonSection entry in template.Items())
                {
                    named[entry.GetString("name")] = entry.GetString("template");
                }

                chatTemplate = named.GetValueOrDefault("default");
            }
        }

        int? maxLength = null;
        if (has && root.GetOptional("model_max_length") is { } max && max.Element.ValueKind == JsonValueKind.Number
            && max.Element.TryGetDouble(out double m) && m > 0 && m < int.MaxValue)
        {
            maxLength = (int)m;
        }

        static Side? SideOf(JsonSection? value) => value?.AsString() switch
        {
            "left" => Side.Left,
            "right" => Side.Right,
            null => null,
            _ => throw value.Value.Invalid($"expected \"left\" or \"right\" but found {value.Value.Describe()}"),
        };

        return new TokenizerConfig
        {
            BosToken = Token("bos_token"),
            EosToken = Token("eos_token"),
            PadToken = Token("pad_token"),
            UnkToken = Token("unk_token"),
            AddBosToken = has ? root.GetOptional("add_bos_token")?.AsBool() : null,
            AddEosToken = has ? root.GetOptional("add_eos_token")?.AsBool() : null,
            ModelMaxLength = maxLength,
            PaddingSide = has ? SideOf(root.GetOptional("padding_side")) : null,
            TruncationSide = has ? SideOf(root.GetOptional("truncation_side")) : null,
            CleanUpTokenizationSpaces = has && root.GetBool("clean_up_tokenization_spaces", false),
            TokenizerClass = has ? root.GetOptionalString("tokenizer_class") : null,
            ChatTemplate = chatTemplate,
            ChatTemplates = named,
        };
    }
}
