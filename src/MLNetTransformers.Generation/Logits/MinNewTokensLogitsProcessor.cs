namespace MLNetTransformers.Generation.Logits;

/// <summary>
/// Hugging Face's <c>MinNewTokensLengthLogitsProcessor</c> (<c>min_new_tokens</c>): sets the end-of-sequence logits to −∞ while
/// fewer than <see cref="MinNewTokens"/> tokens have been generated after the prompt.
/// </summary>
public sealed class MinNewTokensLogitsProcessor : LogitsProcessor
{
    private readonly int[] _eosTokenIds;

    /// <summary>Creates the processor.</summary>
    /// <param name="minNewTokens">The minimum number of new tokens, ≥ 0.</param>
    /// <param name="eosTokenIds">The end-of-sequence ids (one or many, non-negative).</param>
    /// <exception cref="ArgumentNullException"><paramref name="eosTokenIds"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minNewTokens"/> &lt; 0 or an id is negative.</exception>
    public MinNewTokensLogitsProcessor(int minNewTokens, IEnumerable<int> eosTokenIds)
    {
        ArgumentNullException.ThrowIfNull(eosTokenIds);
        MinNewTokens = LogitsValidation.AtLeast(minNewTokens, 0, nameof(minNewTokens));
        _eosTokenIds = [.. eosTokenIds];
        foreach (int id in _eosTokenIds)
        {
            LogitsValidation.AtLeast(id, 0, nameof(eosTokenIds));
        }
    }

    /// <summary>The minimum number of new tokens.</summary>
    public int MinNewTokens { get; }

    /// <summary>The end-of-sequence ids.</summary>
    public IReadOnlyList<int> EosTokenIds => _eosTokenIds;

    /// <inheritdoc/>
    public override void Process(Span<float> logits, ReadOnlySpan<int> tokenIds, int promptLength)
    {
        if ((uint)promptLength > (uint)tokenIds.Length)
        {
            throw LogitsValidation.OutOfRange(nameof(promptLength), promptLength, $"promptLength {promptLength} is outside [0, {tokenIds.Length}] (the history's length).");
        }

        if (tokenIds.Length - promptLength < MinNewTokens)
        {
            LogitsMask.Suppress(logits, _eosTokenIds);
        }
    }
}
