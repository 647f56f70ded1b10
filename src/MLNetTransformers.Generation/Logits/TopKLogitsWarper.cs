namespace MLNetTransformers.Generation.Logits;

/// <summary>
/// Hugging Face's <c>TopKLogitsWarper</c>: keeps the tokens whose logit is at least the k-th largest (ties with it are kept, as
/// <c>scores &lt; topk(scores, k).values[-1]</c> removes) and sets the others to −∞.
/// </summary>
public sealed class TopKLogitsWarper : LogitsProcessor
{
    private float[] _heap = [];

    /// <summary>Creates the warper.</summary>
    /// <param name="topK">How many tokens to keep, ≥ 1 here (a <c>top_k</c> of 0 means no warper).</param>
    /// <param name="minTokensToKeep">The least number of tokens to keep, ≥ 1 (k is raised to it).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="topK"/> &lt; 1 or <paramref name="minTokensToKeep"/> &lt; 1.</exception>
    public TopKLogitsWarper(int topK, int minTokensToKeep = 1)
    {
        LogitsValidation.TopK(topK, nameof(topK));
        TopK = LogitsValidation.AtLeast(topK, 1, nameof(topK));
        MinTokensToKeep = LogitsValidation.AtLeast(minTokensToKeep, 1, nameof(minTokensToKeep));
    }

    /// <summary>How many tokens to keep.</summary>
    public int TopK { get; }

    /// <summary>The least number of tokens kept.</summary>
    public int MinTokensToKeep { get; }

    /// <inheritdoc/>
    public override void Process(Span<float> logits, ReadOnlySpan<int> tokenIds, int promptLength)
    {
        int k = Math.Min(Math.Max(TopK, MinTokensToKeep), logits.Length);
        if (k == logits.Length || k == 0)
        {
            return;
        }

        // A min-heap of the k largest logits seen; its root is the k-th largest.
        float[] heap = LogitsMask.Ensure(ref _heap, k);
        logits[..k].CopyTo(heap);
        for (int i = k / 2 - 1; i >= 0; i--)
        {
            SiftDown(heap, k, i);
        }

        for (int i = k; i < logits.Length; i++)
        {
            if (logits[i] > heap[0])
            {
                heap[0] = logits[i];
                SiftDown(heap, k, 0);
            }
        }

        float threshold = heap[0];
        for (int i = 0; i < logits.Length; i++)
        {
            if (logits[i] < threshold)
            {
                logits[i] = float.NegativeInfinity;
            }
        }
    }

    private static void SiftDown(float[] heap, int count, int index)
    {
        while (true)
        {
            int left = 2 * index + 1;
            if (left >= count)
            {
                return;
            }

            int smallest = left + 1 < count && heap[left + 1] < heap[left] ? left + 1 : left;
            if (!(heap[smallest] < heap[index]))
            {
                return;
            }

            (heap[smallest], heap[index]) = (heap[index], heap[smallest]);
            index = smallest;
        }
    }
}
