using System.Numerics;
using System.Runtime.InteropServices;

namespace MLNetTransformers.Generation.Logits;

/// <summary>
/// Choosing the next token from one row's processed logits, and the log-softmax used for beam scores. Nothing here allocates.
/// </summary>
public static class TokenSelection
{
    /// <summary>Greedy decoding: the id of the largest logit; ties go to the lowest id (as <c>torch.argmax</c>).</summary>
    /// <param name="logits">The row's logits.</param>
    /// <returns>The chosen id.</returns>
    /// <exception cref="ArgumentException"><paramref name="logits"/> is empty.</exception>
    /// <remarks>NaN counts as larger than every number (as <c>torch.argmax</c>); the first NaN wins.</remarks>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty)
        {
            throw new ArgumentException("The logits are empty.", nameof(logits));
        }

        // Vectorized maximum first (no NaN seen), then the first position holding it: the same answer as the scalar scan, which
        // only runs when a NaN is present (NaN wins, the first one).
        if (Vector.IsHardwareAccelerated && logits.Length >= 2 * Vector<float>.Count)
        {
            ReadOnlySpan<Vector<float>> vectors = MemoryMarshal.Cast<float, Vector<float>>(logits);
            Vector<float> max = vectors[0];
            bool nan = !Vector.EqualsAll(max, max);
            for (int v = 1; v < vectors.Length && !nan; v++)
            {
                nan = !Vector.EqualsAll(vectors[v], vectors[v]);
                max = Vector.Max(max, vectors[v]);
            }

            if (!nan)
            {
                float best = max[0];
                for (int lane = 1; lane < Vector<float>.Count; lane++)
                {
                    best = Math.Max(best, max[lane]);
                }

                for (int t = vectors.Length * Vector<float>.Count; t < logits.Length; t++)
                {
                    if (float.IsNaN(logits[t]))
                    {
                        return t;
                    }

                    best = Math.Max(best, logits[t]);
                }

                return FirstEqual(logits, best);
            }
        }

        return ScalarArgMax(logits);
    }

    /// <summary>The first position equal to <paramref name="value"/> (== treats −0 and +0 alike, as the scalar scan's ties do).</summary>
    private static int FirstEqual(ReadOnlySpan<float> logits, float value)
    {
        for (int i = 0; i < logits.Length; i++)
        {
            if (logits[i] == value)
            {
                return i;
            }
        }

        return 0;
    }

    private static int ScalarArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        float bestValue = logits[0];
        if (float.IsNaN(bestValue))
        {
            return 0;
        }

        for (int i = 1; i < logits.Length; i++)
        {
            float value = logits[i];
            if (value > bestValue)
            {
                best = i;
                bestValue = value;
            }
            else if (float.IsNaN(value))
            {
                return i;
            }
        }

        return best;
    }

    /// <summary>
    /// Multinomial sampling: draws an id with probability softmax(logits); masked (−∞) tokens are never drawn.
    /// </summary>
    /// <param name="logits">The row's processed logits.</param>
    /// <param name="random">The seeded generator; one <see cref="Xoshiro256StarStar.NextDouble"/> is consumed per draw.</param>
    /// <returns>The chosen id.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="logits"/> is empty, every token is masked, or a logit is NaN or +∞.</exception>
    /// <remarks>The draw u ∈ [0, 1) is scaled by Σ exp(logit − max) (double precision) and the ids are walked in ascending order
    /// until the running sum exceeds it, so the result depends only on the logits and the generator's state.</remarks>
    public static int Sample(ReadOnlySpan<float> logits, Xoshiro256StarStar random)
    {
        ArgumentNullException.ThrowIfNull(random);
        float max = CheckedMax(logits);
        double total = LogitsMask.SumExp(logits, max);
        double target = random.NextDouble() * total;
        double cumulative = 0;
        int lastPositive = -1;
        for (int i = 0; i < logits.Length; i++)
        {
            if (logits[i] > float.NegativeInfinity)
            {
                double weight = Math.Exp((double)logits[i] - max);
                if (weight > 0)
                {
                    cumulative += weight;
                    lastPositive = i;
                    if (cumulative > target)
                    {
                        return i;
                    }
                }
            }
        }

        return lastPositive; // rounding left the target at the very end of the mass
    }

    /// <summary>Writes log-softmax(logits) to <paramref name="destination"/> (which may be <paramref name="logits"/> itself):
    /// logit − max − log Σ exp(logit − max), computed in double precision; masked tokens stay −∞.</summary>
    /// <param name="logits">The row's logits.</param>
    /// <param name="destination">The output, at least as long as <paramref name="logits"/>.</param>
    /// <exception cref="ArgumentException">The destination is too short, the logits are empty, every token is masked, or a logit
    /// is NaN or +∞.</exception>
    public static void LogSoftmax(ReadOnlySpan<float> logits, Span<float> destination)
    {
        CheckDestination(logits, destination);
        float max = CheckedMax(logits);
        double logSum = Math.Log(LogitsMask.SumExp(logits, max));
        for (int i = 0; i < logits.Length; i++)
        {
            destination[i] = (float)(logits[i] - max - logSum);
        }
    }

    /// <summary>Writes softmax(logits) to <paramref name="destination"/> (which may be <paramref name="logits"/> itself), in double
    /// precision; masked tokens get 0.</summary>
    /// <param name="logits">The row's logits.</param>
    /// <param name="destination">The output, at least as long as <paramref name="logits"/>.</param>
    /// <exception cref="ArgumentException">The destination is too short, the logits are empty, every token is masked, or a logit
    /// is NaN or +∞.</exception>
    public static void Softmax(ReadOnlySpan<float> logits, Span<float> destination)
    {
        CheckDestination(logits, destination);
        float max = CheckedMax(logits);
        double sum = LogitsMask.SumExp(logits, max);
        for (int i = 0; i < logits.Length; i++)
        {
            destination[i] = (float)(Math.Exp((double)logits[i] - max) / sum);
        }
    }

    private static void CheckDestination(ReadOnlySpan<float> logits, Span<float> destination)
    {
        if (destination.Length < logits.Length)
        {
            throw new ArgumentException($"The destination has {destination.Length} values for {logits.Length} logits.", nameof(destination));
        }
    }

    private static float CheckedMax(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty)
        {
            throw new ArgumentException("The logits are empty.", nameof(logits));
        }

        float max = float.NegativeInfinity;
        foreach (float value in logits)
        {
            if (float.IsNaN(value) || float.IsPositiveInfinity(value))
            {
                throw new ArgumentException("The logits contain NaN or +∞; no probability distribution can be formed.", nameof(logits));
            }

            max = Math.Max(max, value);
        }

        if (max == float.NegativeInfinity)
        {
            throw new ArgumentException("Every token is masked (all logits are −∞); no token can be sampled.", nameof(logits));
        }

        return max;
    }
}
