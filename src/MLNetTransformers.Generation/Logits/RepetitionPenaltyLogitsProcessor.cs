namespace MLNetTransformers.Generation.Logits;

/// <summary>
/// Hugging Face's <c>RepetitionPenaltyLogitsProcessor</c> (CTRL's penalty): for every distinct token id in the history, a
/// positive logit is divided by the penalty and a negative one multiplied by it, so a penalty &gt; 1 discourages repetition and
/// a penalty &lt; 1 encourages it. A token seen several times is penalized once (Hugging Face gathers then scatters).
/// </summary>
public sealed class RepetitionPenaltyLogitsProcessor : LogitsProcessor
{
    private int[] _seenStamp = [];
    private int _epoch;

    /// <summary>Creates the processor.</summary>
    /// <param name="penalty">The penalty, &gt; 0 (1 changes nothing).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="penalty"/> ≤ 0 or not finite.</exception>
    public RepetitionPenaltyLogitsProcessor(float penalty)
    {
        Penalty = LogitsValidation.RepetitionPenalty(penalty, nameof(penalty));
    }

    /// <summary>The penalty.</summary>
    public float Penalty { get; }

    /// <inheritdoc/>
    public override void Process(Span<float> logits, ReadOnlySpan<int> tokenIds, int promptLength)
    {
        CheckIds(tokenIds, logits.Length, nameof(tokenIds));
        if (_seenStamp.Length < logits.Length)
        {
            _seenStamp = new int[logits.Length];
            _epoch = 0;
        }

        if (++_epoch == int.MaxValue)
        {
            Array.Clear(_seenStamp);
            _epoch = 1;
        }

        float penalty = Penalty;
        foreach (int id in tokenIds)
        {
            if (_seenStamp[id] == _epoch)
            {
                continue;
            }

            _seenStamp[id] = _epoch;
            float score = logits[id];
            logits[id] = score < 0f ? score * penalty : score / penalty;
        }
    }
}
