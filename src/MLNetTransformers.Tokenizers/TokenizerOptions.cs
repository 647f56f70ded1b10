namespace MLNetTransformers.Tokenizers;

/// <summary>Which sequences padding extends.</summary>
public enum PaddingStrategy
{
    /// <summary>No padding.</summary>
    None,
    /// <summary>Pad every sequence of a batch to the longest one.</summary>
    Longest,
    /// <summary>Pad every sequence to <see cref="PaddingOptions.MaxLength"/>.</summary>
    MaxLength,
}

/// <summary>Which end of a sequence padding or truncation applies to.</summary>
public enum Side
{
    /// <summary>The end (the usual choice for encoders).</summary>
    Right,
    /// <summary>The start (the usual choice for decoder prompts).</summary>
    Left,
}

/// <summary>How tokens are removed from a pair when it is too long.</summary>
public enum TruncationStrategy
{
    /// <summary>Remove from the longer sequence first, one token at a time.</summary>
    LongestFirst,
    /// <summary>Remove only from the first sequence.</summary>
    OnlyFirst,
    /// <summary>Remove only from the second sequence.</summary>
    OnlySecond,
}

/// <summary>Truncation settings (Hugging Face's <c>truncation</c>). <see langword="null"/> properties take the defaults shown.</summary>
public sealed class TruncationOptions
{
    /// <summary>The maximum number of tokens, special tokens included.</summary>
    public int MaxLength { get; set; }

    /// <summary>Default <see cref="TruncationStrategy.LongestFirst"/>.</summary>
    public TruncationStrategy Strategy { get; set; } = TruncationStrategy.LongestFirst;

    /// <summary>Default: the tokenizer's truncation side, else <see cref="Side.Right"/>.</summary>
    public Side? Side { get; set; }
}

/// <summary>Padding settings (Hugging Face's <c>padding</c>). <see langword="null"/> properties take the tokenizer's defaults.</summary>
public sealed class PaddingOptions
{
    /// <summary>Default <see cref="PaddingStrategy.Longest"/>.</summary>
    public PaddingStrategy Strategy { get; set; } = PaddingStrategy.Longest;

    /// <summary>The length for <see cref="PaddingStrategy.MaxLength"/>.</summary>
    public int? MaxLength { get; set; }

    /// <summary>Default: the tokenizer's padding side (tokenizer_config.json <c>padding_side</c>), else <see cref="Side.Right"/>.</summary>
    public Side? Side { get; set; }

    /// <summary>Round the padded length up to a multiple of this (e.g. 8 for tensor cores).</summary>
    public int? PadToMultipleOf { get; set; }

    /// <summary>The padding id. Default: the pad token's id; a tokenizer without one needs this set.</summary>
    public int? PadId { get; set; }

    /// <summary>The type id of padding. Default 0.</summary>
    public int PadTypeId { get; set; }
}

/// <summary>Options for encoding. <see langword="null"/> means "none".</summary>
public sealed class EncodeOptions
{
    /// <summary>Whether the post-processor adds special tokens (e.g. <c>[CLS]</c>, <c>&lt;s&gt;</c>). Default true.</summary>
    public bool AddSpecialTokens { get; set; } = true;

    /// <summary>Truncation, or <see langword="null"/> for none.</summary>
    public TruncationOptions? Truncation { get; set; }

    /// <summary>Padding, or <see langword="null"/> for none.</summary>
    public PaddingOptions? Padding { get; set; }
}
