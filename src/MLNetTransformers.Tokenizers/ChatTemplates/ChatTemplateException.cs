namespace MLNetTransformers.Tokenizers;

/// <summary>
/// A chat template could not be parsed or rendered: a syntax error (the message names the line, the column and what was
/// expected), a run-time error of the template (an undefined value used where Jinja fails, a type error, a limit reached),
/// or the template's own <c>raise_exception(message)</c>, whose text is the exception's <see cref="Exception.Message"/>.
/// </summary>
public sealed class ChatTemplateException : Exception
{
    /// <summary>Creates an exception with a default message.</summary>
    public ChatTemplateException()
        : this("The chat template failed.")
    {
    }

    /// <summary>Creates an exception with the given message and no position.</summary>
    /// <param name="message">What went wrong.</param>
    public ChatTemplateException(string message)
        : base(message)
    {
        RawMessage = message;
        Kind = "TemplateError";
    }

    /// <summary>Creates an exception with the given message and inner exception, and no position.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public ChatTemplateException(string message, Exception? innerException)
        : base(message, innerException)
    {
        RawMessage = message;
        Kind = "TemplateError";
    }

    internal ChatTemplateException(string kind, string rawMessage, string message, int line, int column, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        RawMessage = rawMessage;
        Line = line;
        Column = column;
    }

    /// <summary>The 1-based line of the template where the error was found (0 when unknown).</summary>
    public int Line { get; }

    /// <summary>The 1-based column (UTF-16 code units) of the template where the error was found (0 when unknown).</summary>
    public int Column { get; }

    /// <summary>The error's kind, named after Python's exception class (TemplateSyntaxError, UndefinedError, TypeError, ...;
    /// TemplateError for <c>raise_exception</c>).</summary>
    internal string Kind { get; }

    /// <summary>The message without the position.</summary>
    internal string RawMessage { get; }

    internal bool HasPosition => Line > 0;

    /// <summary>A syntax error found while lexing or parsing.</summary>
    internal static ChatTemplateException Syntax(string message, int line, int column) =>
        new("TemplateSyntaxError", message, $"Chat template syntax error at line {line}, column {column}: {message}", line, column);

    /// <summary>A run-time error whose position is attached later by the evaluator.</summary>
    internal static ChatTemplateException Runtime(string kind, string message) => new(kind, message, message, 0, 0);

    /// <summary>The template's own <c>raise_exception(message)</c>: the message is exactly the template's text.</summary>
    internal static ChatTemplateException Raised(string message, int line, int column) =>
        new("TemplateError", message, message, line, column);

    /// <summary>This error with a position (run-time errors get the position of the innermost expression that failed).</summary>
    internal ChatTemplateException WithPosition(int line, int column) =>
        Kind == "TemplateError"
            ? new ChatTemplateException(Kind, RawMessage, RawMessage, line, column, InnerException)
            : new ChatTemplateException(Kind, RawMessage, $"{RawMessage} (line {line}, column {column})", line, column, InnerException);
}
