using MLNetTransformers.Generation.Logits;

namespace MLNetTransformers.Generation.Decoding;

/// <summary>
/// The options of one generation, named like Hugging Face's <c>GenerationConfig</c>. Every numeric property is validated when set
/// (<see cref="ArgumentOutOfRangeException"/> naming it). Unset (<see langword="null"/>) values default from the model folder's
/// <c>generation_config.json</c> and <c>config.json</c> (see <see cref="Generator"/>).
/// </summary>
public sealed record GenerationOptions
{
    private readonly int? _maxNewTokens;
    private readonly int _minNewTokens;
    private readonly float _temperature = 1f;
    private readonly int _topK = 50;
    private readonly float _topP = 1f;
    private readonly float? _minP;
    private readonly float _typicalP = 1f;
    private readonly float _repetitionPenalty = 1f;
    private readonly int _noRepeatNGramSize;
    private readonly float _frequencyPenalty;
    private readonly float _presencePenalty;
    private readonly int _numBeams = 1;
    private readonly int _numReturnSequences = 1;

    /// <summary><c>max_new_tokens</c>, ≥ 1; <see langword="null"/> for <c>generation_config.json</c>'s <c>max_new_tokens</c>, else its
    /// <c>max_length</c> minus the prompt length, else 20. Always capped by the model's context length (finish reason
    /// <see cref="Text.FinishReason.Length"/>).</summary>
    public int? MaxNewTokens
    {
        get => _maxNewTokens;
        init => _maxNewTokens = value is { } v ? LogitsValidation.AtLeast(v, 1, nameof(MaxNewTokens)) : null;
    }

    /// <summary><c>min_new_tokens</c>, ≥ 0: end-of-sequence ids are masked until this many tokens were generated.</summary>
    public int MinNewTokens { get => _minNewTokens; init => _minNewTokens = LogitsValidation.AtLeast(value, 0, nameof(MinNewTokens)); }

    /// <summary><c>do_sample</c>: multinomial sampling instead of greedy decoding. Default false.</summary>
    public bool DoSample { get; init; }

    /// <summary><c>temperature</c>, ≥ 0 (default 1); 0 is greedy decoding.</summary>
    public float Temperature { get => _temperature; init => _temperature = LogitsValidation.Temperature(value, nameof(Temperature)); }

    /// <summary><c>top_k</c>, ≥ 0 (default 50); 0 disables top-k filtering.</summary>
    public int TopK { get => _topK; init => _topK = LogitsValidation.TopK(value, nameof(TopK)); }

    /// <summary><c>top_p</c>, in (0, 1] (default 1).</summary>
    public float TopP { get => _topP; init => _topP = LogitsValidation.TopP(value, nameof(TopP)); }

    /// <summary><c>min_p</c>, in [0, 1], or <see langword="null"/> (default).</summary>
    public float? MinP { get => _minP; init => _minP = value is { } v ? LogitsValidation.MinP(v, nameof(MinP)) : null; }

    /// <summary><c>typical_p</c>, in (0, 1] (default 1).</summary>
    public float TypicalP { get => _typicalP; init => _typicalP = LogitsValidation.TypicalP(value, nameof(TypicalP)); }

    /// <summary><c>repetition_penalty</c>, &gt; 0 (default 1: none).</summary>
    public float RepetitionPenalty { get => _repetitionPenalty; init => _repetitionPenalty = LogitsValidation.RepetitionPenalty(value, nameof(RepetitionPenalty)); }

    /// <summary>OpenAI's <c>frequency_penalty</c>: subtracted from a token's logit once per time it was generated, in [−2, 2].</summary>
    public float FrequencyPenalty { get => _frequencyPenalty; init => _frequencyPenalty = LogitsValidation.Penalty(value, nameof(FrequencyPenalty)); }

    /// <summary>OpenAI's <c>presence_penalty</c>: subtracted from the logit of every token generated at least once, in [−2, 2].</summary>
    public float PresencePenalty { get => _presencePenalty; init => _presencePenalty = LogitsValidation.Penalty(value, nameof(PresencePenalty)); }

    /// <summary><c>no_repeat_ngram_size</c>, ≥ 0 (default 0: none).</summary>
    public int NoRepeatNGramSize { get => _noRepeatNGramSize; init => _noRepeatNGramSize = LogitsValidation.AtLeast(value, 0, nameof(NoRepeatNGramSize)); }

    /// <summary><c>num_beams</c>, ≥ 1 (default 1: no beam search). Used by
    /// <see cref="Generator.GenerateBeams(IReadOnlyList{int}, GenerationOptions?, CancellationToken)"/>.</summary>
    public int NumBeams { get => _numBeams; init => _numBeams = LogitsValidation.AtLeast(value, 1, nameof(NumBeams)); }

    /// <summary><c>length_penalty</c> (default 1): a finished beam scores its log-probability sum divided by
    /// (generated length ** length_penalty).</summary>
    public double LengthPenalty { get; init; } = 1.0;

    /// <summary><c>early_stopping</c> (default false), Hugging Face's semantics: true stops as soon as <see cref="NumBeams"/>
    /// hypotheses are finished; false stops when no running beam can beat the worst finished one (assuming its length stays the
    /// current length).</summary>
    public bool EarlyStopping { get; init; }

    /// <summary><c>num_return_sequences</c>, ≥ 1 and ≤ <see cref="NumBeams"/> (checked when beam search starts; default 1).</summary>
    public int NumReturnSequences { get => _numReturnSequences; init => _numReturnSequences = LogitsValidation.AtLeast(value, 1, nameof(NumReturnSequences)); }

    /// <summary><c>bad_words_ids</c>: token sequences never to generate.</summary>
    public IReadOnlyList<IReadOnlyList<int>>? BadWordsIds { get; init; }

    /// <summary><c>seed</c>: equal seeds give equal sampled output; <see langword="null"/> for a random seed.</summary>
    public ulong? Seed { get; init; }

    /// <summary><c>eos_token_id</c> (one or many); <see langword="null"/> for the model's (generation_config.json, then config.json,
    /// then the tokenizer's); an empty list disables end-of-sequence stopping.</summary>
    public IReadOnlyList<int>? EosTokenIds { get; init; }

    /// <summary><c>pad_token_id</c>: the id that left-pads shorter prompts of a batch (masked out, never seen by the model's
    /// attention); <see langword="null"/> for the tokenizer's pad token, else config.json's, else the first end-of-sequence id.</summary>
    public int? PadTokenId { get; init; }

    /// <summary>
    /// What to do with a prompt that leaves no room in the model's context for <see cref="MaxNewTokens"/>:
    /// <see cref="PromptTruncation.None"/> (the default) rejects it with an <see cref="ArgumentException"/>;
    /// <see cref="PromptTruncation.Left"/> drops its oldest tokens (keeping a leading BOS token) so that prompt + new tokens fit.
    /// </summary>
    public PromptTruncation Truncation { get; init; }

    /// <summary>Stop strings, matched on the decoded text across token boundaries and trimmed from the result.</summary>
    public IReadOnlyList<string>? StopStrings { get; init; }

    /// <summary>Leave special tokens (such as EOS) out of the text. Default true.</summary>
    public bool SkipSpecialTokens { get; init; } = true;

    /// <summary>The logits-processor settings these options give, with the resolved end-of-sequence ids.</summary>
    /// <param name="eosTokenIds">The end-of-sequence ids in effect.</param>
    /// <returns>The settings.</returns>
    public LogitsProcessorSettings ToLogitsProcessorSettings(IReadOnlyList<int> eosTokenIds)
    {
        ArgumentNullException.ThrowIfNull(eosTokenIds);
        return new LogitsProcessorSettings
        {
            RepetitionPenalty = RepetitionPenalty,
            NoRepeatNGramSize = NoRepeatNGramSize,
            FrequencyPenalty = FrequencyPenalty,
            PresencePenalty = PresencePenalty,
            BadWordsIds = BadWordsIds,
            MinNewTokens = MinNewTokens,
            EosTokenIds = eosTokenIds,
            DoSample = DoSample,
            Temperature = Temperature,
            TopK = TopK,
            TopP = TopP,
            MinP = MinP,
            TypicalP = TypicalP,
        };
    }
}

/// <summary>How a prompt too long for the model's context is handled.</summary>
public enum PromptTruncation
{
    /// <summary>Reject it with a clear error.</summary>
    None,

    /// <summary>Drop the oldest tokens (after a leading BOS token, which is kept) until prompt + new tokens fit the context.</summary>
    Left,
}
