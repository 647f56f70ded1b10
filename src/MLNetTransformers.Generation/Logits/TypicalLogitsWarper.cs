namespace MLNetTransformers.Generation.Logits;

/// <summary>
/// Hugging Face's <c>TypicalLogitsWarper</c> (locally typical sampling, <c>typical_p</c>): ranks tokens by how close their
/// information −log p is to the distribution's entropy, and keeps the closest ones until their probability mass reaches
/// typical_p (the token that reaches it, and ties with it, included); the <see cref="MinTokensToKeep"/> closest are always kept.
/// </summary>
/// <remarks>Ties in distance are ordered by id. Probabilities and the entropy are computed in double precision; the distance is
/// compared in single precision, as Hugging Face's float32 tensors do.</remarks>
public sealed class TypicalLogitsWarper : LogitsProcessor
{
    private long[] _keys = [];

    /// <summary>Creates the warper.</summary>
    /// <param name="mass">The probability mass to keep (<c>typical_p</c>), in (0, 1]; 1 keeps every token.</param>
    /// <param name="minTokensToKeep">The least number of tokens to keep, ≥ 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="mass"/> outside (0, 1] or <paramref name="minTokensToKeep"/> &lt; 1.</exception>
    public TypicalLogitsWarper(float mass, int minTokensToKeep = 1)
    {
        Mass = LogitsValidation.TypicalP(mass, nameof(mass));
        MinTokensToKeep = LogitsValidation.AtLeast(minTokensToKeep, 1, nameof(minTokensToKeep));
    }

    /// <summary>The probability mass to keep.</summary>
    public float Mass { get; }

    /// <summary>The least number of tokens kept.</summary>
    public int MinTokensToKeep { get; }

    /// <inheritdoc/>
    public override void Process(Span<float> logits, ReadOnlySpan<int> tokenIds, int promptLength)
    {
        if (Mass >= 1f)
        {
            return;
        }

        float max = LogitsMask.Max(logits);
        if (max == float.NegativeInfinity)
        {
            return;
        }

        double logSum = Math.Log(LogitsMask.SumExp(logits, max));
        double entropy = 0;
        foreach (float value in logits)
        {
            if (value > float.NegativeInfinity)
            {
                double logP = value - max - logSum;
                entropy -= Math.Exp(logP) * logP;
            }
        }

        long[] keys = LogitsMask.Ensure(ref _keys, logits.Length);
        int count = 0;
        for (int id = 0; id < logits.Length; id++)
        {
            if (logits[id] > float.NegativeInfinity)
            {
                keys[count++] = LogitsMask.AscendingKey(Distance(logits[id], max, logSum, entropy), id);
            }
        }

        Span<long> sorted = keys.AsSpan(0, count);
        sorted.Sort();

        // The first position whose cumulative probability reaches the mass (Hugging Face: (cumsum < mass).sum(), clamped).
        double cumulative = 0;
        int last = 0;
        for (; last < sorted.Length - 1; last++)
        {
            cumulative += Math.Exp(logits[LogitsMask.IdOf(sorted[last])] - max - logSum);
            if (cumulative >= Mass)
            {
                break;
            }
        }

        int lastId = LogitsMask.IdOf(sorted[last]);
        float threshold = Distance(logits[lastId], max, logSum, entropy);
        for (int j = MinTokensToKeep; j < sorted.Length; j++)
        {
            int id = LogitsMask.IdOf(sorted[j]);
            if (Distance(logits[id], max, logSum, entropy) > threshold)
            {
                logits[id] = float.NegativeInfinity;
            }
        }
    }

    private static float Distance(float logit, float max, double logSum, double entropy) =>
        (float)Math.Abs(-(logit - max - logSum) - entropy);
}
