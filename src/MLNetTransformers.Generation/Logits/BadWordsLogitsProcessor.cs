namespace MLNetTransformers.Generation.Logits;

/// <summary>
/// Hugging Face's <c>NoBadWordsLogitsProcessor</c> (<c>bad_words_ids</c>): a single-token sequence is always banned; for a
/// multi-token sequence, its last token is banned when the history ends with the sequence's other tokens.
/// </summary>
public sealed class BadWordsLogitsProcessor : LogitsProcessor
{
    private readonly int[] _singleTokens;
    private readonly int[][] _sequences;

    /// <summary>Creates the processor.</summary>
    /// <param name="badWordsIds">The banned token sequences: a non-empty list of non-empty sequences of non-negative ids.</param>
    /// <param name="eosTokenIds">End-of-sequence ids; as in Hugging Face, a single-token sequence equal to one of them is dropped
    /// so that generation can still end.</param>
    /// <exception cref="ArgumentNullException"><paramref name="badWordsIds"/> or one of its sequences is null.</exception>
    /// <exception cref="ArgumentException">The list or one of its sequences is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id is negative.</exception>
    public BadWordsLogitsProcessor(IEnumerable<IReadOnlyList<int>> badWordsIds, IEnumerable<int>? eosTokenIds = null)
    {
        ArgumentNullException.ThrowIfNull(badWordsIds);
        HashSet<int> eos = eosTokenIds is null ? [] : [.. eosTokenIds];
        var singles = new List<int>();
        var sequences = new List<int[]>();
        int count = 0;
        foreach (IReadOnlyList<int> sequence in badWordsIds)
        {
            ArgumentNullException.ThrowIfNull(sequence, nameof(badWordsIds));
            count++;
            if (sequence.Count == 0)
            {
                throw new ArgumentException("bad_words_ids must not contain an empty sequence.", nameof(badWordsIds));
            }

            foreach (int id in sequence)
            {
                if (id < 0)
                {
                    throw LogitsValidation.OutOfRange(nameof(badWordsIds), id, $"bad_words_ids must contain non-negative ids; got {id}.");
                }
            }

            if (sequence.Count == 1)
            {
                if (!eos.Contains(sequence[0]))
                {
                    singles.Add(sequence[0]);
                }
            }
            else
            {
                sequences.Add([.. sequence]);
            }
        }

        if (count == 0)
        {
            throw new ArgumentException("bad_words_ids must contain at least one sequence.", nameof(badWordsIds));
        }

        _singleTokens = [.. singles];
        _sequences = [.. sequences];
    }

    /// <inheritdoc/>
    public override void Process(Span<float> logits, ReadOnlySpan<int> tokenIds, int promptLength)
    {
        CheckIds(_singleTokens, logits.Length, "badWordsIds");
        foreach (int id in _singleTokens)
        {
            logits[id] = float.NegativeInfinity;
        }

        foreach (int[] sequence in _sequences)
        {
            int prefixLength = sequence.Length - 1;
            if (tokenIds.Length >= prefixLength && tokenIds[^prefixLength..].SequenceEqual(sequence.AsSpan(0, prefixLength)))
            {
                int banned = sequence[prefixLength];
                if ((uint)banned >= (uint)logits.Length)
                {
                    throw LogitsValidation.OutOfRange("badWordsIds", banned, $"Token id {banned} is outside the vocabulary of {logits.Length} logits.");
                }

                logits[banned] = float.NegativeInfinity;
            }
        }
    }
}
