using System.Collections.Concurrent;

namespace MLNetTransformers.Tokenizers;

public sealed partial class Tokenizer
{
    private readonly ConcurrentDictionary<string, ChatTemplate> _parsedTemplates = new(StringComparer.Ordinal);

    /// <summary>
    /// Renders a conversation with the tokenizer's chat template (tokenizer_config.json <c>chat_template</c>) as Hugging Face's
    /// <c>apply_chat_template(tokenize=False)</c> does. The template sees <c>messages</c>, <c>add_generation_prompt</c>, the
    /// tokenizer's <c>bos_token</c>, <c>eos_token</c>, <c>pad_token</c> and <c>unk_token</c>, and any <paramref name="options"/>
    /// variables (which take precedence).
    /// </summary>
    /// <param name="messages">The conversation.</param>
    /// <param name="options">The generation-prompt flag and extra variables (e.g. <c>tools</c>).</param>
    /// <param name="template">A template source, or the name of one of <see cref="TokenizerConfig.ChatTemplates"/>; default: the config's.</param>
    /// <returns>The prompt text.</returns>
    /// <exception cref="InvalidOperationException">No template was given and the tokenizer has none.</exception>
    /// <exception cref="ChatTemplateException">The template is invalid or raised an exception.</exception>
    public string ApplyChatTemplate(IReadOnlyList<ChatMessage> messages, ChatTemplateOptions? options = null, string? template = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        string source = template is not null && Config.ChatTemplates.TryGetValue(template, out string? named) ? named
            : template ?? Config.ChatTemplate
            ?? throw new InvalidOperationException("The tokenizer has no chat template (tokenizer_config.json has no chat_template); pass one to ApplyChatTemplate.");
        ChatTemplate parsed = _parsedTemplates.GetOrAdd(source, ChatTemplate.Parse);

        var effective = new ChatTemplateOptions { AddGenerationPrompt = options?.AddGenerationPrompt ?? false };
        foreach (var (name, value) in new[] { ("bos_token", Config.BosToken), ("eos_token", Config.EosToken), ("pad_token", Config.PadToken), ("unk_token", Config.UnkToken) })
        {
            if (value is not null)
            {
                effective.Variables[name] = value;
            }
        }

        if (options is not null)
        {
            foreach (var (name, value) in options.Variables)
            {
                effective.Variables[name] = value;
            }
        }

        return parsed.Render(messages, effective);
    }

    /// <summary>
    /// Renders a conversation with the chat template and encodes it without adding special tokens (the template writes them),
    /// as <c>apply_chat_template(tokenize=True)</c> does.
    /// </summary>
    /// <param name="messages">The conversation.</param>
    /// <param name="options">The generation-prompt flag and extra variables.</param>
    /// <param name="template">A template source or name; default: the config's.</param>
    /// <returns>The encoding of the prompt.</returns>
    public TokenEncoding EncodeChat(IReadOnlyList<ChatMessage> messages, ChatTemplateOptions? options = null, string? template = null) =>
        Encode(ApplyChatTemplate(messages, options, template), addSpecialTokens: false);
}
