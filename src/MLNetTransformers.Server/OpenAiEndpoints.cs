using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Connections;
using MLNetTransformers.Extensions.AI;
using MLNetTransformers.Generation.Decoding;
using MLNetTransformers.Generation.Text;
using ChatFinish = Microsoft.Extensions.AI.ChatFinishReason;

namespace MLNetTransformers.Server;

/// <summary>The request handlers of <see cref="OpenAiServer"/>.</summary>
internal sealed partial class OpenAiEndpoints
{
    private static readonly JsonWriterOptions s_json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly OnnxChatClient _chat;
    private readonly Generator _generator;
    private readonly ContinuousBatchScheduler _scheduler;
    private readonly OpenAiServerOptions _options;
    private readonly ILogger _logger;
    private readonly byte[]? _apiKey;
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private readonly int _maxPromptTokens;
    private volatile bool _stopping;

    public OpenAiEndpoints(OnnxChatClient chat, OpenAiServerOptions options, ILogger logger)
    {
        _chat = chat;
        _generator = (Generator)chat.GetService(typeof(Generator))!;
        _scheduler = (ContinuousBatchScheduler)chat.GetService(typeof(ContinuousBatchScheduler))!;
        _options = options;
        _logger = logger;
        _apiKey = options.ApiKey is { Length: > 0 } key ? Encoding.UTF8.GetBytes(key) : null;
        _maxPromptTokens = options.MaxPromptTokens ?? (_generator.ContextLength is { } context ? context - 1 : int.MaxValue);
    }

    public void BeginShutdown()
    {
        _stopping = true;
        LogStopping(_logger);
    }

    /// <summary>Shutdown (503) and API-key (401) checks before routing.</summary>
    public async Task GuardAsync(HttpContext context, RequestDelegate next)
    {
        if (_stopping)
        {
            context.Response.Headers.Connection = "close";
            await WriteErrorAsync(context, new OpenAiException(HttpStatusCode.ServiceUnavailable, "The server is shutting down.", code: "server_shutting_down")).ConfigureAwait(false);
            return;
        }

        if (_apiKey is not null && context.Request.Path.StartsWithSegments("/v1", StringComparison.Ordinal) && !Authorized(context.Request))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await WriteErrorAsync(context, new OpenAiException(HttpStatusCode.Unauthorized, "Missing or incorrect API key: send 'Authorization: Bearer KEY'.", code: "invalid_api_key")).ConfigureAwait(false);
            return;
        }

        await next(context).ConfigureAwait(false);
    }

    public Task HealthAsync(HttpContext context) =>
        WriteJsonAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteString("status", "ok");
            w.WriteString("model", _chat.ModelId);
            w.WriteNumber("queued", _scheduler.QueueLength);
            w.WriteNumber("active", _scheduler.ActiveCount);
        });

    public Task ModelsAsync(HttpContext context) =>
        WriteJsonAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            foreach (string id in ModelIds())
            {
                w.WriteStartObject();
                WriteModel(w, id);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        });

    public Task ModelAsync(HttpContext context) => Guarded(context, () =>
    {
        string id = (string)context.Request.RouteValues["id"]!;
        return ModelIds().Contains(id, StringComparer.Ordinal)
            ? WriteJsonAsync(context, StatusCodes.Status200OK, w => WriteModel(w, id))
            : throw UnknownModel(id);
    });

    public static Task NotFoundAsync(HttpContext context) =>
        WriteErrorAsync(context, new OpenAiException(HttpStatusCode.NotFound, $"No route {context.Request.Method} {context.Request.Path}.", code: "unknown_url"));

    public Task ChatAsync(HttpContext context) => Guarded(context, async () =>
    {
        using JsonDocument document = await RequestReader.ReadJsonAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
        RequestSettings settings = RequestReader.ReadSettings(document.RootElement, _options.MaxTokensLimit, chat: true);
        CheckModel(settings.Model);
        List<ChatMessage> messages = RequestReader.ReadMessages(document.RootElement);
        int[] prompt;
        try
        {
            prompt = _chat.EncodePrompt(messages, settings.Options);
        }
        catch (InvalidOperationException ex)
        {
            throw OpenAiException.BadField("messages", ex.Message, "no_chat_template");
        }

        CheckPromptLength(prompt.Length, "messages");
        using var generation = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        IAsyncEnumerable<ChatResponseUpdate> updates = Start(() => _chat.GetStreamingResponseAsync(messages, settings.Options, generation.Token), "messages");
        try
        {
            if (settings.Stream)
            {
                await StreamChatAsync(context, updates, settings.IncludeUsage, generation.Token).ConfigureAwait(false);
            }
            else
            {
                await CompleteChatAsync(context, updates, generation.Token).ConfigureAwait(false);
            }
        }
        finally
        {
            // Whatever ended the response (done, error, disconnect), the scheduler drops the request at its next step.
            await generation.CancelAsync().ConfigureAwait(false);
        }
    });

    public Task CompletionsAsync(HttpContext context) => Guarded(context, async () =>
    {
        using JsonDocument document = await RequestReader.ReadJsonAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
        RequestSettings settings = RequestReader.ReadSettings(document.RootElement, _options.MaxTokensLimit, chat: false);
        CheckModel(settings.Model);
        string text = RequestReader.ReadPrompt(document.RootElement);
        int[] prompt = _generator.Encode(text);
        CheckPromptLength(prompt.Length, "prompt");
        GenerationOptions options = Start(() => ChatOptionsMapping.ToGenerationOptions(settings.Options, null), "prompt");
        using var generation = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        IAsyncEnumerable<GenerationUpdate> updates = Start(() => _scheduler.GenerateAsync(prompt, options, generation.Token), "prompt");
        string id = "cmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        LogCompletionStarted(_logger, id, prompt.Length);
        try
        {
            if (settings.Stream)
            {
                await StreamCompletionAsync(context, id, created, prompt.Length, updates, settings.IncludeUsage, generation.Token).ConfigureAwait(false);
            }
            else
            {
                var builder = new StringBuilder();
                GenerationResult? result = null;
                await foreach (GenerationUpdate update in updates.WithCancellation(generation.Token).ConfigureAwait(false))
                {
                    builder.Append(update.Text);
                    result = update.Result ?? result;
                }

                GenerationResult final = result ?? throw new InvalidOperationException("The generation ended without a result.");
                await WriteJsonAsync(context, StatusCodes.Status200OK, w =>
                {
                    WriteHeader(w, id, "text_completion", created);
                    w.WriteStartArray("choices");
                    WriteCompletionChoice(w, builder.ToString(), Finish(final.FinishReason));
                    w.WriteEndArray();
                    WriteUsage(w, prompt.Length, final.NewIds.Count);
                }).ConfigureAwait(false);
                LogCompletionFinished(_logger, id, final.NewIds.Count, final.FinishReason);
            }
        }
        finally
        {
            await generation.CancelAsync().ConfigureAwait(false);
        }
    });

    public Task EmbeddingsAsync(HttpContext context) => Guarded(context, async () =>
    {
        IEmbeddingGenerator<string, Embedding<float>> embedder = _options.EmbeddingGenerator
            ?? throw new OpenAiException(HttpStatusCode.NotImplemented, "This server has no embedding model: it serves the text-generation model '" + _chat.ModelId + "' only.", code: "no_embedding_model");
        using JsonDocument document = await RequestReader.ReadJsonAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
        JsonElement root = document.RootElement;
        string model = EmbeddingModelId(embedder);
        if (RequestReader.String(root, "model") is { } asked && !string.Equals(asked, model, StringComparison.Ordinal))
        {
            throw UnknownModel(asked);
        }

        List<string> inputs = RequestReader.ReadInputs(root);
        string format = RequestReader.String(root, "encoding_format") ?? "float";
        if (format is not ("float" or "base64"))
        {
            throw OpenAiException.BadField("encoding_format", "encoding_format must be 'float' or 'base64'.");
        }

        int? dimensions = root.TryGetProperty("dimensions", out JsonElement d) && d.ValueKind != JsonValueKind.Null
            ? (d.TryGetInt32(out int n) && n > 0 ? n : throw OpenAiException.BadField("dimensions", "dimensions must be a positive integer."))
            : null;
        GeneratedEmbeddings<Embedding<float>> embeddings = await embedder.GenerateAsync(inputs, new EmbeddingGenerationOptions { Dimensions = dimensions }, context.RequestAborted).ConfigureAwait(false);
        long tokens = embeddings.Usage?.InputTokenCount ?? 0;
        await WriteJsonAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            for (int i = 0; i < embeddings.Count; i++)
            {
                w.WriteStartObject();
                w.WriteString("object", "embedding");
                w.WriteNumber("index", i);
                ReadOnlySpan<float> vector = embeddings[i].Vector.Span;
                if (format == "base64")
                {
                    w.WriteBase64String("embedding", MemoryMarshal.AsBytes(vector));
                }
                else
                {
                    w.WriteStartArray("embedding");
                    foreach (float value in vector)
                    {
                        w.WriteNumberValue(value);
                    }

                    w.WriteEndArray();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteString("model", model);
            w.WriteStartObject("usage");
            w.WriteNumber("prompt_tokens", tokens);
            w.WriteNumber("total_tokens", tokens);
            w.WriteEndObject();
        }).ConfigureAwait(false);
    });

    private static async Task CompleteChatAsync(HttpContext context, IAsyncEnumerable<ChatResponseUpdate> updates, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        ChatResponseUpdate? last = null;
        await foreach (ChatResponseUpdate update in updates.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            text.Append(update.Text);
            last = update;
        }

        if (last?.FinishReason is not { } finish)
        {
            throw new InvalidOperationException("The generation ended without a result.");
        }

        UsageDetails? usage = last.Contents.OfType<UsageContent>().FirstOrDefault()?.Details;
        await WriteJsonAsync(context, StatusCodes.Status200OK, w =>
        {
            WriteHeader(w, last.ResponseId!, "chat.completion", last.CreatedAt?.ToUnixTimeSeconds() ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds(), last.ModelId);
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            w.WriteString("content", text.ToString());
            w.WriteNull("refusal");
            w.WriteEndObject();
            w.WriteNull("logprobs");
            w.WriteString("finish_reason", Finish(finish));
            w.WriteEndObject();
            w.WriteEndArray();
            WriteUsage(w, (int)(usage?.InputTokenCount ?? 0), (int)(usage?.OutputTokenCount ?? 0));
        }).ConfigureAwait(false);
    }

    private static async Task StreamChatAsync(HttpContext context, IAsyncEnumerable<ChatResponseUpdate> updates, bool includeUsage, CancellationToken cancellationToken)
    {
        StartEvents(context.Response);
        bool first = true;
        await foreach (ChatResponseUpdate update in updates.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            string id = update.ResponseId!;
            long created = update.CreatedAt?.ToUnixTimeSeconds() ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            string text = update.Text;
            if (first || text.Length > 0)
            {
                bool role = first;
                first = false;
                if (!await WriteEventAsync(context, w => WriteChatChunk(w, id, created, update.ModelId, role, text, null, includeUsage), cancellationToken).ConfigureAwait(false))
                {
                    throw new IOException("The client disconnected.");
                }
            }

            if (update.FinishReason is { } finish)
            {
                await WriteEventAsync(context, w => WriteChatChunk(w, id, created, update.ModelId, false, null, Finish(finish), includeUsage), cancellationToken).ConfigureAwait(false);
                if (includeUsage && update.Contents.OfType<UsageContent>().FirstOrDefault()?.Details is { } usage)
                {
                    await WriteEventAsync(context, w =>
                    {
                        WriteHeader(w, id, "chat.completion.chunk", created, update.ModelId);
                        w.WriteStartArray("choices");
                        w.WriteEndArray();
                        WriteUsage(w, (int)(usage.InputTokenCount ?? 0), (int)(usage.OutputTokenCount ?? 0));
                    }, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        await WriteDoneAsync(context, cancellationToken).ConfigureAwait(false);
    }

    private async Task StreamCompletionAsync(HttpContext context, string id, long created, int promptTokens, IAsyncEnumerable<GenerationUpdate> updates, bool includeUsage, CancellationToken cancellationToken)
    {
        StartEvents(context.Response);
        await foreach (GenerationUpdate update in updates.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (update.Text.Length > 0 || update.Result is not null)
            {
                string? finish = update.Result is { } result ? Finish(result.FinishReason) : null;
                bool written = await WriteEventAsync(context, w =>
                {
                    WriteHeader(w, id, "text_completion", created);
                    w.WriteStartArray("choices");
                    WriteCompletionChoice(w, update.Text, finish);
                    w.WriteEndArray();
                    if (includeUsage)
                    {
                        w.WriteNull("usage");
                    }
                }, cancellationToken).ConfigureAwait(false);
                if (!written)
                {
                    throw new IOException("The client disconnected.");
                }
            }

            if (update.Result is { } final)
            {
                LogCompletionFinished(_logger, id, final.NewIds.Count, final.FinishReason);
                if (includeUsage)
                {
                    await WriteEventAsync(context, w =>
                    {
                        WriteHeader(w, id, "text_completion", created);
                        w.WriteStartArray("choices");
                        w.WriteEndArray();
                        WriteUsage(w, promptTokens, final.NewIds.Count);
                    }, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        await WriteDoneAsync(context, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs a handler, answering errors raised before the response started with OpenAI's envelope (and, once a stream
    /// has started, with an error event).</summary>
    private async Task Guarded(HttpContext context, Func<Task> handler)
    {
        OpenAiException? error;
        try
        {
            await handler().ConfigureAwait(false);
            return;
        }
        catch (OpenAiException ex)
        {
            error = ex;
        }
        catch (SchedulerQueueFullException ex)
        {
            context.Response.Headers.RetryAfter = "1";
            error = new OpenAiException(HttpStatusCode.TooManyRequests, ex.Message + " Retry later.", code: "queue_full", inner: ex);
        }
        catch (ObjectDisposedException ex)
        {
            error = new OpenAiException(HttpStatusCode.ServiceUnavailable, "The server is shutting down.", code: "server_shutting_down", inner: ex);
        }
        catch (BadHttpRequestException ex)
        {
            error = new OpenAiException((HttpStatusCode)ex.StatusCode, ex.Message, code: ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? "request_too_large" : "bad_request", inner: ex);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            LogClientDisconnected(_logger, context.Request.Path, context.TraceIdentifier);
            return;
        }
        catch (Exception ex) when (ex is IOException or ConnectionResetException)
        {
            LogClientDisconnected(_logger, context.Request.Path, context.TraceIdentifier);
            return;
        }
#pragma warning disable CA1031 // Any other failure is answered as a 500 with the envelope and logged; the server goes on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogFailed(_logger, ex, context.Request.Path);
            error = new OpenAiException(HttpStatusCode.InternalServerError, $"{ex.GetType().Name}: {ex.Message}", code: "internal_error", inner: ex);
        }

        if (error.Status >= HttpStatusCode.InternalServerError || error.Status == HttpStatusCode.TooManyRequests)
        {
            LogRefused(_logger, context.Request.Path, (int)error.Status, error.Message);
        }

        if (!context.Response.HasStarted)
        {
            await WriteErrorAsync(context, error).ConfigureAwait(false);
        }
        else if (!context.RequestAborted.IsCancellationRequested)
        {
            // A stream already started: report the error as an event, as OpenAI does, and end the stream.
            await WriteEventAsync(context, w => WriteErrorBody(w, error), CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Calls the library, turning its argument errors (bad options, a prompt too long for the context) into 400s.</summary>
    private static T Start<T>(Func<T> start, string promptParam)
    {
        try
        {
            return start();
        }
        catch (ArgumentException ex)
        {
            string message = ex.Message.Split(" (Parameter", 2)[0];
            bool tokens = message.Contains("max_new_tokens", StringComparison.Ordinal);
            bool context = message.Contains("context", StringComparison.Ordinal);
            throw OpenAiException.BadField(tokens ? "max_tokens" : context ? promptParam : null!, message, context ? "context_length_exceeded" : "invalid_value");
        }
    }

    private void CheckModel(string? model)
    {
        if (model is not null && !string.Equals(model, _chat.ModelId, StringComparison.Ordinal))
        {
            throw UnknownModel(model);
        }
    }

    private void CheckPromptLength(int tokens, string param)
    {
        if (tokens > _maxPromptTokens)
        {
            throw OpenAiException.BadField(param, $"The prompt has {tokens} tokens; this server accepts at most {_maxPromptTokens}.", "context_length_exceeded");
        }
    }

    private OpenAiException UnknownModel(string model) =>
        new(HttpStatusCode.NotFound, $"The model '{model}' does not exist on this server (it serves {string.Join(", ", ModelIds().Select(m => $"'{m}'"))}).", "model", "model_not_found");

    private IEnumerable<string> ModelIds()
    {
        yield return _chat.ModelId;
        if (_options.EmbeddingGenerator is { } embedder)
        {
            yield return EmbeddingModelId(embedder);
        }
    }

    private static string EmbeddingModelId(IEmbeddingGenerator<string, Embedding<float>> embedder) =>
        (embedder.GetService(typeof(EmbeddingGeneratorMetadata)) as EmbeddingGeneratorMetadata)?.DefaultModelId ?? "embeddings";

    private bool Authorized(HttpRequest request)
    {
        string? header = request.Headers.Authorization;
        const string Bearer = "Bearer ";
        if (header is null || !header.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[Bearer.Length..].Trim()), _apiKey);
    }

    private void WriteModel(Utf8JsonWriter w, string id)
    {
        w.WriteString("id", id);
        w.WriteString("object", "model");
        w.WriteNumber("created", _created);
        w.WriteString("owned_by", "mlnettransformers");
    }

    private static void WriteHeader(Utf8JsonWriter w, string id, string kind, long created, string? model = null)
    {
        w.WriteString("id", id);
        w.WriteString("object", kind);
        w.WriteNumber("created", created);
        w.WriteString("model", model);
        w.WriteNull("system_fingerprint");
    }

    private static void WriteChatChunk(Utf8JsonWriter w, string id, long created, string? model, bool role, string? content, string? finish, bool includeUsage)
    {
        WriteHeader(w, id, "chat.completion.chunk", created, model);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteStartObject("delta");
        if (role)
        {
            w.WriteString("role", "assistant");
        }

        if (content is not null)
        {
            w.WriteString("content", content);
        }

        w.WriteEndObject();
        w.WriteNull("logprobs");
        w.WriteString("finish_reason", finish);
        w.WriteEndObject();
        w.WriteEndArray();
        if (includeUsage)
        {
            w.WriteNull("usage");
        }
    }

    private static void WriteCompletionChoice(Utf8JsonWriter w, string text, string? finish)
    {
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteString("text", text);
        w.WriteNull("logprobs");
        w.WriteString("finish_reason", finish);
        w.WriteEndObject();
    }

    private static void WriteUsage(Utf8JsonWriter w, int prompt, int completion)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", prompt);
        w.WriteNumber("completion_tokens", completion);
        w.WriteNumber("total_tokens", prompt + completion);
        w.WriteEndObject();
    }

    private static string Finish(FinishReason reason) => reason == FinishReason.Length ? "length" : "stop";

    private static string Finish(ChatFinish reason) => reason == ChatFinish.Length ? "length" : "stop";

    private static void WriteErrorBody(Utf8JsonWriter w, OpenAiException error)
    {
        w.WriteStartObject("error");
        w.WriteString("message", error.Message);
        w.WriteString("type", error.Type);
        w.WriteString("param", error.Param);
        w.WriteString("code", error.Code);
        w.WriteEndObject();
    }

    private static Task WriteErrorAsync(HttpContext context, OpenAiException error) =>
        WriteJsonAsync(context, (int)error.Status, w => WriteErrorBody(w, error));

    private static async Task WriteJsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        PipeWriter pipe = context.Response.BodyWriter;
        using (var writer = new Utf8JsonWriter(pipe, s_json))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        await pipe.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private static void StartEvents(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
    }

    /// <summary>Writes one <c>data: {json}</c> event and flushes; false when the client has gone.</summary>
    private static async Task<bool> WriteEventAsync(HttpContext context, Action<Utf8JsonWriter> write, CancellationToken cancellationToken)
    {
        PipeWriter pipe = context.Response.BodyWriter;
        pipe.Write("data: "u8);
        using (var writer = new Utf8JsonWriter(pipe, s_json))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        pipe.Write("\n\n"u8);
        FlushResult flushed = await pipe.FlushAsync(cancellationToken).ConfigureAwait(false);
        return !flushed.IsCanceled && !flushed.IsCompleted;
    }

    private static async Task WriteDoneAsync(HttpContext context, CancellationToken cancellationToken)
    {
        PipeWriter pipe = context.Response.BodyWriter;
        pipe.Write("data: [DONE]\n\n"u8);
        await pipe.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Path} ({TraceId}): the client disconnected; its generation was cancelled")]
    private static partial void LogClientDisconnected(ILogger logger, PathString path, string traceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Path}: answered {Status}: {Reason}")]
    private static partial void LogRefused(ILogger logger, PathString path, int status, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Path}: the request failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, PathString path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down: new requests get 503; running ones may finish")]
    private static partial void LogStopping(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Completion {Id}: {PromptTokens} prompt tokens")]
    private static partial void LogCompletionStarted(ILogger logger, string id, int promptTokens);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Completion {Id}: {NewTokens} tokens, {FinishReason}")]
    private static partial void LogCompletionFinished(ILogger logger, string id, int newTokens, FinishReason finishReason);
}
