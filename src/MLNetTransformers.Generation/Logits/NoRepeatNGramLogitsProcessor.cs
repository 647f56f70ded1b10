namespace MLNetTransformers.Generation.Logits;

/// <summary>
/// Hugging Face's <c>NoRepeatNGramLogitsProcessor</c>: bans every token that would complete an n-gram already present in the
/// history (prompt and generated tokens). With size 1 every token seen so far is banned.
/// </summary>
/// <remarks>Each call scans the history once per position (O(history × size)), without allocating.</remarks>
public sealed class NoRepeatNGramLogitsProcessor : LogitsProcessor
{
    /// <summary>Creates the processor.</summary>
    /// <param name="ngramSize">The n-gram size, ≥ 1 (<c>no_repeat_ngram_size</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ngramSize"/> &lt; 1.</exception>
    public NoRepeatNGramLogitsProcessor(int ngramSize)
    {
        NGramSize = LogitsValidation.AtLeast(ngramSize, 1, nameof(ngramSize));
    }

    /// <summary>The n-gram size.</summary>
    public int NGramSize { get; }

    /// <inheritdoc/>
    public override void Process(Span<float> logits, ReadOnlySpan<int> tokenIds, int promptLength)
    {
        int n = NGramSize;
        if (tokenIds.Length < n)
        {
            return;
        }

        // The (n-1)-token prefix the next token would extend; every earlier n-gram starting with it bans its last token.
        ReadOnlySpan<int> prefix = tokenIds[(tokenIds.Length - n + 1)..];
        for (int start = 0; start + n <= tokenIds.Length; start++)
        {
            if (tokenIds.Slice(start, n - 1).SequenceEqual(prefix))
            {
                int banned = tokenIds[start + n - 1];
                if ((uint)banned >= (uint)logits.Length)
                {
                    throw LogitsValidation.OutOfRange(nameof(tokenIds), banned, $"Token id {banned} is outside the vocabulary of {logits.Length} logits.");
                }

                logits[banned] = float.NegativeInfinity;
            }
        }
    }
}
