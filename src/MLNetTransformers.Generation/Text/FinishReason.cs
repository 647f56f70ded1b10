namespace MLNetTransformers.Generation.Text;

/// <summary>Why a generated sequence ended (OpenAI-style <c>finish_reason</c>).</summary>
public enum FinishReason
{
    /// <summary>The model produced an end-of-sequence token (<c>"eos"</c>).</summary>
    Eos,

    /// <summary>A stop string was matched in the decoded text; it and everything after it were trimmed (<c>"stop"</c>).</summary>
    Stop,

    /// <summary>The token budget (<c>max_new_tokens</c> or the model's context) was used up (<c>"length"</c>).</summary>
    Length,
}

/// <summary>JSON names for <see cref="FinishReason"/>.</summary>
public static class FinishReasonExtensions
{
    /// <summary>The name used in JSON output: <c>"eos"</c>, <c>"stop"</c> or <c>"length"</c>.</summary>
    /// <param name="reason">The reason.</param>
    /// <returns>The lower-case name.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="reason"/> is not a defined value.</exception>
    public static string ToJsonString(this FinishReason reason) => reason switch
    {
        FinishReason.Eos => "eos",
        FinishReason.Stop => "stop",
        FinishReason.Length => "length",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "Unknown finish reason."),
    };

    /// <summary>Parses a JSON name written by <see cref="ToJsonString"/> (exact, lower case).</summary>
    /// <param name="value">The name.</param>
    /// <param name="reason">The reason, when the name is known.</param>
    /// <returns>Whether the name is known.</returns>
    public static bool TryParseJsonString(string? value, out FinishReason reason)
    {
        switch (value)
        {
            case "eos":
                reason = FinishReason.Eos;
                return true;
            case "stop":
                reason = FinishReason.Stop;
                return true;
            case "length":
                reason = FinishReason.Length;
                return true;
            default:
                reason = default;
                return false;
        }
    }
}
