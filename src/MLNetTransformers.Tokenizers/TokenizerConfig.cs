namespace MLNetTransformers.Tokenizers;

/// <summary>
/// Facts from <c>tokenizer_config.json</c> (and <c>special_tokens_map.json</c>): special tokens, whether BOS/EOS are added, the
/// maximum length, padding side, decoding clean-up, and chat templates. Immutable.
/// </summary>
public sealed class TokenizerConfig
{
    /// <summary>The empty configuration.</summary>
    public static TokenizerConfig Empty { get; } = new();

    /// <summary>The beginning-of-sequence token.</summary>
    public string? BosToken { get; init; }

    /// <summary>The end-of-sequence token.</summary>
    public string? EosToken { get; init; }

    /// <summary>The padding token.</summary>
    public string? PadToken { get; init; }

    /// <summary>The unknown token.</summary>
    public string? UnkToken { get; init; }

    /// <summary><c>add_bos_token</c>, when given.</summary>
    public bool? AddBosToken { get; init; }

    /// <summary><c>add_eos_token</c>, when given.</summary>
    public bool? AddEosToken { get; init; }

    /// <summary>The model's maximum sequence length, when a real one is given.</summary>
    public int? ModelMaxLength { get; init; }

    /// <summary>Which side to pad, when given.</summary>
    public Side? PaddingSide { get; init; }

    /// <summary>Which side to truncate, when given.</summary>
    public Side? TruncationSide { get; init; }

    /// <summary>Whether decoding removes spaces before punctuation and contractions (<c>clean_up_tokenization_spaces</c>).</summary>
    public bool CleanUpTokenizationSpaces { get; init; }

    /// <summary>The tokenizer class named by the config (e.g. <c>LlamaTokenizer</c>).</summary>
    public string? TokenizerClass { get; init; }

    /// <summary>The default chat template, when the config has one.</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>Named chat templates (<c>chat_template</c> given as a list of <c>{name, template}</c>), including <c>default</c>.</summary>
    public IReadOnlyDictionary<string, string> ChatTemplates { get; init; } = new Dictionary<string, string>();
}
