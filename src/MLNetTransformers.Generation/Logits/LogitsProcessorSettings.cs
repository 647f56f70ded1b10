namespace MLNetTransformers.Generation.Logits;

/// <summary>
/// The decoding parameters that select and configure logits processors, named and defaulted like Hugging Face's
/// <c>GenerationConfig</c>. Every property is validated when set (<see cref="ArgumentOutOfRangeException"/> naming it).
/// The generation engine maps its options onto this record and calls <see cref="LogitsProcessorList.Create"/>.
/// </summary>
public sealed record LogitsProcessorSettings
{
    private readonly float _repetitionPenalty = 1f;
    private readonly int _noRepeatNGramSize;
    private readonly int _minLength;
    private readonly int _minNewTokens;
    private readonly float _temperature = 1f;
    private readonly int _topK = 50;
    private readonly float _topP = 1f;
    private readonly float? _minP;
    private readonly float _typicalP = 1f;
    private readonly int _minTokensToKeep = 1;

    /// <summary><c>repetition_penalty</c>, &gt; 0; 1 (the default) adds no processor.</summary>
    public float RepetitionPenalty { get => _repetitionPenalty; init => _repetitionPenalty = LogitsValidation.RepetitionPenalty(value, nameof(RepetitionPenalty)); }

    /// <summary><c>no_repeat_ngram_size</c>, ≥ 0; 0 (the default) adds no processor.</summary>
    public int NoRepeatNGramSize { get => _noRepeatNGramSize; init => _noRepeatNGramSize = LogitsValidation.AtLeast(value, 0, nameof(NoRepeatNGramSize)); }

    /// <summary><c>bad_words_ids</c>: token sequences never to generate; null (the default) adds no processor.</summary>
    public IReadOnlyList<IReadOnlyList<int>>? BadWordsIds { get; init; }

    /// <summary>OpenAI's <c>frequency_penalty</c> over the generated tokens, in [−2, 2] (0: none).</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>OpenAI's <c>presence_penalty</c> over the generated tokens, in [−2, 2] (0: none).</summary>
    public float PresencePenalty { get; init; }

    /// <summary><c>min_length</c>: the least total length (prompt included) before an end-of-sequence id may be chosen; 0 (the
    /// default) adds no processor. Needs <see cref="EosTokenIds"/>.</summary>
    public int MinLength { get => _minLength; init => _minLength = LogitsValidation.AtLeast(value, 0, nameof(MinLength)); }

    /// <summary><c>min_new_tokens</c>: the least number of new tokens before an end-of-sequence id may be chosen; 0 (the default)
    /// adds no processor. Needs <see cref="EosTokenIds"/>.</summary>
    public int MinNewTokens { get => _minNewTokens; init => _minNewTokens = LogitsValidation.AtLeast(value, 0, nameof(MinNewTokens)); }

    /// <summary><c>eos_token_id</c> (one or many); without them, as in Hugging Face, min_length and min_new_tokens add nothing.</summary>
    public IReadOnlyList<int>? EosTokenIds { get; init; }

    /// <summary><c>do_sample</c>: sample (and add the warpers) instead of greedy decoding. Default false.</summary>
    public bool DoSample { get; init; }

    /// <summary><c>temperature</c>, ≥ 0 (default 1); 0 means greedy decoding even when <see cref="DoSample"/> is set.</summary>
    public float Temperature { get => _temperature; init => _temperature = LogitsValidation.Temperature(value, nameof(Temperature)); }

    /// <summary><c>top_k</c>, ≥ 0 (default 50, as Hugging Face); 0 disables top-k filtering.</summary>
    public int TopK { get => _topK; init => _topK = LogitsValidation.TopK(value, nameof(TopK)); }

    /// <summary><c>top_p</c>, in (0, 1] (default 1, no filtering).</summary>
    public float TopP { get => _topP; init => _topP = LogitsValidation.TopP(value, nameof(TopP)); }

    /// <summary><c>min_p</c>, in [0, 1], or null (the default) for no min-p filtering.</summary>
    public float? MinP { get => _minP; init => _minP = value is { } v ? LogitsValidation.MinP(v, nameof(MinP)) : null; }

    /// <summary><c>typical_p</c>, in (0, 1] (default 1, no filtering).</summary>
    public float TypicalP { get => _typicalP; init => _typicalP = LogitsValidation.TypicalP(value, nameof(TypicalP)); }

    /// <summary>The least number of tokens the warpers keep, ≥ 1 (default 1; Hugging Face uses 1 + the number of EOS ids when
    /// sampling with beams).</summary>
    public int MinTokensToKeep { get => _minTokensToKeep; init => _minTokensToKeep = LogitsValidation.AtLeast(value, 1, nameof(MinTokensToKeep)); }

    /// <summary>Whether tokens are sampled: <see cref="DoSample"/> with a temperature above 0. Otherwise decoding is greedy (or
    /// beam search) and no warper is added.</summary>
    public bool IsSampling => DoSample && Temperature > 0f;
}
