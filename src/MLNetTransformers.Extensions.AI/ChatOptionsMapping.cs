using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;
using MLNetTransformers.Generation.Decoding;

namespace MLNetTransformers.Extensions.AI;

/// <summary>How <see cref="ChatOptions"/> become <see cref="GenerationOptions"/>.</summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>MaxOutputTokens</c> → <c>max_new_tokens</c>; <c>Temperature</c> (0 = greedy; &gt; 0 samples), <c>TopP</c>, <c>TopK</c> →
/// the sampling warpers (giving TopP or TopK alone also samples, at temperature 1); <c>Seed</c> → the seed;
/// <c>StopSequences</c> → stop strings.</item>
/// <item><c>FrequencyPenalty</c>/<c>PresencePenalty</c> → OpenAI's additive penalties over the generated tokens.</item>
/// <item><c>AdditionalProperties</c>: <c>min_p</c>, <c>typical_p</c>, <c>repetition_penalty</c>, <c>no_repeat_ngram_size</c>,
/// <c>num_beams</c>, <c>length_penalty</c>, <c>min_new_tokens</c> (numbers or numeric strings).</item>
/// </list>
/// </remarks>
public static class ChatOptionsMapping
{
    /// <summary>Maps chat options to generation options (used by <see cref="OnnxChatClient"/> and by servers that send raw prompts
    /// through the same scheduler).</summary>
    /// <param name="options">The chat options; null for the model's defaults.</param>
    /// <param name="defaultMaxTokens">New tokens when <see cref="ChatOptions.MaxOutputTokens"/> is not given; null: the model's default.</param>
    /// <returns>The generation options.</returns>
    /// <exception cref="ArgumentException">A value is out of range or an additional property is not a number.</exception>
    public static GenerationOptions ToGenerationOptions(ChatOptions? options, int? defaultMaxTokens)
    {
        var result = new GenerationOptions { MaxNewTokens = options?.MaxOutputTokens ?? defaultMaxTokens };
        if (options is null)
        {
            return result;
        }

        bool sampling = options.Temperature is > 0f || (options.Temperature is null && (options.TopP is not null || options.TopK is not null));
        try
        {
            result = result with
            {
                DoSample = sampling,
                Temperature = options.Temperature is > 0f and var t ? t : 1f,
                TopP = options.TopP ?? 1f,
                TopK = options.TopK ?? (sampling ? 0 : 50),
                Seed = options.Seed is { } seed ? unchecked((ulong)seed) : null,
                StopStrings = options.StopSequences is { Count: > 0 } stops ? [.. stops] : null,
                FrequencyPenalty = options.FrequencyPenalty ?? 0f,
                PresencePenalty = options.PresencePenalty ?? 0f,
            };
            if (options.AdditionalProperties is { } extra)
            {
                result = result with
                {
                    MinP = Number(extra, "min_p") is { } minP ? (float)minP : result.MinP,
                    TypicalP = Number(extra, "typical_p") is { } typical ? (float)typical : result.TypicalP,
                    RepetitionPenalty = Number(extra, "repetition_penalty") is { } repetition ? (float)repetition : result.RepetitionPenalty,
                    NoRepeatNGramSize = Number(extra, "no_repeat_ngram_size") is { } ngram ? (int)ngram : result.NoRepeatNGramSize,
                    NumBeams = Number(extra, "num_beams") is { } beams ? (int)beams : result.NumBeams,
                    LengthPenalty = Number(extra, "length_penalty") ?? result.LengthPenalty,
                    MinNewTokens = Number(extra, "min_new_tokens") is { } minNew ? (int)minNew : result.MinNewTokens,
                };
            }
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new ArgumentException($"ChatOptions: {ex.Message}", nameof(options), ex);
        }

        return result;
    }

    private static double? Number(AdditionalPropertiesDictionary properties, string name)
    {
        if (!properties.TryGetValue(name, out object? value) || value is null)
        {
            return null;
        }

        return value switch
        {
            double d => d,
            float f => f,
            int i => i,
            long l => l,
            decimal m => (double)m,
            string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) => parsed,
            JsonElement { ValueKind: JsonValueKind.Number } e => e.GetDouble(),
            _ => throw new ArgumentException($"ChatOptions.AdditionalProperties[\"{name}\"] must be a number; got {value}.", nameof(properties)),
        };
    }
}
