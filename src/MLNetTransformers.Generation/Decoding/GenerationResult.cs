using MLNetTransformers.Generation.Text;

namespace MLNetTransformers.Generation.Decoding;

/// <summary>The outcome of one generation.</summary>
/// <param name="PromptIds">The prompt's token ids, as fed to the model.</param>
/// <param name="NewIds">The generated ids: the end-of-sequence id is included when it ended the sequence (like Hugging Face's
/// <c>generate</c>), and the token that completed a stop string is included.</param>
/// <param name="Text">The decoded new text (special tokens skipped unless asked), trimmed before the stop string.</param>
/// <param name="FinishReason">Why it ended: <c>eos</c>, <c>stop</c> or <c>length</c>.</param>
/// <param name="StopString">The stop string that ended it, or <see langword="null"/>.</param>
/// <param name="Score">Beam search only: the sequence score, Σ log-probabilities of the generated ids divided by
/// (generated length ** length_penalty); <see langword="null"/> otherwise.</param>
public sealed record GenerationResult(IReadOnlyList<int> PromptIds, IReadOnlyList<int> NewIds, string Text, FinishReason FinishReason, string? StopString, double? Score = null)
{
    /// <summary>Where the time went (prefill and decoding steps, total and inside ONNX Runtime's run call); <see langword="null"/>
    /// when not measured.</summary>
    public GenerationTimings? Timings { get; init; }
}

/// <summary>
/// One item of a streamed generation: a generated token with the text it released (possibly empty: text is never split inside a
/// character and may be held back as a possible stop-string start), or, last, the final <see cref="Result"/> with any remaining text.
/// </summary>
/// <param name="TokenId">The generated token id, or -1 for the final update.</param>
/// <param name="Text">The text delta released now.</param>
/// <param name="Result">The final result (only on the last update).</param>
public sealed record GenerationUpdate(int TokenId, string Text, GenerationResult? Result = null)
{
    /// <summary>Whether this is the last update, which carries <see cref="Result"/>.</summary>
    public bool IsFinal => Result is not null;
}
