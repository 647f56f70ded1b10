using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;

namespace MLNetTransformers.Server;

/// <summary>The settings common to <c>/v1/completions</c> and <c>/v1/chat/completions</c>.</summary>
internal sealed record RequestSettings(string? Model, bool Stream, bool IncludeUsage, ChatOptions Options);

/// <summary>Reads and validates OpenAI request bodies; every problem is a 400 that names the field in <c>param</c>.</summary>
internal static class RequestReader
{
    /// <summary>Parses the body as one JSON object (400 when malformed, 413 when larger than the configured limit).</summary>
    public static async Task<JsonDocument> ReadJsonAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, default, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            throw new OpenAiException(HttpStatusCode.BadRequest, $"The request body is not valid JSON: {ex.Message}", code: "invalid_json", inner: ex);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw new OpenAiException(HttpStatusCode.RequestEntityTooLarge, "The request body is larger than this server accepts.", code: "request_too_large", inner: ex);
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw new OpenAiException(HttpStatusCode.BadRequest, "The request body must be a JSON object.", code: "invalid_json");
        }

        return document;
    }

    /// <summary>Reads the model, streaming and generation settings.</summary>
    public static RequestSettings ReadSettings(JsonElement root, int? maxTokensLimit, bool chat)
    {
        string? model = String(root, "model");
        bool stream = Bool(root, "stream") ?? false;
        bool includeUsage = false;
        if (Present(root, "stream_options", out JsonElement streamOptions))
        {
            if (streamOptions.ValueKind != JsonValueKind.Object)
            {
                throw OpenAiException.BadField("stream_options", "stream_options must be an object.");
            }

            includeUsage = Bool(streamOptions, "include_usage", "stream_options.include_usage") ?? false;
        }

        if (Integer(root, "n", 1, int.MaxValue) is { } n && n != 1)
        {
            throw OpenAiException.BadField("n", $"n = {n} is not supported: this server returns one choice (n = 1).", "unsupported_value");
        }

        if (!chat && Integer(root, "best_of", 1, int.MaxValue) is { } bestOf && bestOf != 1)
        {
            throw OpenAiException.BadField("best_of", "best_of is not supported (1 only).", "unsupported_value");
        }

        if (!chat && Bool(root, "echo") == true)
        {
            throw OpenAiException.BadField("echo", "echo is not supported.", "unsupported_value");
        }

        if (!chat && String(root, "suffix") is { Length: > 0 })
        {
            throw OpenAiException.BadField("suffix", "suffix is not supported.", "unsupported_value");
        }

        if (Present(root, "logprobs", out JsonElement logprobs) && logprobs.ValueKind is not JsonValueKind.False && !(logprobs.ValueKind == JsonValueKind.Number && logprobs.GetDouble() == 0))
        {
            throw OpenAiException.BadField("logprobs", "logprobs are not supported.", "unsupported_value");
        }

        if (Present(root, "tools", out JsonElement tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0)
        {
            throw OpenAiException.BadField("tools", "Tools (function calling) are not supported by this server.", "unsupported_value");
        }

        if (Present(root, "logit_bias", out JsonElement bias) && bias.ValueKind == JsonValueKind.Object && bias.EnumerateObject().Any())
        {
            throw OpenAiException.BadField("logit_bias", "logit_bias is not supported.", "unsupported_value");
        }

        int? maxTokens = Integer(root, "max_completion_tokens", 1, int.MaxValue) ?? Integer(root, "max_tokens", 1, int.MaxValue);
        string maxTokensName = Present(root, "max_completion_tokens", out _) ? "max_completion_tokens" : "max_tokens";
        if (maxTokens is { } asked && maxTokensLimit is { } limit && asked > limit)
        {
            throw OpenAiException.BadField(maxTokensName, $"{maxTokensName} = {asked} is above this server's limit of {limit}.", "max_tokens_exceeded");
        }

        var options = new ChatOptions
        {
            MaxOutputTokens = maxTokens,
            Temperature = (float?)Number(root, "temperature", 0, 2),
            TopP = (float?)Number(root, "top_p", 0, 1, minExclusive: true),
            TopK = Integer(root, "top_k", -1, int.MaxValue) is { } k ? Math.Max(k, 0) : null,
            Seed = Long(root, "seed"),
            FrequencyPenalty = (float?)Number(root, "frequency_penalty", -2, 2),
            PresencePenalty = (float?)Number(root, "presence_penalty", -2, 2),
            StopSequences = Stops(root),
        };
        var extra = new AdditionalPropertiesDictionary();
        if (Number(root, "min_p", 0, 1) is { } minP)
        {
            extra["min_p"] = minP;
        }

        if (Number(root, "repetition_penalty", 0, double.MaxValue, minExclusive: true) is { } repetition)
        {
            extra["repetition_penalty"] = repetition;
        }

        if (Integer(root, "min_tokens", 0, int.MaxValue) is { } minTokens)
        {
            extra["min_new_tokens"] = minTokens;
        }

        if (extra.Count > 0)
        {
            options.AdditionalProperties = extra;
        }

        if (chat && Present(root, "response_format", out JsonElement format))
        {
            options.ResponseFormat = ResponseFormat(format);
        }

        return new RequestSettings(model, stream, includeUsage, options);
    }

    /// <summary>Reads <c>messages</c> (roles system, developer, user, assistant; content a string or text parts).</summary>
    public static List<ChatMessage> ReadMessages(JsonElement root)
    {
        if (!Present(root, "messages", out JsonElement messages))
        {
            throw OpenAiException.BadField("messages", "messages is required.", "missing_required_parameter");
        }

        if (messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            throw OpenAiException.BadField("messages", "messages must be a non-empty array.");
        }

        var result = new List<ChatMessage>();
        int index = 0;
        foreach (JsonElement message in messages.EnumerateArray())
        {
            string path = $"messages[{index}]";
            if (message.ValueKind != JsonValueKind.Object)
            {
                throw OpenAiException.BadField(path, $"{path} must be an object.");
            }

            string role = String(message, "role", path + ".role") ?? throw OpenAiException.BadField(path + ".role", $"{path}.role is required.", "missing_required_parameter");
            role = role switch
            {
                "system" or "developer" => "system",
                "user" or "assistant" => role,
                _ => throw OpenAiException.BadField(path + ".role", $"{path}.role '{role}' is not supported (system, developer, user, assistant).", "unsupported_value"),
            };
            result.Add(new ChatMessage(new ChatRole(role), Content(message, path + ".content")));
            index++;
        }

        return result;
    }

    /// <summary>Reads <c>prompt</c>: a string, or an array holding one string.</summary>
    public static string ReadPrompt(JsonElement root)
    {
        if (!Present(root, "prompt", out JsonElement prompt))
        {
            throw OpenAiException.BadField("prompt", "prompt is required.", "missing_required_parameter");
        }

        return prompt.ValueKind switch
        {
            JsonValueKind.String => prompt.GetString()!,
            JsonValueKind.Array when prompt.GetArrayLength() == 1 && prompt[0].ValueKind == JsonValueKind.String => prompt[0].GetString()!,
            JsonValueKind.Array => throw OpenAiException.BadField("prompt", "prompt must be a string or an array of exactly one string (batched and token-id prompts are not supported).", "unsupported_value"),
            _ => throw OpenAiException.BadField("prompt", "prompt must be a string."),
        };
    }

    /// <summary>Reads embeddings' <c>input</c>: a string or an array of strings.</summary>
    public static List<string> ReadInputs(JsonElement root)
    {
        if (!Present(root, "input", out JsonElement input))
        {
            throw OpenAiException.BadField("input", "input is required.", "missing_required_parameter");
        }

        if (input.ValueKind == JsonValueKind.String)
        {
            return [input.GetString()!];
        }

        if (input.ValueKind == JsonValueKind.Array && input.GetArrayLength() > 0 && input.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
        {
            return [.. input.EnumerateArray().Select(e => e.GetString()!)];
        }

        throw OpenAiException.BadField("input", "input must be a string or a non-empty array of strings (token-id inputs are not supported).");
    }

    /// <summary>Reads a string field (null when absent or null).</summary>
    public static string? String(JsonElement element, string name, string? path = null)
    {
        if (!Present(element, name, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw OpenAiException.BadField(path ?? name, $"{path ?? name} must be a string.");
    }

    private static string Content(JsonElement message, string path)
    {
        if (!Present(message, "content", out JsonElement content))
        {
            return string.Empty;
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            throw OpenAiException.BadField(path, $"{path} must be a string or an array of text parts.");
        }

        var text = new StringBuilder();
        int index = 0;
        foreach (JsonElement part in content.EnumerateArray())
        {
            string partPath = $"{path}[{index++}]";
            if (part.ValueKind != JsonValueKind.Object || String(part, "type", partPath + ".type") != "text")
            {
                throw OpenAiException.BadField(partPath, $"{partPath}: only text parts ({{\"type\":\"text\",\"text\":\"...\"}}) are supported.", "unsupported_value");
            }

            text.Append(String(part, "text", partPath + ".text"));
        }

        return text.ToString();
    }

    private static List<string>? Stops(JsonElement root)
    {
        if (!Present(root, "stop", out JsonElement stop))
        {
            return null;
        }

        if (stop.ValueKind == JsonValueKind.String)
        {
            return stop.GetString() is { Length: > 0 } s ? [s] : null;
        }

        if (stop.ValueKind == JsonValueKind.Array && stop.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String && e.GetString()!.Length > 0))
        {
            return stop.GetArrayLength() == 0 ? null : [.. stop.EnumerateArray().Select(e => e.GetString()!)];
        }

        throw OpenAiException.BadField("stop", "stop must be a non-empty string or an array of non-empty strings.");
    }

    private static ChatResponseFormat? ResponseFormat(JsonElement format)
    {
        string? type = format.ValueKind == JsonValueKind.Object ? String(format, "type", "response_format.type") : null;
        switch (type)
        {
            case "text":
                return ChatResponseFormat.Text;
            case "json_object":
                return ChatResponseFormat.Json;
            case "json_schema":
                if (Present(format, "json_schema", out JsonElement spec) && spec.ValueKind == JsonValueKind.Object && Present(spec, "schema", out JsonElement schema))
                {
                    return ChatResponseFormat.ForJsonSchema(schema.Clone(), String(spec, "name", "response_format.json_schema.name"), String(spec, "description", "response_format.json_schema.description"));
                }

                throw OpenAiException.BadField("response_format.json_schema", "response_format.json_schema.schema is required for type json_schema.", "missing_required_parameter");
            default:
                throw OpenAiException.BadField("response_format", "response_format must be {\"type\": \"text\" | \"json_object\" | \"json_schema\"}.");
        }
    }

    private static bool Present(JsonElement element, string name, out JsonElement value) =>
        element.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    private static bool? Bool(JsonElement element, string name, string? path = null)
    {
        if (!Present(element, name, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw OpenAiException.BadField(path ?? name, $"{path ?? name} must be true or false."),
        };
    }

    private static double? Number(JsonElement element, string name, double min, double max, bool minExclusive = false)
    {
        if (!Present(element, name, out JsonElement value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double number) || !double.IsFinite(number))
        {
            throw OpenAiException.BadField(name, $"{name} must be a number.");
        }

        if (number < min || number > max || (minExclusive && number == min))
        {
            string range = max == double.MaxValue ? (minExclusive ? $"> {min}" : $">= {min}") : $"{(minExclusive ? "(" : "[")}{min}, {max}]";
            throw OpenAiException.BadField(name, $"{name} = {number} is out of range: expected {range}.");
        }

        return number;
    }

    private static int? Integer(JsonElement element, string name, int min, int max)
    {
        if (!Present(element, name, out JsonElement value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int number))
        {
            throw OpenAiException.BadField(name, $"{name} must be an integer.");
        }

        if (number < min || number > max)
        {
            throw OpenAiException.BadField(name, $"{name} = {number} is out of range: expected at least {min}.");
        }

        return number;
    }

    private static long? Long(JsonElement element, string name)
    {
        if (!Present(element, name, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long number) ? number : throw OpenAiException.BadField(name, $"{name} must be an integer.");
    }
}
