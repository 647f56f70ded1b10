namespace MLNetTransformers.Generation.Logits;

/// <summary>
/// One step of logits processing, applied in place to the logits of one row (one sequence of a batch, one beam) before a
/// token is selected. The counterpart of Hugging Face's <c>LogitsProcessor</c> / <c>LogitsWarper</c>, one row at a time.
/// </summary>
/// <remarks>
/// <para>Masked tokens are set to <see cref="float.NegativeInfinity"/>; later processors and the token selection treat them as
/// having probability zero.</para>
/// <para>Implementations do not allocate per call: scratch buffers are owned by the instance and grow only when the vocabulary or
/// history outgrows them (in practice on the first call). An instance is therefore not safe for concurrent use; the engine applies
/// a list to the rows of a batch one after another, or keeps one list per thread.</para>
/// </remarks>
public abstract class LogitsProcessor
{
    /// <summary>Processes one row's logits in place.</summary>
    /// <param name="logits">The row's logits over the vocabulary (its length is the vocabulary size); modified in place.</param>
    /// <param name="tokenIds">The row's token history: the prompt's ids followed by the ids generated so far, without padding.</param>
    /// <param name="promptLength">How many of <paramref name="tokenIds"/> are the prompt (0 ≤ promptLength ≤ tokenIds.Length); the
    /// rest are new tokens. Only length-based processors such as <see cref="MinNewTokensLogitsProcessor"/> use it.</param>
    public abstract void Process(Span<float> logits, ReadOnlySpan<int> tokenIds, int promptLength);

    /// <summary>Checks that every id is a valid index into the logits.</summary>
    private protected static void CheckIds(ReadOnlySpan<int> tokenIds, int vocabularySize, string paramName)
    {
        foreach (int id in tokenIds)
        {
            if ((uint)id >= (uint)vocabularySize)
            {
                throw LogitsValidation.OutOfRange(paramName, id, $"Token id {id} is outside the vocabulary of {vocabularySize} logits.");
            }
        }
    }
}
