namespace MLNetTransformers.Generation.Logits;

/// <summary>
/// OpenAI's additive penalties over the generated tokens: <c>logit[t] −= frequency · count(t) + presence · (count(t) &gt; 0)</c>,
/// where <c>count(t)</c> counts <c>t</c> among the tokens generated so far (the prompt is not counted, as in OpenAI's API).
/// Positive values discourage repetition, negative ones encourage it. Allocates only when the vocabulary grows.
/// </summary>
public sealed class FrequencyPresencePenaltyLogitsProcessor : LogitsProcessor
{
    private int[] _counts = [];

    /// <summary>Creates the processor.</summary>
    /// <param name="frequencyPenalty">Subtracted once per earlier occurrence, in [−2, 2].</param>
    /// <param name="presencePenalty">Subtracted once from every token that occurred, in [−2, 2].</param>
    /// <exception cref="ArgumentOutOfRangeException">A penalty outside [−2, 2] or not finite.</exception>
    public FrequencyPresencePenaltyLogitsProcessor(float frequencyPenalty, float presencePenalty)
    {
        FrequencyPenalty = LogitsValidation.Penalty(frequencyPenalty, nameof(frequencyPenalty));
        PresencePenalty = LogitsValidation.Penalty(presencePenalty, nameof(presencePenalty));
    }

    /// <summary>The frequency penalty.</summary>
    public float FrequencyPenalty { get; }

    /// <summary>The presence penalty.</summary>
    public float PresencePenalty { get; }

    /// <inheritdoc/>
    public override void Process(Span<float> logits, ReadOnlySpan<int> tokenIds, int promptLength)
    {
        CheckIds(tokenIds, logits.Length, nameof(tokenIds));
        if (_counts.Length < logits.Length)
        {
            _counts = new int[logits.Length];
        }

        ReadOnlySpan<int> generated = tokenIds[Math.Min(promptLength, tokenIds.Length)..];
        foreach (int id in generated)
        {
            _counts[id]++;
        }

        foreach (int id in generated)
        {
            int count = _counts[id];
            if (count > 0)
            {
                logits[id] -= (FrequencyPenalty * count) + PresencePenalty;
                _counts[id] = 0; // each id once; also leaves the counts cleared for the next step
            }
        }
    }
}
