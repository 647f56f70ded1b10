using System.Net;

namespace MLNetTransformers.Server;

/// <summary>An error answered with OpenAI's envelope <c>{"error":{"message","type","param","code"}}</c>.</summary>
internal sealed class OpenAiException : Exception
{
    public OpenAiException(HttpStatusCode status, string message, string? param = null, string? code = null, string? type = null, Exception? inner = null)
        : base(message, inner)
    {
        Status = status;
        Param = param;
        Code = code;
        Type = type ?? DefaultType(status);
    }

    public OpenAiException()
        : this(HttpStatusCode.InternalServerError, "Internal error.")
    {
    }

    public OpenAiException(string message)
        : this(HttpStatusCode.BadRequest, message)
    {
    }

    public OpenAiException(string message, Exception innerException)
        : this(HttpStatusCode.BadRequest, message, inner: innerException)
    {
    }

    public HttpStatusCode Status { get; }

    public string Type { get; }

    public string? Param { get; }

    public string? Code { get; }

    /// <summary>A 400 naming the offending field.</summary>
    public static OpenAiException BadField(string param, string message, string code = "invalid_value") =>
        new(HttpStatusCode.BadRequest, message, param, code);

    private static string DefaultType(HttpStatusCode status) => status switch
    {
        HttpStatusCode.Unauthorized => "authentication_error",
        HttpStatusCode.NotFound => "invalid_request_error",
        HttpStatusCode.TooManyRequests => "rate_limit_error",
        HttpStatusCode.ServiceUnavailable or HttpStatusCode.NotImplemented => "server_error",
        >= HttpStatusCode.InternalServerError => "server_error",
        _ => "invalid_request_error",
    };
}
