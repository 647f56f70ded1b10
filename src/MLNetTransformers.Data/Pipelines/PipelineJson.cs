using System.Text.Json.Nodes;

namespace MLNetTransformers.Data;

/// <summary>Small readers for saved transform options, shared by the factories of every kind.</summary>
public static class PipelineJson
{
    /// <summary>A string option: <paramref name="defaultValue"/> when absent, <see langword="null"/> when stored as null.</summary>
    /// <param name="options">The options object.</param>
    /// <param name="name">The property name.</param>
    /// <param name="defaultValue">The value when the property is absent.</param>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidDataException">The property is not a string.</exception>
    public static string? GetString(JsonObject options, string name, string? defaultValue)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.TryGetPropertyValue(name, out JsonNode? node))
        {
            return defaultValue;
        }

        if (node is null)
        {
            return null;
        }

        return node is JsonValue v && v.TryGetValue(out string? s)
            ? s
            : throw new InvalidDataException($"The option '{name}' should be a string, not {node.ToJsonString()}.");
    }
}
