using System.Globalization;

namespace MLNetTransformers.Generation.Logits;

/// <summary>
/// The argument checks of the decoding parameters, with Hugging Face's names in the messages. Each method returns the value so it
/// can be used in initializers; invalid values throw <see cref="ArgumentOutOfRangeException"/> whose
/// <see cref="ArgumentException.ParamName"/> is the given parameter name.
/// </summary>
public static class LogitsValidation
{
    /// <summary>Checks <c>temperature</c> ≥ 0 and finite (0 means greedy decoding).</summary>
    /// <param name="temperature">The value.</param>
    /// <param name="paramName">The name reported in the exception.</param>
    /// <returns><paramref name="temperature"/>.</returns>
    public static float Temperature(float temperature, string paramName = "temperature") =>
        temperature >= 0f && float.IsFinite(temperature)
            ? temperature
            : throw OutOfRange(paramName, temperature, Format($"temperature must be >= 0 and finite (0 means greedy decoding); got {temperature}."));

    /// <summary>Checks a warper's <c>temperature</c> &gt; 0 and finite.</summary>
    /// <param name="temperature">The value.</param>
    /// <param name="paramName">The name reported in the exception.</param>
    /// <returns><paramref name="temperature"/>.</returns>
    public static float PositiveTemperature(float temperature, string paramName = "temperature") =>
        temperature > 0f && float.IsFinite(temperature)
            ? temperature
            : throw OutOfRange(paramName, temperature, Format($"temperature must be > 0 and finite for the temperature warper (use greedy decoding for 0); got {temperature}."));

    /// <summary>Checks <c>top_p</c> in (0, 1].</summary>
    /// <param name="topP">The value.</param>
    /// <param name="paramName">The name reported in the exception.</param>
    /// <returns><paramref name="topP"/>.</returns>
    public static float TopP(float topP, string paramName = "topP") =>
        topP > 0f && topP <= 1f
            ? topP
            : throw OutOfRange(paramName, topP, Format($"top_p must be in (0, 1]; got {topP}."));

    /// <summary>Checks <c>top_k</c> ≥ 0 (0 disables top-k filtering).</summary>
    /// <param name="topK">The value.</param>
    /// <param name="paramName">The name reported in the exception.</param>
    /// <returns><paramref name="topK"/>.</returns>
    public static int TopK(int topK, string paramName = "topK") =>
        topK >= 0
            ? topK
            : throw OutOfRange(paramName, topK, Format($"top_k must be >= 0 (0 disables top-k filtering); got {topK}."));

    /// <summary>Checks <c>min_p</c> in [0, 1].</summary>
    /// <param name="minP">The value.</param>
    /// <param name="paramName">The name reported in the exception.</param>
    /// <returns><paramref name="minP"/>.</returns>
    public static float MinP(float minP, string paramName = "minP") =>
        minP >= 0f && minP <= 1f
            ? minP
            : throw OutOfRange(paramName, minP, Format($"min_p must be in [0, 1]; got {minP}."));

    /// <summary>Checks <c>typical_p</c> in (0, 1].</summary>
    /// <param name="typicalP">The value.</param>
    /// <param name="paramName">The name reported in the exception.</param>
    /// <returns><paramref name="typicalP"/>.</returns>
    public static float TypicalP(float typicalP, string paramName = "typicalP") =>
        typicalP > 0f && typicalP <= 1f
            ? typicalP
            : throw OutOfRange(paramName, typicalP, Format($"typical_p must be in (0, 1]; got {typicalP}."));

    /// <summary>Checks <c>repetition_penalty</c> &gt; 0 and finite (1 means no penalty).</summary>
    /// <param name="repetitionPenalty">The value.</param>
    /// <param name="paramName">The name reported in the exception.</param>
    /// <returns><paramref name="repetitionPenalty"/>.</returns>
    public static float RepetitionPenalty(float repetitionPenalty, string paramName = "repetitionPenalty") =>
        repetitionPenalty > 0f && float.IsFinite(repetitionPenalty)
            ? repetitionPenalty
            : throw OutOfRange(paramName, repetitionPenalty, Format($"repetition_penalty must be > 0 and finite (1 means no penalty); got {repetitionPenalty}."));

    /// <summary>Checks an OpenAI-style additive penalty (<c>frequency_penalty</c>, <c>presence_penalty</c>): in [−2, 2].</summary>
    /// <param name="penalty">The value.</param>
    /// <param name="paramName">The name reported in the exception.</param>
    /// <returns><paramref name="penalty"/>.</returns>
    public static float Penalty(float penalty, string paramName) =>
        penalty is >= -2f and <= 2f
            ? penalty
            : throw OutOfRange(paramName, penalty, Format($"{paramName} must be in [-2, 2]; got {penalty}."));

    /// <summary>Checks that a count (<c>no_repeat_ngram_size</c>, <c>min_new_tokens</c>, ...) is ≥ <paramref name="minimum"/>.</summary>
    /// <param name="value">The value.</param>
    /// <param name="minimum">The smallest valid value.</param>
    /// <param name="paramName">The name reported in the exception (and the message).</param>
    /// <returns><paramref name="value"/>.</returns>
    public static int AtLeast(int value, int minimum, string paramName) =>
        value >= minimum
            ? value
            : throw OutOfRange(paramName, value, Format($"{paramName} must be >= {minimum}; got {value}."));

    internal static ArgumentOutOfRangeException OutOfRange(string paramName, object actualValue, string message) =>
        new(paramName, actualValue, message);

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
