namespace MLNetTransformers.Generation.Logits;

/// <summary>Shared, allocation-free helpers of the processors.</summary>
internal static class LogitsMask
{
    /// <summary>Sets the given ids' logits to −∞; ids outside the vocabulary are ignored (as Hugging Face's <c>isin</c> mask does).</summary>
    public static void Suppress(Span<float> logits, ReadOnlySpan<int> ids)
    {
        foreach (int id in ids)
        {
            if ((uint)id < (uint)logits.Length)
            {
                logits[id] = float.NegativeInfinity;
            }
        }
    }

    /// <summary>The largest logit (−∞ when all are masked or the span is empty); NaN is ignored.</summary>
    public static float Max(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity;
        foreach (float value in logits)
        {
            if (value > max)
            {
                max = value;
            }
        }

        return max;
    }

    /// <summary>Σ exp(logit − max) in double; masked logits contribute 0.</summary>
    public static double SumExp(ReadOnlySpan<float> logits, float max)
    {
        double sum = 0;
        foreach (float value in logits)
        {
            if (value > float.NegativeInfinity)
            {
                sum += Math.Exp((double)value - max);
            }
        }

        return sum;
    }

    /// <summary>
    /// An int whose signed order is the float's order (−0 counts as +0), for packing into sort keys.
    /// </summary>
    public static int SortableBits(float value)
    {
        int bits = BitConverter.SingleToInt32Bits(value + 0f);
        return bits >= 0 ? bits : bits ^ int.MaxValue;
    }

    /// <summary>A key that sorts ascending by <paramref name="value"/> descending, then by id ascending.</summary>
    public static long DescendingKey(float value, int id) => ((long)~SortableBits(value) << 32) | (uint)id;

    /// <summary>A key that sorts ascending by <paramref name="value"/> ascending, then by id ascending.</summary>
    public static long AscendingKey(float value, int id) => ((long)SortableBits(value) << 32) | (uint)id;

    /// <summary>The token id packed in a key.</summary>
    public static int IdOf(long key) => (int)(uint)key;

    /// <summary>Grows a scratch buffer to at least <paramref name="length"/> (allocates only when it grows).</summary>
    public static T[] Ensure<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new T[length];
        }

        return buffer;
    }

    /// <summary>
    /// Writes the unmasked tokens as keys sorted by logit descending, then id ascending, into <paramref name="scratch"/>.
    /// </summary>
    /// <returns>The sorted keys (a prefix of the scratch buffer).</returns>
    public static Span<long> SortDescending(ReadOnlySpan<float> logits, ref long[] scratch)
    {
        long[] keys = Ensure(ref scratch, logits.Length);
        int count = 0;
        for (int id = 0; id < logits.Length; id++)
        {
            float value = logits[id];
            if (value > float.NegativeInfinity)
            {
                keys[count++] = DescendingKey(value, id);
            }
        }

        Span<long> sorted = keys.AsSpan(0, count);
        sorted.Sort();
        return sorted;
    }
}
