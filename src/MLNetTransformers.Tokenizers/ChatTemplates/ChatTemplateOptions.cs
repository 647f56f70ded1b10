using MLNetTransformers.Tokenizers.ChatTemplates;

namespace MLNetTransformers.Tokenizers;

/// <summary>Options of <see cref="ChatTemplate.Render"/>.</summary>
public sealed class ChatTemplateOptions
{
    /// <summary>The template variable <c>add_generation_prompt</c>: end the prompt with the header of an assistant turn.</summary>
    public bool AddGenerationPrompt { get; set; }

    /// <summary>
    /// Further template variables, for example <c>bos_token</c>, <c>eos_token</c>, <c>tools</c>, <c>documents</c>,
    /// <c>date_string</c>, <c>enable_thinking</c> or any custom value. Values may be strings, booleans, numbers,
    /// <see langword="null"/> (Python's <c>None</c>), lists (<see cref="System.Collections.IEnumerable"/>), dictionaries with
    /// string keys, <see cref="System.Text.Json.JsonElement"/>, <see cref="System.Text.Json.Nodes.JsonNode"/> or
    /// <see cref="ChatMessage"/>. <c>messages</c> and <c>add_generation_prompt</c> are reserved.
    /// </summary>
    /// <remarks>As in Hugging Face transformers, <c>tools</c> and <c>documents</c> are <c>None</c> unless given here.</remarks>
    public IDictionary<string, object?> Variables { get; } = new Dictionary<string, object?>(StringComparer.Ordinal);

    /// <summary>The clock of <c>strftime_now</c> (local time); <see langword="null"/> for <see cref="DateTime.Now"/>.</summary>
    internal Func<DateTime>? Clock { get; set; }

    /// <summary>The most loop iterations and macro calls one rendering may run.</summary>
    internal int MaxIterations { get; set; } = ChatTemplateLimits.DefaultMaxIterations;

    /// <summary>The longest string (and rendered output) one rendering may build, in UTF-16 code units.</summary>
    internal int MaxStringLength { get; set; } = ChatTemplateLimits.DefaultMaxStringLength;
}
