namespace MLNetTransformers.Generation.Logits;

/// <summary>
/// Hugging Face's <c>MinLengthLogitsProcessor</c> (<c>min_length</c>): sets the end-of-sequence logits to −∞ while the whole
/// history (prompt included) is shorter than <see cref="MinLength"/>.
/// </summary>
public sealed class MinLengthLogitsProcessor : LogitsProcessor
{
    private readonly int[] _eosTokenIds;

    /// <summary>Creates the processor.</summary>
    /// <param name="minLength">The minimum total length, ≥ 0.</param>
    /// <param name="eosTokenIds">The end-of-sequence ids (one or many, non-negative).</param>
    /// <exception cref="ArgumentNullException"><paramref name="eosTokenIds"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minLength"/> &lt; 0 or an id is negative.</exception>
    public MinLengthLogitsProcessor(int minLength, IEnumerable<int> eosTokenIds)
    {
        ArgumentNullException.ThrowIfNull(eosTokenIds);
        MinLength = LogitsValidation.AtLeast(minLength, 0, nameof(minLength));
        _eosTokenIds = [.. eosTokenIds];
        foreach (int id in _eosTokenIds)
        {
            LogitsValidation.AtLeast(id, 0, nameof(eosTokenIds));
        }
    }

    /// <summary>The minimum total length.</summary>
    public int MinLength { get; }

    /// <inheritdoc/>
    public override void Process(Span<float> logits, ReadOnlySpan<int> tokenIds, int promptLength)
    {
        if (tokenIds.Length < MinLength)
        {
            LogitsMask.Suppress(logits, _eosTokenIds);
        }
    }
}
