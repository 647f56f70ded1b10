namespace MLNetTransformers.Generation.Logits;

/// <summary>
/// Hugging Face's <c>TopPLogitsWarper</c> (nucleus sampling): with the tokens sorted by probability ascending, removes those whose
/// cumulative probability is ≤ 1 − top_p, so the kept set is the smallest set of most likely tokens whose mass is at least
/// top_p; the <see cref="MinTokensToKeep"/> most likely tokens are always kept.
/// </summary>
/// <remarks>Ties in logit are ordered by id (the lower id counts as more likely). Probabilities are summed in double precision.
/// Only unmasked tokens are sorted, so after a top-k warper the cost is that of sorting k values.</remarks>
public sealed class TopPLogitsWarper : LogitsProcessor
{
    private long[] _keys = [];

    /// <summary>Creates the warper.</summary>
    /// <param name="topP">The probability mass to keep, in (0, 1].</param>
    /// <param name="minTokensToKeep">The least number of tokens to keep, ≥ 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="topP"/> outside (0, 1] or <paramref name="minTokensToKeep"/> &lt; 1.</exception>
    public TopPLogitsWarper(float topP, int minTokensToKeep = 1)
    {
        TopP = LogitsValidation.TopP(topP, nameof(topP));
        MinTokensToKeep = LogitsValidation.AtLeast(minTokensToKeep, 1, nameof(minTokensToKeep));
    }

    /// <summary>The probability mass to keep.</summary>
    public float TopP { get; }

    /// <summary>The least number of tokens kept.</summary>
    public int MinTokensToKeep { get; }

    /// <inheritdoc/>
    public override void Process(Span<float> logits, ReadOnlySpan<int> tokenIds, int promptLength)
    {
        float max = LogitsMask.Max(logits);
        if (max == float.NegativeInfinity)
        {
            return;
        }

        double sum = LogitsMask.SumExp(logits, max);
        Span<long> sorted = LogitsMask.SortDescending(logits, ref _keys);
        double removable = 1.0 - TopP;
        double cumulative = 0;
        for (int j = sorted.Length - 1; j >= MinTokensToKeep; j--)
        {
            int id = LogitsMask.IdOf(sorted[j]);
            cumulative += Math.Exp((double)logits[id] - max) / sum;
            if (cumulative > removable)
            {
                break;
            }

            logits[id] = float.NegativeInfinity;
        }
    }
}
