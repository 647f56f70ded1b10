namespace MLNetTransformers.Generation.Logits;

/// <summary>
/// Hugging Face's <c>MinPLogitsWarper</c>: removes the tokens whose probability is below min_p times the most likely token's
/// probability; the <see cref="MinTokensToKeep"/> most likely tokens are always kept.
/// </summary>
/// <remarks>p(token) &lt; min_p · p(top) is evaluated as exp(logit − max) &lt; min_p in double precision.</remarks>
public sealed class MinPLogitsWarper : LogitsProcessor
{
    private long[] _keys = [];

    /// <summary>Creates the warper.</summary>
    /// <param name="minP">The relative probability threshold, in [0, 1] (0 removes nothing).</param>
    /// <param name="minTokensToKeep">The least number of tokens to keep, ≥ 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minP"/> outside [0, 1] or <paramref name="minTokensToKeep"/> &lt; 1.</exception>
    public MinPLogitsWarper(float minP, int minTokensToKeep = 1)
    {
        MinP = LogitsValidation.MinP(minP, nameof(minP));
        MinTokensToKeep = LogitsValidation.AtLeast(minTokensToKeep, 1, nameof(minTokensToKeep));
    }

    /// <summary>The relative probability threshold.</summary>
    public float MinP { get; }

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

        double minP = MinP;
        if (MinTokensToKeep == 1)
        {
            // The most likely token always passes (exp(0) = 1 ≥ min_p), so no sort is needed.
            for (int i = 0; i < logits.Length; i++)
            {
                if (logits[i] > float.NegativeInfinity && Math.Exp((double)logits[i] - max) < minP)
                {
                    logits[i] = float.NegativeInfinity;
                }
            }

            return;
        }

        Span<long> sorted = LogitsMask.SortDescending(logits, ref _keys);
        for (int j = MinTokensToKeep; j < sorted.Length; j++)
        {
            int id = LogitsMask.IdOf(sorted[j]);
            if (Math.Exp((double)logits[id] - max) < minP)
            {
                logits[id] = float.NegativeInfinity;
            }
        }
    }
}
