using MLNetTransformers.OnnxRuntime;
using MLNetTransformers.Tokenizers;

namespace MLNetTransformers.Generation.Decoding;

/// <summary>
/// Chat generation: a conversation rendered with the chat template (<c>add_generation_prompt=true</c>), encoded without adding
/// special tokens, then generated, reusing the KV cache of the previous chat call for the prompt's common prefix.
/// </summary>
/// <remarks>
/// <para>The generator keeps one cached conversation: the token ids whose keys and values are in the cache (the previous chat
/// prompt and the generated tokens except the last, which never ran through the model) and the <c>past_key_values.*</c> values in
/// ONNX Runtime's memory. A new chat request whose prompt shares a prefix with those ids runs only the rest of its prompt through
/// the model with the cached past. When the prompt diverges inside the cached ids, the cache is sliced to the common prefix (each
/// head's rows copied span to span into a new native tensor); at least the prompt's last token is always run, to get its logits.
/// Without a common prefix, or for a KV cache that is neither float32 nor float16, or a graph without past, the prompt is
/// recomputed in full.</para>
/// <para>Thread safety: taking and storing the cached conversation is locked, so concurrent chat calls are safe, but only one of
/// them gets the cache and the last one to finish replaces it; <see cref="LastPrefillTokens"/> and <see cref="LastReusedTokens"/>
/// then describe whichever call started last. For predictable reuse, use one generator per conversation from one thread.</para>
/// </remarks>
public sealed partial class Generator
{
    private readonly Lock _chatLock = new();
    private ChatCache? _chatCache;

    /// <summary>The number of prompt tokens the last chat call ran through the model before its first new token.</summary>
    public int LastPrefillTokens { get; private set; }

    /// <summary>The number of prompt tokens the last chat call took from the cached conversation instead of recomputing them.</summary>
    public int LastReusedTokens { get; private set; }

    /// <summary>Renders a conversation with the chat template (<c>add_generation_prompt=true</c>) and encodes it without adding
    /// special tokens (the template writes them).</summary>
    /// <param name="messages">The conversation.</param>
    /// <param name="chatTemplate">A template source or the name of one of the tokenizer's templates; default: the model's.</param>
    /// <returns>The prompt ids.</returns>
    /// <exception cref="FileNotFoundException">The model has no tokenizer.</exception>
    /// <exception cref="InvalidOperationException">The model has no chat template and none was given.</exception>
    public int[] EncodeChat(IReadOnlyList<ChatMessage> messages, string? chatTemplate = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        Tokenizer tokenizer = RequireTokenizer("render a chat conversation");
        if (chatTemplate is null && tokenizer.Config.ChatTemplate is null)
        {
            throw new InvalidOperationException($"{Model.Directory} has no chat template (tokenizer_config.json has no chat_template); pass a template to GenerateChat.");
        }

        return [.. tokenizer.EncodeChat(messages, new ChatTemplateOptions { AddGenerationPrompt = true }, chatTemplate).Ids];
    }

    /// <summary>Generates the assistant's reply to a conversation, reusing the cached prefix of the previous chat call.</summary>
    /// <param name="messages">The conversation.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <param name="chatTemplate">A template source or the name of one of the tokenizer's templates; default: the model's.</param>
    /// <param name="cancellationToken">Stops generation within one decoding step.</param>
    /// <returns>The result (its prompt ids are the rendered conversation's).</returns>
    /// <exception cref="FileNotFoundException">The model has no tokenizer.</exception>
    /// <exception cref="InvalidOperationException">The model has no chat template and none was given.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public GenerationResult GenerateChat(IReadOnlyList<ChatMessage> messages, GenerationOptions? options = null, string? chatTemplate = null, CancellationToken cancellationToken = default)
    {
        using GenerationRun run = StartChat(EncodeChat(messages, chatTemplate), options);
        while (run.Step(cancellationToken) is not null)
        {
        }

        return run.Result!;
    }

    /// <summary>Streams the assistant's reply to a conversation, reusing the cached prefix of the previous chat call.</summary>
    /// <param name="messages">The conversation.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <param name="chatTemplate">A template source or the name of one of the tokenizer's templates; default: the model's.</param>
    /// <param name="cancellationToken">Stops generation within one decoding step.</param>
    /// <returns>One update per generated token, then a final update with the result.</returns>
    /// <exception cref="FileNotFoundException">The model has no tokenizer (thrown at the call).</exception>
    /// <exception cref="InvalidOperationException">The model has no chat template and none was given (thrown at the call).</exception>
    public IAsyncEnumerable<GenerationUpdate> GenerateChatAsync(IReadOnlyList<ChatMessage> messages, GenerationOptions? options = null, string? chatTemplate = null, CancellationToken cancellationToken = default)
    {
        GenerationRun run = StartChat(EncodeChat(messages, chatTemplate), options);
        return Stream(run, cancellationToken);
    }

    /// <summary>Drops the cached conversation (its KV cache is freed).</summary>
    public void ClearChatCache()
    {
        lock (_chatLock)
        {
            _chatCache?.Dispose();
            _chatCache = null;
        }
    }

    private GenerationRun StartChat(int[] promptIds, GenerationOptions? options)
    {
        RowSetup row = Prepare(promptIds, options, nameof(promptIds));
        ChatCache? cache;
        lock (_chatLock)
        {
            cache = _chatCache;
            _chatCache = null;
        }

        ChatCache? prefix = null;
        try
        {
            prefix = cache is null ? null : ReusablePrefix(cache, row.Prompt);
        }
        finally
        {
            if (!ReferenceEquals(prefix, cache))
            {
                cache?.Dispose();
            }
        }

        bool keep = Signature.PastInputs.Count > 0;
        int reused = prefix?.Ids.Length ?? 0;
        try
        {
            var run = new GenerationRun(this, row.Prompt, row.MaxNew, row.Eos, row.Processors, row.Options, row.Streamer, prefix, keep);
            LastReusedTokens = reused;
            LastPrefillTokens = row.Prompt.Length - reused;
            return run;
        }
        catch
        {
            prefix?.Dispose();
            throw;
        }
    }

    /// <summary>The part of the cache that is a prefix of the prompt (leaving at least its last token to run): the cache itself, a
    /// sliced copy, or null when nothing can be reused.</summary>
    private ChatCache? ReusablePrefix(ChatCache cache, int[] prompt)
    {
        int limit = Math.Min(cache.Ids.Length, prompt.Length - 1);
        int common = 0;
        while (common < limit && cache.Ids[common] == prompt[common])
        {
            common++;
        }

        if (common == 0 || cache.Past.Count != Signature.PastInputs.Count)
        {
            return null;
        }

        if (common == cache.Ids.Length)
        {
            return cache;
        }

        var sliced = new Dictionary<string, OrtValue>(StringComparer.Ordinal);
        try
        {
            foreach (KeyValuePair<string, OrtValue> past in cache.Past)
            {
                OrtValue source = past.Value;
                long[] shape = [.. source.TensorInfo.Shape];
                if (shape.Length != 4 || shape[2] != cache.Ids.Length)
                {
                    DisposeAll(sliced);
                    return null;
                }

                if (shape[0] != 1 || source.ElementType is not (TensorElementType.Float32 or TensorElementType.Float16))
                {
                    DisposeAll(sliced);
                    return null;
                }

                sliced[past.Key] = KeyValueCache.Gather([new KeyValueCache.RowSlice(source, 0, 0, common)], common);
            }
        }
        catch
        {
            DisposeAll(sliced);
            throw;
        }

        return new ChatCache(cache.Ids[..common], sliced);
    }

    private static void DisposeAll(Dictionary<string, OrtValue> values)
    {
        foreach (OrtValue value in values.Values)
        {
            value.Dispose();
        }

        values.Clear();
    }

    private void StoreChatCache(ChatCache cache)
    {
        lock (_chatLock)
        {
            _chatCache?.Dispose();
            _chatCache = cache;
        }
    }

    /// <summary>A cached conversation: the ids whose keys and values are in <see cref="Past"/> (<c>past_key_values.*</c> by input name).</summary>
    private sealed class ChatCache(int[] ids, Dictionary<string, OrtValue> past) : IDisposable
    {
        public int[] Ids { get; } = ids;

        public Dictionary<string, OrtValue> Past { get; } = past;

        public void Dispose() => DisposeAll(Past);
    }
}
