namespace MLNetTransformers.Tokenizers;

/// <summary>
/// One message of a conversation as a chat template sees it: a Python dict with <c>role</c>, <c>content</c> and the
/// <see cref="AdditionalProperties"/> (for example <c>tool_calls</c>, <c>name</c>, <c>tool_call_id</c>), in that order.
/// </summary>
/// <remarks>
/// <c>content</c> is always present; a <see langword="null"/> <see cref="Content"/> is Python's <c>None</c> (as in OpenAI-style
/// messages <c>{"role": "assistant", "content": None, "tool_calls": [...]}</c>). An entry of <see cref="AdditionalProperties"/>
/// named <c>content</c> (or <c>role</c>) replaces that value, which is how structured content (a list of parts such as
/// <c>{"type": "text", "text": "..."}</c>) is passed. Values may be strings, booleans, numbers, <see langword="null"/>, lists,
/// dictionaries with string keys, <see cref="System.Text.Json.JsonElement"/> or <see cref="System.Text.Json.Nodes.JsonNode"/>.
/// </remarks>
public sealed class ChatMessage
{
    /// <summary>Creates a message.</summary>
    /// <param name="role">The role, for example <c>system</c>, <c>user</c>, <c>assistant</c> or <c>tool</c>.</param>
    /// <param name="content">The text, or <see langword="null"/> (Python's <c>None</c>).</param>
    public ChatMessage(string role, string? content)
    {
        ArgumentNullException.ThrowIfNull(role);
        Role = role;
        Content = content;
    }

    /// <summary>The role (<c>message.role</c> / <c>message['role']</c> in the template).</summary>
    public string Role { get; }

    /// <summary>The text (<c>message.content</c> in the template); <see langword="null"/> is <c>None</c>.</summary>
    public string? Content { get; }

    /// <summary>Further fields of the message, in insertion order (for example <c>tool_calls</c>, <c>name</c>,
    /// <c>tool_call_id</c>, <c>reasoning_content</c>).</summary>
    public IDictionary<string, object?> AdditionalProperties { get; } = new Dictionary<string, object?>(StringComparer.Ordinal);
}
