namespace MLNetTransformers.Generation.Logits;

/// <summary>
/// An ordered list of <see cref="LogitsProcessor"/>s applied one after another to a row's logits, and the factory that builds it
/// from <see cref="LogitsProcessorSettings"/> in Hugging Face's order.
/// </summary>
/// <remarks>
/// <para><see cref="Create"/> follows <c>GenerationMixin._get_logits_processor</c> in transformers'
/// <c>src/transformers/generation/utils.py</c>, restricted to the parameters supported here. Processors, each only when enabled:</para>
/// <list type="number">
/// <item><see cref="RepetitionPenaltyLogitsProcessor"/> — <c>repetition_penalty</c> ≠ 1</item>
/// <item><see cref="FrequencyPresencePenaltyLogitsProcessor"/> — OpenAI's <c>frequency_penalty</c>/<c>presence_penalty</c> ≠ 0 (not in
/// transformers; placed with the other repetition penalty)</item>
/// <item><see cref="NoRepeatNGramLogitsProcessor"/> — <c>no_repeat_ngram_size</c> &gt; 0</item>
/// <item><see cref="BadWordsLogitsProcessor"/> — <c>bad_words_ids</c> given</item>
/// <item><see cref="MinLengthLogitsProcessor"/> — <c>min_length</c> &gt; 0 and EOS ids known</item>
/// <item><see cref="MinNewTokensLogitsProcessor"/> — <c>min_new_tokens</c> &gt; 0 and EOS ids known</item>
/// <item>custom processors passed to <see cref="Create"/>, in their order (transformers merges user processors here, before the
/// warpers)</item>
/// </list>
/// <para>then, only when sampling (<c>do_sample</c>), the warpers:</para>
/// <list type="number">
/// <item><see cref="TemperatureLogitsWarper"/> — <c>temperature</c> ≠ 1</item>
/// <item><see cref="TopKLogitsWarper"/> — <c>top_k</c> ≠ 0</item>
/// <item><see cref="TopPLogitsWarper"/> — <c>top_p</c> &lt; 1</item>
/// <item><see cref="MinPLogitsWarper"/> — <c>min_p</c> set</item>
/// <item><see cref="TypicalLogitsWarper"/> — <c>typical_p</c> &lt; 1</item>
/// </list>
/// <para>(transformers also places encoder repetition penalty before the repetition penalty, encoder no-repeat-n-gram after
/// no-repeat-n-gram, sequence bias and diversity penalty first, forced BOS/EOS, suppress tokens and others after min_new_tokens, and
/// epsilon/eta cutoffs after typical_p; none of those are built here.)</para>
/// <para>Temperature 0 is greedy decoding: no warper is added. Applying the list does not allocate.</para>
/// </remarks>
public sealed class LogitsProcessorList
{
    private readonly List<LogitsProcessor> _processors = [];

    /// <summary>Creates an empty list.</summary>
    public LogitsProcessorList()
    {
    }

    /// <summary>Creates a list of the given processors, in order.</summary>
    /// <param name="processors">The processors.</param>
    /// <exception cref="ArgumentNullException"><paramref name="processors"/> or one of them is null.</exception>
    public LogitsProcessorList(IEnumerable<LogitsProcessor> processors)
    {
        ArgumentNullException.ThrowIfNull(processors);
        foreach (LogitsProcessor processor in processors)
        {
            Add(processor);
        }
    }

    /// <summary>The processors, in the order they are applied.</summary>
    public IReadOnlyList<LogitsProcessor> Processors => _processors;

    /// <summary>The number of processors.</summary>
    public int Count => _processors.Count;

    /// <summary>Appends a processor.</summary>
    /// <param name="processor">The processor.</param>
    /// <exception cref="ArgumentNullException"><paramref name="processor"/> is null.</exception>
    public void Add(LogitsProcessor processor)
    {
        ArgumentNullException.ThrowIfNull(processor);
        _processors.Add(processor);
    }

    /// <summary>Applies every processor in order to one row's logits, in place.</summary>
    /// <param name="logits">The row's logits; modified in place.</param>
    /// <param name="tokenIds">The row's history: prompt then generated ids, without padding.</param>
    /// <param name="promptLength">How many of <paramref name="tokenIds"/> are the prompt.</param>
    public void Process(Span<float> logits, ReadOnlySpan<int> tokenIds, int promptLength)
    {
        for (int i = 0; i < _processors.Count; i++)
        {
            _processors[i].Process(logits, tokenIds, promptLength);
        }
    }

    /// <summary>Builds the processors for <paramref name="settings"/> in Hugging Face's order (see the remarks).</summary>
    /// <param name="settings">The decoding parameters.</param>
    /// <param name="customProcessors">Caller's processors, placed after the built-in processors and before the warpers.</param>
    /// <returns>A new list (possibly empty).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="settings"/> is null.</exception>
    public static LogitsProcessorList Create(LogitsProcessorSettings settings, IEnumerable<LogitsProcessor>? customProcessors = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var list = new LogitsProcessorList();
        if (settings.RepetitionPenalty != 1f)
        {
            list.Add(new RepetitionPenaltyLogitsProcessor(settings.RepetitionPenalty));
        }

        if (settings.FrequencyPenalty != 0f || settings.PresencePenalty != 0f)
        {
            list.Add(new FrequencyPresencePenaltyLogitsProcessor(settings.FrequencyPenalty, settings.PresencePenalty));
        }

        if (settings.NoRepeatNGramSize > 0)
        {
            list.Add(new NoRepeatNGramLogitsProcessor(settings.NoRepeatNGramSize));
        }

        if (settings.BadWordsIds is { } badWords)
        {
            list.Add(new BadWordsLogitsProcessor(badWords, settings.EosTokenIds));
        }

        bool hasEos = settings.EosTokenIds is { Count: > 0 };
        if (settings.MinLength > 0 && hasEos)
        {
            list.Add(new MinLengthLogitsProcessor(settings.MinLength, settings.EosTokenIds!));
        }

        if (settings.MinNewTokens > 0 && hasEos)
        {
            list.Add(new MinNewTokensLogitsProcessor(settings.MinNewTokens, settings.EosTokenIds!));
        }

        if (customProcessors is not null)
        {
            foreach (LogitsProcessor processor in customProcessors)
            {
                list.Add(processor);
            }
        }

        if (settings.IsSampling)
        {
            int keep = settings.MinTokensToKeep;
            if (settings.Temperature != 1f)
            {
                list.Add(new TemperatureLogitsWarper(settings.Temperature));
            }

            if (settings.TopK != 0)
            {
                list.Add(new TopKLogitsWarper(settings.TopK, keep));
            }

            if (settings.TopP < 1f)
            {
                list.Add(new TopPLogitsWarper(settings.TopP, keep));
            }

            if (settings.MinP is { } minP)
            {
                list.Add(new MinPLogitsWarper(minP, keep));
            }

            if (settings.TypicalP < 1f)
            {
                list.Add(new TypicalLogitsWarper(settings.TypicalP, keep));
            }
        }

        return list;
    }
}
