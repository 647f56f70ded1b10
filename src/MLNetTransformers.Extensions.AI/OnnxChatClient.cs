using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MLNetTransformers.Generation;
using MLNetTransformers.Generation.Decoding;
using MLNetTransformers.Generation.Text;
using MLNetTransformers.OnnxRuntime;
using TemplateMessage = MLNetTransformers.Tokenizers.ChatMessage;

namespace MLNetTransformers.Extensions.AI;

/// <summary>
/// An <see cref="IChatClient"/> over a local decoder model: messages are rendered with the model's chat template (or
/// <see cref="OnnxChatClientOptions.ChatTemplate"/>), generated, and returned with usage and finish reason.
/// </summary>
/// <remarks>
/// <para>Thread-safe, as the contract asks: concurrent requests do not queue behind each other but join one
/// <see cref="ContinuousBatchScheduler"/>, which decodes them together and lets each join and leave at step boundaries with its
/// own options, stop sequences, stream and cancellation. Beam search (<c>num_beams</c> &gt; 1 in
/// <see cref="ChatOptions.AdditionalProperties"/>) runs beside the batch.</para>
/// <para><see cref="ChatOptions"/> mapping: <c>MaxOutputTokens</c>, <c>Temperature</c> (0 = greedy), <c>TopP</c>, <c>TopK</c>,
/// <c>Seed</c>, <c>StopSequences</c>, <c>FrequencyPenalty</c>/<c>PresencePenalty</c> (OpenAI's additive penalties), and
/// <c>min_p</c>, <c>typical_p</c>, <c>repetition_penalty</c>, <c>no_repeat_ngram_size</c>, <c>num_beams</c>, <c>length_penalty</c>,
/// <c>min_new_tokens</c> in <c>AdditionalProperties</c>. <c>Instructions</c> becomes a leading system message.
/// <c>ResponseFormat</c> JSON adds a system instruction to answer with JSON only (and the schema when given): the model is asked,
/// not constrained, so a model too small to follow instructions will not comply. Tools are not supported (ignored).</para>
/// <para><see cref="GetService"/> gives <see cref="ChatClientMetadata"/> (provider <c>mlnettransformers</c>, the model id),
/// the <see cref="Generator"/>, the <see cref="ContinuousBatchScheduler"/> and the client itself.</para>
/// </remarks>
public sealed partial class OnnxChatClient : IChatClient
{
    private readonly Generator _generator;
    private readonly ContinuousBatchScheduler _scheduler;
    private readonly bool _ownsGenerator;
    private readonly string? _chatTemplate;
    private readonly int? _defaultMaxTokens;
    private readonly ILogger _logger;
    private readonly ChatClientMetadata _metadata;
    private volatile bool _disposed;

    /// <summary>Loads the model named by <paramref name="options"/>.</summary>
    /// <param name="options">The options (<see cref="OnnxChatClientOptions.ModelPath"/> is required).</param>
    /// <param name="logger">Where requests are logged; null for none.</param>
    /// <exception cref="ArgumentException">No model path, or a bad provider name.</exception>
    /// <exception cref="InvalidDataException">The model is not a decoder of a supported layout.</exception>
    public OnnxChatClient(OnnxChatClientOptions options, ILogger<OnnxChatClient>? logger = null)
        : this(CreateGenerator(options), options, logger, ownsGenerator: true)
    {
    }

    /// <summary>Serves an already loaded generator (not disposed with the client).</summary>
    /// <param name="generator">The generator.</param>
    /// <param name="options">Options (the model path is ignored); null for the defaults.</param>
    /// <param name="logger">Where requests are logged; null for none.</param>
    public OnnxChatClient(Generator generator, OnnxChatClientOptions? options = null, ILogger<OnnxChatClient>? logger = null)
        : this(generator, options ?? new OnnxChatClientOptions(), logger, ownsGenerator: false)
    {
    }

    private OnnxChatClient(Generator generator, OnnxChatClientOptions options, ILogger? logger, bool ownsGenerator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        _generator = generator;
        _ownsGenerator = ownsGenerator;
        _chatTemplate = options.ChatTemplate;
        _defaultMaxTokens = options.DefaultMaxOutputTokens;
        _logger = logger ?? NullLogger.Instance;
        try
        {
            _scheduler = new ContinuousBatchScheduler(generator, new ContinuousBatchingOptions { MaxBatchSize = options.MaxBatchSize, MaxQueueLength = options.MaxQueueLength });
        }
        catch
        {
            if (ownsGenerator)
            {
                generator.Dispose();
            }

            throw;
        }

        ModelId = options.ModelId ?? Path.GetFileName(generator.Model.Directory.TrimEnd(Path.DirectorySeparatorChar));
        _metadata = new ChatClientMetadata("mlnettransformers", new Uri("file://" + generator.Model.Directory), ModelId);
        GenerationMetrics.Observe(ModelId, () => _scheduler.QueueLength, () => _scheduler.ActiveCount, () => !_disposed);
    }

    /// <summary>The model id reported in responses.</summary>
    public string ModelId { get; }

    /// <inheritdoc/>
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var text = new System.Text.StringBuilder();
        ChatResponseUpdate? last = null;
        string? responseId = null;
        await foreach (ChatResponseUpdate update in GetStreamingResponseAsync(messages, options, cancellationToken).ConfigureAwait(false))
        {
            text.Append(update.Text);
            responseId ??= update.ResponseId;
            last = update;
        }

        UsageDetails? usage = last?.Contents.OfType<UsageContent>().FirstOrDefault()?.Details;
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, text.ToString()) { MessageId = responseId })
        {
            ResponseId = responseId,
            ModelId = ModelId,
            CreatedAt = last?.CreatedAt,
            FinishReason = last?.FinishReason,
            Usage = usage,
        };
    }

    /// <summary>The prompt ids a request would generate from: the conversation (with <see cref="ChatOptions.Instructions"/> and the
    /// JSON instruction of <see cref="ChatOptions.ResponseFormat"/>) rendered with the chat template and encoded.</summary>
    /// <param name="messages">The conversation.</param>
    /// <param name="options">The request's options; null for none.</param>
    /// <returns>The prompt ids (for counting or limiting prompt tokens before a request is made).</returns>
    /// <exception cref="InvalidOperationException">The model has no chat template and none was configured.</exception>
    /// <exception cref="ArgumentException">The conversation is empty.</exception>
    public int[] EncodePrompt(IEnumerable<ChatMessage> messages, ChatOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _generator.EncodeChat(ToTemplateMessages(messages, options), _chatTemplate);
    }

    /// <inheritdoc/>
    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ObjectDisposedException.ThrowIf(_disposed, this);
        int[] prompt = _generator.EncodeChat(ToTemplateMessages(messages, options), _chatTemplate);
        GenerationOptions generation = ChatOptionsMapping.ToGenerationOptions(options, _defaultMaxTokens);
        IAsyncEnumerable<GenerationUpdate> updates = generation.NumBeams > 1
            ? Beams(prompt, generation, cancellationToken)
            : _scheduler.GenerateAsync(prompt, generation, cancellationToken);
        return Stream(updates, prompt.Length, cancellationToken);
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        return serviceType == typeof(ChatClientMetadata) ? _metadata
            : serviceType == typeof(Generator) ? _generator
            : serviceType == typeof(ContinuousBatchScheduler) ? _scheduler
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <summary>Stops the scheduler (running requests end with <see cref="ObjectDisposedException"/>) and, when the client
    /// loaded it, disposes the model.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _scheduler.Dispose();
        if (_ownsGenerator)
        {
            _generator.Dispose();
        }
    }

    private static Generator CreateGenerator(OnnxChatClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ModelPath))
        {
            throw new ArgumentException("OnnxChatClientOptions.ModelPath is required: the model folder to load.", nameof(options));
        }

        return new Generator(ModelFolder.Open(options.ModelPath, options.Dtype), CreateSessionOptions(options.Providers, options.ProviderFallbackToCpu, options.IntraOpThreads));
    }

    internal static SessionOptions CreateSessionOptions(IEnumerable<string> providers, bool fallback, int? threads)
    {
        var session = new SessionOptions
        {
            IntraOpThreads = threads,
            ProviderPolicy = fallback ? ExecutionProviderPolicy.FallbackToCpu : ExecutionProviderPolicy.Strict,
        };
        foreach (string provider in providers)
        {
            session.ExecutionProviders.Add(ExecutionProvider.Parse(provider));
        }

        return session;
    }

    private static List<TemplateMessage> ToTemplateMessages(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var result = new List<TemplateMessage>();
        if (options?.Instructions is { Length: > 0 } instructions)
        {
            result.Add(new TemplateMessage("system", instructions));
        }

        if (options?.ResponseFormat is ChatResponseFormatJson json)
        {
            string schema = json.Schema is { } s ? $" matching this JSON schema: {s.GetRawText()}" : string.Empty;
            result.Add(new TemplateMessage("system", $"Respond with a single JSON value{schema}, and nothing else."));
        }

        foreach (ChatMessage message in messages)
        {
            ArgumentNullException.ThrowIfNull(message, nameof(messages));
            result.Add(new TemplateMessage(message.Role.Value, message.Text));
        }

        if (result.Count == 0)
        {
            throw new ArgumentException("The conversation has no messages.", nameof(messages));
        }

        return result;
    }

    private async IAsyncEnumerable<GenerationUpdate> Beams(int[] prompt, GenerationOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        GenerationResult best = (await Task.Run(() => _generator.GenerateBeams(prompt, options, cancellationToken), cancellationToken).ConfigureAwait(false))[0];
        yield return new GenerationUpdate(-1, best.Text, best);
    }

    private async IAsyncEnumerable<ChatResponseUpdate> Stream(IAsyncEnumerable<GenerationUpdate> updates, int promptTokens, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string responseId = "chatcmpl-" + Guid.NewGuid().ToString("N");
        DateTimeOffset created = DateTimeOffset.UtcNow;
        long start = Stopwatch.GetTimestamp();
        long? firstToken = null;
        var tag = new KeyValuePair<string, object?>("model", ModelId);
        LogStarted(_logger, responseId, promptTokens);
        GenerationResult? result = null;
        string outcome = "error";
        try
        {
            await foreach (GenerationUpdate update in updates.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                if (firstToken is null && update.TokenId >= 0)
                {
                    firstToken = Stopwatch.GetTimestamp();
                    GenerationMetrics.TimeToFirstToken.Record(Stopwatch.GetElapsedTime(start, firstToken.Value).TotalSeconds, tag);
                }

                result = update.Result;
                if (result is null)
                {
                    if (update.Text.Length > 0)
                    {
                        yield return Update(responseId, created, update.Text);
                    }

                    continue;
                }

                ChatResponseUpdate final = Update(responseId, created, update.Text);
                final.FinishReason = result.FinishReason == FinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop;
                final.Contents.Add(new UsageContent(new UsageDetails
                {
                    InputTokenCount = promptTokens,
                    OutputTokenCount = result.NewIds.Count,
                    TotalTokenCount = promptTokens + result.NewIds.Count,
                }));
                outcome = result.FinishReason.ToJsonString();
                yield return final;
            }
        }
        finally
        {
            GenerationMetrics.Requests.Add(1, tag, new KeyValuePair<string, object?>("outcome", result is null ? (cancellationToken.IsCancellationRequested ? "cancelled" : "error") : outcome));
            if (result is not null)
            {
                GenerationMetrics.Tokens.Add(result.NewIds.Count, tag);
                if (firstToken is { } first && result.NewIds.Count > 1)
                {
                    double seconds = Stopwatch.GetElapsedTime(first).TotalSeconds;
                    GenerationMetrics.TokensPerSecond.Record((result.NewIds.Count - 1) / Math.Max(seconds, 1e-9), tag);
                }

                LogFinished(_logger, responseId, result.NewIds.Count, outcome);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Chat request {ResponseId}: {PromptTokens} prompt tokens")]
    private static partial void LogStarted(ILogger logger, string responseId, int promptTokens);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Chat request {ResponseId}: {NewTokens} tokens, {FinishReason}")]
    private static partial void LogFinished(ILogger logger, string responseId, int newTokens, string finishReason);

    private ChatResponseUpdate Update(string responseId, DateTimeOffset created, string text) =>
        new(ChatRole.Assistant, text) { ResponseId = responseId, MessageId = responseId, ModelId = ModelId, CreatedAt = created };
}
