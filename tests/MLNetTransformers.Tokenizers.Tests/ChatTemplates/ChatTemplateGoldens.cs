using System.Globalization;
using System.Text.Json;

namespace MLNetTransformers.Tokenizers.Tests.ChatTemplates;

/// <summary>TestData/chat_templates/goldens.json: templates, inputs and what Python's jinja2 renders (see the generator).</summary>
internal static class ChatTemplateGoldens
{
    private static readonly Lazy<JsonDocument> Document = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "chat_templates", "goldens.json"))));

    public static JsonElement Root => Document.Value.RootElement;

    /// <summary>The fixed clock of <c>strftime_now</c> the goldens were made with.</summary>
    public static DateTime Now => DateTime.Parse(Root.GetProperty("strftime_now").GetString()!, CultureInfo.InvariantCulture);

    public static IEnumerable<JsonElement> Cases => Root.GetProperty("cases").EnumerateArray();

    public static JsonElement Case(string name) => Cases.First(c => c.GetProperty("name").GetString() == name);

    public static string Source(JsonElement @case) =>
        Root.GetProperty("templates").GetProperty(@case.GetProperty("template").GetString()!).GetProperty("source").GetString()!;

    public static List<ChatMessage> Messages(JsonElement @case)
    {
        var messages = new List<ChatMessage>();
        foreach (var m in @case.GetProperty("messages").EnumerateArray())
        {
            var content = m.GetProperty("content");
            var message = new ChatMessage(m.GetProperty("role").GetString()!, content.ValueKind == JsonValueKind.String ? content.GetString() : null);
            foreach (var property in m.EnumerateObject())
            {
                if (property.Name is "role" || (property.Name is "content" && content.ValueKind is JsonValueKind.String or JsonValueKind.Null))
                {
                    continue;
                }

                message.AdditionalProperties[property.Name] = property.Value;
            }

            messages.Add(message);
        }

        return messages;
    }

    public static ChatTemplateOptions Options(JsonElement @case)
    {
        var options = new ChatTemplateOptions
        {
            AddGenerationPrompt = @case.GetProperty("add_generation_prompt").GetBoolean(),
            Clock = () => Now,
        };
        foreach (var property in @case.GetProperty("variables").EnumerateObject())
        {
            options.Variables[property.Name] = property.Value;
        }

        return options;
    }
}
