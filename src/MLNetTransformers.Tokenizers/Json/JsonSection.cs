using System.Globalization;
using System.Text.Json;

namespace MLNetTransformers.Tokenizers.Json;

/// <summary>
/// A JSON object being read, with its path (e.g. <c>$.model.merges[3]</c>) so every error names the file, the field and the value.
/// </summary>
internal readonly struct JsonSection(JsonElement element, string path, string file)
{
    public JsonElement Element { get; } = element;

    public string Path { get; } = path;

    public string File { get; } = file;

    public bool Has(string name) => Element.ValueKind == JsonValueKind.Object && Element.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null;

    public JsonSection Get(string name)
    {
        if (Element.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"expected an object but found {Element.ValueKind}");
        }

        if (!Element.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            throw new InvalidDataException($"{File}: {Path}.{name} is missing.");
        }

        return new JsonSection(value, $"{Path}.{name}", File);
    }

    public JsonSection? GetOptional(string name) =>
        Element.ValueKind == JsonValueKind.Object && Element.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null
            ? new JsonSection(value, $"{Path}.{name}", File)
            : null;

    public string GetString(string name) => Get(name).AsString();

    public string? GetOptionalString(string name) => GetOptional(name)?.AsString();

    public bool GetBool(string name, bool defaultValue) => GetOptional(name)?.AsBool() ?? defaultValue;

    public int GetInt(string name, int defaultValue) => GetOptional(name)?.AsInt() ?? defaultValue;

    public string AsString() => Element.ValueKind == JsonValueKind.String ? Element.GetString()! : throw Invalid($"expected a string but found {Describe()}");

    public bool AsBool() => Element.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Invalid($"expected true or false but found {Describe()}"),
    };

    public int AsInt() => Element.ValueKind == JsonValueKind.Number && Element.TryGetInt32(out int value) ? value : throw Invalid($"expected an integer but found {Describe()}");

    public double AsDouble() => Element.ValueKind == JsonValueKind.Number ? Element.GetDouble() : throw Invalid($"expected a number but found {Describe()}");

    public IEnumerable<JsonSection> Items()
    {
        if (Element.ValueKind != JsonValueKind.Array)
        {
            throw Invalid($"expected an array but found {Describe()}");
        }

        int index = 0;
        foreach (JsonElement item in Element.EnumerateArray())
        {
            yield return new JsonSection(item, $"{Path}[{index++}]", File);
        }
    }

    public IEnumerable<(string Name, JsonSection Value)> Properties()
    {
        if (Element.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"expected an object but found {Describe()}");
        }

        foreach (JsonProperty property in Element.EnumerateObject())
        {
            yield return (property.Name, new JsonSection(property.Value, $"{Path}.{property.Name}", File));
        }
    }

    public InvalidDataException Invalid(string problem) => new($"{File}: {Path}: {problem}.");

    /// <summary>An unknown component <c>type</c>, named with its path and value.</summary>
    public NotSupportedException UnknownType(string component, string type, IEnumerable<string> known) =>
        new($"{File}: {Path}.type: unknown {component} type '{type}' (supported: {string.Join(", ", known)}).");

    public string Describe() => Element.ValueKind switch
    {
        JsonValueKind.String => $"\"{Element.GetString()}\"",
        JsonValueKind.Number => Element.GetRawText(),
        JsonValueKind.True or JsonValueKind.False => Element.GetRawText(),
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => Element.ValueKind.ToString().ToLower(CultureInfo.InvariantCulture),
    };
}
