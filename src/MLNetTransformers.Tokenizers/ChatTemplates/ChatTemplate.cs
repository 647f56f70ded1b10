using MLNetTransformers.Tokenizers.ChatTemplates;

namespace MLNetTransformers.Tokenizers;

/// <summary>
/// A Hugging Face chat template (the <c>chat_template</c> of <c>tokenizer_config.json</c>): a Jinja2 template rendered the way
/// transformers' <c>apply_chat_template</c> renders it — Python's jinja2 in an immutable sandbox with <c>trim_blocks</c> and
/// <c>lstrip_blocks</c>, the <c>loopcontrols</c> extension, transformers' <c>tojson</c>, <c>raise_exception</c> and
/// <c>strftime_now</c>, Python's values (None, True/False, repr of lists and floats) and Jinja's default Undefined.
/// </summary>
/// <remarks>
/// A parsed template is immutable and <see cref="Render"/> is thread-safe. Rendering is bounded: at most a million loop
/// iterations and macro calls, 16 Mi characters per string, 200 nested macro calls and ranges of 100,000 items; past a bound
/// it throws <see cref="ChatTemplateException"/>.
/// </remarks>
public sealed class ChatTemplate
{
    private readonly List<Stmt> _body;

    private ChatTemplate(string source, List<Stmt> body)
    {
        Source = source;
        _body = body;
    }

    /// <summary>The template's text.</summary>
    public string Source { get; }

    /// <summary>Parses a template.</summary>
    /// <param name="source">The Jinja2 text, for example <c>tokenizer_config.json</c>'s <c>chat_template</c>.</param>
    /// <returns>The parsed template.</returns>
    /// <exception cref="ChatTemplateException">A syntax error; the message names the line, the column and what was expected.</exception>
    public static ChatTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new ChatTemplate(source, Parser.Parse(source));
    }

    /// <summary>Renders the conversation into the prompt text.</summary>
    /// <param name="messages">The conversation (the template's <c>messages</c>).</param>
    /// <param name="options">
    /// <c>add_generation_prompt</c> and further variables (<c>bos_token</c>, <c>eos_token</c>, <c>tools</c>, ...). As in
    /// transformers, <c>tools</c> and <c>documents</c> are <c>None</c> unless given.
    /// </param>
    /// <returns>The rendered text.</returns>
    /// <exception cref="ChatTemplateException">The template failed: <c>raise_exception(message)</c> (the message is the
    /// template's text), an error of the template at run time (with its line and column), or a limit was reached.</exception>
    /// <exception cref="ArgumentException">A variable is reserved (<c>messages</c>, <c>add_generation_prompt</c>) or a value
    /// is nested too deeply.</exception>
    public string Render(IReadOnlyList<ChatMessage> messages, ChatTemplateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        options ??= new ChatTemplateOptions();

        var context = new Scope(Globals.CreateRoot());
        var list = new List<object?>(messages.Count);
        foreach (var message in messages)
        {
            if (message is null)
            {
                throw new ArgumentException("The conversation contains a null message.", nameof(messages));
            }

            list.Add(ValueConverter.Message(message));
        }

        context.Set("messages", list);
        context.Set("tools", null);
        context.Set("documents", null);
        context.Set("add_generation_prompt", options.AddGenerationPrompt);
        foreach (var (name, value) in options.Variables)
        {
            if (name is "messages" or "add_generation_prompt")
            {
                throw new ArgumentException($"The template variable '{name}' is reserved; pass it as the messages argument or AddGenerationPrompt.", nameof(options));
            }

            context.Set(name, ValueConverter.ToPy(value));
        }

        var interpreter = new Interpreter(options.MaxIterations, options.MaxStringLength, options.Clock ?? (() => DateTime.Now));
        return interpreter.Render(_body, context);
    }

    /// <inheritdoc/>
    public override string ToString() => Source;
}
