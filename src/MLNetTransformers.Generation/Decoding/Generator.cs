using System.Runtime.CompilerServices;
using System.Text.Json;
using MLNetTransformers.Generation.Logits;
using MLNetTransformers.Generation.Text;
using MLNetTransformers.OnnxRuntime;
using MLNetTransformers.Tokenizers;

namespace MLNetTransformers.Generation.Decoding;

/// <summary>
/// Greedy and sampling text generation for one sequence with a causal decoder in the Optimum layout (see
/// <see cref="DecoderSignature"/>): a single graph with <c>past_key_values.*</c> inputs that accepts an empty past, a merged
/// decoder with <c>use_cache_branch</c>, a decoder pair, or a graph without past (the whole sequence is recomputed every step).
/// </summary>
/// <remarks>
/// <para>The KV cache stays in ONNX Runtime's memory: each step's <c>present.*</c> outputs are taken from the run's outputs
/// (<see cref="SessionOutputs.Take(string)"/>) and fed as the next step's <c>past_key_values.*</c> without a managed copy. Only the
/// last position's logits are read, into a buffer reused for every step; then the logits processors
/// (<see cref="LogitsProcessorList.Create"/>, Hugging Face's order) are applied and the token is chosen by
/// <see cref="TokenSelection.ArgMax"/> or, when sampling, <see cref="TokenSelection.Sample"/> with a seeded
/// <see cref="Xoshiro256StarStar"/>.</para>
/// <para>Layouts (<see cref="DecoderLayout"/>, read from the graphs): a single graph "with past", a merged decoder with
/// <c>use_cache_branch</c>, a <c>decoder_model</c> + <c>decoder_with_past_model</c> pair, or a graph without past.</para>
/// <para>Batches of prompts: see <see cref="GenerateBatch(IReadOnlyList{IReadOnlyList{int}}, GenerationOptions?, CancellationToken)"/>.
/// Beam search: see <see cref="GenerateBeams(IReadOnlyList{int}, GenerationOptions?, CancellationToken)"/>.</para>
/// <para>Generations may run concurrently on one instance: each has its own state. Chat generation keeps one cached conversation
/// on the instance (see <see cref="GenerateChat"/>).</para>
/// </remarks>
public sealed partial class Generator : IDisposable
{
    private const int FallbackMaxNewTokens = 20;

    private readonly InferenceSession _session;
    private readonly InferenceSession? _prefillSession;
    private readonly string[] _outputNames;
    private readonly int? _configMaxNewTokens;
    private readonly int? _configMaxLength;

    /// <summary>Loads a model folder: its ONNX file (<see cref="ModelFolder.ModelFile"/>, and <see cref="ModelFolder.WithPastModelFile"/>
    /// for a decoder pair), its tokenizer when it has one, and its generation defaults. The layout is read from the graphs.</summary>
    /// <param name="model">The model folder.</param>
    /// <param name="options">Session options (execution providers, threads); <see langword="null"/> for the defaults.</param>
    /// <exception cref="InvalidDataException">The model is not a decoder of a supported layout (the message lists the inputs or
    /// outputs that cannot be mapped), or a file is malformed.</exception>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime cannot load the model or start a requested execution provider.</exception>
    public Generator(ModelFolder model, SessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        _session = new InferenceSession(model.WithPastModelFile ?? model.ModelFile, options);
        try
        {
            Signature = DecoderSignature.FromSession(_session, model.Config);
            if (Signature.PastInputs.Any(p => p.PresentName is null))
            {
                string missing = string.Join(", ", Signature.PastInputs.Where(p => p.PresentName is null).Select(p => p.Name));
                throw new InvalidDataException($"{_session.ModelPath}: the past inputs {missing} have no matching present.* outputs.");
            }

            _outputNames = [DecoderSignature.LogitsName, .. Signature.PastInputs.Select(p => p.PresentName!)];
            if (model.WithPastModelFile is not null)
            {
                _prefillSession = new InferenceSession(model.ModelFile, options);
                PrefillSignature = DecoderSignature.FromSession(_prefillSession, model.Config);
                CheckPairPrefill();
                Layout = DecoderLayout.Pair;
            }
            else
            {
                PrefillSignature = Signature;
                Layout = Signature.PastInputs.Count == 0 ? DecoderLayout.NoPast
                    : Signature.HasUseCacheBranch ? DecoderLayout.Merged
                    : DecoderLayout.WithPast;
            }

            Tokenizer = model.HasTokenizer ? model.LoadTokenizer() : null;
            (IReadOnlyList<int>? eos, _configMaxNewTokens, _configMaxLength) = ReadGenerationConfig(model.Directory);
            DefaultEosTokenIds = eos is { Count: > 0 } ? eos
                : model.Config?.EosTokenIds is { Count: > 0 } configEos ? configEos
                : Tokenizer?.EosTokenId is { } tokenizerEos ? [tokenizerEos]
                : [];
            ContextLength = model.Config?.MaxPositionEmbeddings;
        }
        catch
        {
            _prefillSession?.Dispose();
            _session.Dispose();
            throw;
        }
    }

    /// <summary>The model folder.</summary>
    public ModelFolder Model { get; }

    /// <summary>The inputs and outputs of the graph that runs the decoding steps (for a pair, <c>decoder_with_past_model</c>).</summary>
    public DecoderSignature Signature { get; }

    /// <summary>The inputs and outputs of the graph that runs the prefill: <see cref="Signature"/>, except for a pair, whose
    /// <c>decoder_model</c> has no past inputs.</summary>
    public DecoderSignature PrefillSignature { get; }

    /// <summary>How the model carries its key/value cache, read from its graphs.</summary>
    public DecoderLayout Layout { get; }

    /// <summary>The tokenizer, or <see langword="null"/> when the folder has none (then only ids can be generated, without text).</summary>
    public Tokenizer? Tokenizer { get; }

    /// <summary>The end-of-sequence ids used when the options give none: <c>generation_config.json</c>, else <c>config.json</c>,
    /// else the tokenizer's.</summary>
    public IReadOnlyList<int> DefaultEosTokenIds { get; }

    /// <summary>The model's context length (<c>max_position_embeddings</c>), or <see langword="null"/> when unknown.</summary>
    public int? ContextLength { get; }

    /// <summary>The ONNX Runtime session of the decoding steps (for a pair, <c>decoder_with_past_model</c>).</summary>
    public InferenceSession Session => _session;

    /// <summary>The ONNX Runtime session of the prefill: <see cref="Session"/>, except for a pair (<c>decoder_model</c>).</summary>
    public InferenceSession PrefillSession => _prefillSession ?? _session;

    /// <summary>Encodes a prompt with the model's tokenizer (special tokens added, e.g. Llama's BOS).</summary>
    /// <param name="prompt">The prompt text.</param>
    /// <returns>The ids.</returns>
    /// <exception cref="FileNotFoundException">The model folder has no tokenizer (the message names the file looked for).</exception>
    public int[] Encode(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        Tokenizer tokenizer = RequireTokenizer("encode a text prompt (or pass token ids)");
        return [.. tokenizer.Encode(prompt).Ids];
    }

    /// <summary>Generates a continuation of a text prompt (encoded with <see cref="Encode"/>).</summary>
    /// <param name="prompt">The prompt.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops generation within one decoding step.</param>
    /// <returns>The result.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public GenerationResult Generate(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        Generate(Encode(prompt), options, cancellationToken);

    /// <summary>Generates a continuation of a tokenized prompt.</summary>
    /// <param name="promptIds">The prompt's ids (empty: the BOS id alone, when the model has one).</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops generation within one decoding step.</param>
    /// <returns>The result.</returns>
    /// <exception cref="ArgumentException">An empty prompt without a BOS id, an id outside the vocabulary, a prompt that fills the
    /// context, or stop strings without a tokenizer.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public GenerationResult Generate(IReadOnlyList<int> promptIds, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        using GenerationRun run = Start(promptIds, options);
        while (run.Step(cancellationToken) is not null)
        {
        }

        return run.Result!;
    }

    /// <summary>Streams a continuation of a text prompt (encoded with <see cref="Encode"/>).</summary>
    /// <param name="prompt">The prompt.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops generation within one decoding step.</param>
    /// <returns>One update per generated token, then a final update with the result.</returns>
    public IAsyncEnumerable<GenerationUpdate> GenerateAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        GenerateAsync(Encode(prompt), options, cancellationToken);

    /// <summary>Streams a continuation of a tokenized prompt. Each decoding step runs on the thread pool.</summary>
    /// <param name="promptIds">The prompt's ids.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops generation within one decoding step (<see cref="OperationCanceledException"/>).</param>
    /// <returns>One update per generated token, then a final update with the result.</returns>
    /// <exception cref="ArgumentException">As <see cref="Generate(IReadOnlyList{int}, GenerationOptions?, CancellationToken)"/>,
    /// thrown at the call.</exception>
    public IAsyncEnumerable<GenerationUpdate> GenerateAsync(IReadOnlyList<int> promptIds, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        GenerationRun run = Start(promptIds, options);
        return Stream(run, cancellationToken);
    }

    /// <summary>The tokenizer, or a <see cref="FileNotFoundException"/> naming the missing file and what needed it.</summary>
    private Tokenizer RequireTokenizer(string purpose) => Tokenizer
        ?? throw new FileNotFoundException(
            $"{Model.Directory} has no tokenizer.json (nor tokenizer.model), which is needed to {purpose}.",
            Path.Combine(Model.Directory, "tokenizer.json"));

    /// <summary>Disposes the session and the cached chat conversation.</summary>
    public void Dispose()
    {
        ClearChatCache();
        _prefillSession?.Dispose();
        _session.Dispose();
    }

    private static async IAsyncEnumerable<GenerationUpdate> Stream(GenerationRun run, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using (run)
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                GenerationUpdate? update = await Task.Run(() => run.Step(cancellationToken), cancellationToken).ConfigureAwait(false);
                if (update is null)
                {
                    yield break;
                }

                yield return update;
            }
        }
    }

    private GenerationRun Start(IReadOnlyList<int> promptIds, GenerationOptions? options)
    {
        RowSetup row = Prepare(promptIds, options, nameof(promptIds));
        return new GenerationRun(this, row.Prompt, row.MaxNew, row.Eos, row.Processors, row.Options, row.Streamer);
    }

    /// <summary>Validates one prompt and resolves its options: the prompt (BOS for an empty one), the new-token budget capped by
    /// the context, the end-of-sequence ids, the logits processors and the text streamer.</summary>
    internal RowSetup Prepare(IReadOnlyList<int> promptIds, GenerationOptions? options, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(promptIds, parameterName);
        options ??= new GenerationOptions();
        int[] prompt = [.. promptIds];
        if (prompt.Length == 0)
        {
            int bos = Model.Config?.BosTokenId ?? Tokenizer?.BosTokenId
                ?? throw new ArgumentException("The prompt is empty and the model has no BOS token to start from.", parameterName);
            prompt = [bos];
        }

        int vocabulary = Signature.VocabularySize > 0 ? (int)Signature.VocabularySize : Model.Config?.VocabSize ?? int.MaxValue;
        foreach (int id in prompt)
        {
            if ((uint)id >= (uint)vocabulary)
            {
                throw new ArgumentOutOfRangeException(parameterName, id, $"Token id {id} is outside the vocabulary of {vocabulary}.");
            }
        }

        if (options.StopStrings is { Count: > 0 } && Tokenizer is null)
        {
            throw new ArgumentException("Stop strings need a tokenizer to decode the text; the model folder has none.", nameof(options));
        }

        int maxNew = options.MaxNewTokens ?? _configMaxNewTokens
            ?? (_configMaxLength is { } maxLength && maxLength > prompt.Length ? maxLength - prompt.Length : FallbackMaxNewTokens);
        if (ContextLength is { } context)
        {
            if (options.MaxNewTokens is { } asked && asked >= context)
            {
                throw new ArgumentOutOfRangeException(nameof(options), asked, $"max_new_tokens = {asked} is beyond the model's context of {context} tokens.");
            }

            if (prompt.Length + maxNew > context)
            {
                if (options.Truncation == PromptTruncation.Left)
                {
                    // Keep the newest tokens (and a leading BOS, which the model expects first) so that the asked budget fits.
                    maxNew = Math.Min(maxNew, context - 1);
                    int keep = context - maxNew;
                    int? bos = Model.Config?.BosTokenId ?? Tokenizer?.BosTokenId;
                    prompt = bos is { } b && prompt[0] == b && keep > 1 ? [b, .. prompt.AsSpan(prompt.Length - keep + 1)] : prompt[^keep..];
                }
                else if (prompt.Length >= context)
                {
                    throw new ArgumentException($"The prompt has {prompt.Length} tokens; the model's context is {context}, which leaves no room to generate (ask for left truncation to keep its end).", parameterName);
                }
                else if (options.MaxNewTokens is not null)
                {
                    throw new ArgumentException($"The prompt's {prompt.Length} tokens + max_new_tokens = {maxNew} exceed the model's context of {context} tokens (lower max_new_tokens or ask for left truncation).", parameterName);
                }
                else
                {
                    // A default budget (generation_config.json or ours) shrinks to what the context leaves.
                    maxNew = context - prompt.Length;
                }
            }
        }

        IReadOnlyList<int> eos = options.EosTokenIds ?? DefaultEosTokenIds;
        LogitsProcessorList processors = LogitsProcessorList.Create(options.ToLogitsProcessorSettings(eos));
        GenerationTextStreamer? streamer = Tokenizer is null ? null
            : GenerationTextStreamer.Create(Tokenizer, options.StopStrings, prompt, options.SkipSpecialTokens);
        return new RowSetup(prompt, maxNew, eos, processors, options, streamer);
    }

    internal sealed record RowSetup(int[] Prompt, int MaxNew, IReadOnlyList<int> Eos, LogitsProcessorList Processors, GenerationOptions Options, GenerationTextStreamer? Streamer);

    private static (IReadOnlyList<int>? Eos, int? MaxNewTokens, int? MaxLength) ReadGenerationConfig(string directory)
    {
        string path = Path.Combine(directory, "generation_config.json");
        if (!File.Exists(path))
        {
            return (null, null, null);
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllText(path));
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{path}: expected a JSON object.");
            }

            IReadOnlyList<int>? eos = null;
            if (root.TryGetProperty("eos_token_id", out JsonElement e))
            {
                eos = e.ValueKind switch
                {
                    JsonValueKind.Number when e.TryGetInt32(out int id) => [id],
                    JsonValueKind.Array => e.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out _)).Select(x => x.GetInt32()).ToArray(),
                    _ => null,
                };
            }

            return (eos, Int(root, "max_new_tokens"), Int(root, "max_length"));
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {ex.Message}", ex);
        }

        static int? Int(JsonElement root, string name) =>
            root.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int number) && number > 0 ? number : null;
    }

    /// <summary>The state of one generation: the token history, the KV cache (ONNX Runtime values) and the text streamer.</summary>
    private sealed class GenerationRun : IDisposable
    {
        private readonly Generator _owner;
        private readonly int[] _history;
        private readonly int _promptLength;
        private readonly int _maxNew;
        private readonly HashSet<int> _eos;
        private readonly LogitsProcessorList _processors;
        private readonly bool _sampling;
        private readonly Xoshiro256StarStar? _random;
        private readonly GenerationTextStreamer? _streamer;
        private readonly Dictionary<string, OrtValue> _feeds = new(StringComparer.Ordinal);
        private readonly long[] _ones;
        private readonly long[] _stepIds = new long[1];
        private readonly long[] _stepPosition = new long[1];
        private readonly long[] _stepTokenType = new long[1];
        private readonly GenerationClock _clock = new();
        private float[] _logits = [];
        private readonly bool _keepCache;
        private int _length;
        private int _pastLength;
        private bool _pastFilled;
        private bool _finishing;

        // prefix: a cached KV prefix of the prompt to start from (chat reuse), whose values this run then owns; or null.
        // keepCache: hand the KV cache to the generator's chat cache when the run completes.
        public GenerationRun(Generator owner, int[] prompt, int maxNew, IReadOnlyList<int> eos, LogitsProcessorList processors, GenerationOptions options, GenerationTextStreamer? streamer, ChatCache? prefix = null, bool keepCache = false)
        {
            _keepCache = keepCache;
            if (prefix is not null)
            {
                foreach (KeyValuePair<string, OrtValue> past in prefix.Past)
                {
                    _feeds[past.Key] = past.Value;
                }

                _pastLength = prefix.Ids.Length;
                _pastFilled = true;
            }

            _owner = owner;
            _promptLength = prompt.Length;
            _maxNew = maxNew;
            _history = new int[prompt.Length + maxNew];
            prompt.CopyTo(_history, 0);
            _length = prompt.Length;
            _eos = [.. eos];
            _processors = processors;
            _sampling = options.DoSample && options.Temperature > 0f;
            _random = _sampling ? new Xoshiro256StarStar(options.Seed ?? (ulong)Random.Shared.NextInt64()) : null;
            _streamer = streamer;
            _ones = new long[_history.Length];
            Array.Fill(_ones, 1L);
        }

        public GenerationResult? Result { get; private set; }

        /// <summary>Runs one decoding step; returns the token's update, the final update, or null once the result was given.</summary>
        public GenerationUpdate? Step(CancellationToken cancellationToken)
        {
            if (Result is not null)
            {
                return null;
            }

            _clock.StartStep();
            GenerationUpdate update = StepCore(cancellationToken);
            if (Result is null)
            {
                _clock.EndStep();
            }

            return update;
        }

        private GenerationUpdate StepCore(CancellationToken cancellationToken)
        {
            if (_finishing)
            {
                return Finish(FinishReason.Length, null);
            }

            cancellationToken.ThrowIfCancellationRequested();
            RunModel(cancellationToken);
            Span<float> logits = _logits;
            ReadOnlySpan<int> history = _history.AsSpan(0, _length);
            _processors.Process(logits, history, _promptLength);
            int token = _sampling ? TokenSelection.Sample(logits, _random!) : TokenSelection.ArgMax(logits);
            _history[_length++] = token;
            TextChunk chunk = _streamer?.Append(token) ?? new TextChunk(string.Empty);
            if (chunk.IsStop)
            {
                return new GenerationUpdate(token, chunk.Text, Complete(FinishReason.Stop, chunk.StopString));
            }

            if (_eos.Contains(token))
            {
                return Finish(FinishReason.Eos, chunk.Text, token);
            }

            if (_length - _promptLength >= _maxNew)
            {
                _finishing = true;
            }

            return new GenerationUpdate(token, chunk.Text);
        }

        public void Dispose()
        {
            foreach (OrtValue value in _feeds.Values)
            {
                value.Dispose();
            }

            _feeds.Clear();
        }

        private GenerationUpdate Finish(FinishReason reason, string? prefix, int token = -1)
        {
            TextChunk last = _streamer?.Complete() ?? new TextChunk(string.Empty);
            string text = prefix is null ? last.Text : prefix + last.Text;
            if (token >= 0)
            {
                return new GenerationUpdate(token, text, Complete(last.IsStop ? FinishReason.Stop : reason, last.StopString));
            }

            return new GenerationUpdate(-1, text, Complete(last.IsStop ? FinishReason.Stop : reason, last.StopString));
        }

        private GenerationResult Complete(FinishReason reason, string? stopString)
        {
            if (_keepCache && _pastFilled && _pastLength > 0 && _owner.Signature.PastInputs.Count > 0)
            {
                var past = new Dictionary<string, OrtValue>(StringComparer.Ordinal);
                foreach (PastKeyValueInput input in _owner.Signature.PastInputs)
                {
                    if (_feeds.Remove(input.Name, out OrtValue? value))
                    {
                        past[input.Name] = value;
                    }
                }

                _owner.StoreChatCache(new ChatCache(_history[.._pastLength], past));
            }

            Dispose();
            _clock.EndStep();
            Result = new GenerationResult(
                _history[.._promptLength],
                _history[_promptLength.._length],
                _streamer?.Text ?? string.Empty,
                reason,
                stopString)
            {
                Timings = _clock.ToTimings(),
            };
            return Result;
        }

        private void RunModel(CancellationToken cancellationToken)
        {
            if (!_pastFilled || _owner.Signature.PastInputs.Count == 0)
            {
                // Prefill (or, without a past, the whole sequence every step).
                long[] ids = new long[_length];
                for (int i = 0; i < _length; i++)
                {
                    ids[i] = _history[i];
                }

                using (StepRun prefill = _owner.RunPrefill(ids, 1, default, _clock, cancellationToken))
                {
                    Consume(prefill.Outputs);
                }

                _pastFilled = true;
                _pastLength = _length;
                return;
            }

            // Decode the tokens after the cache (one, except after a reused chat prefix) with the cache of everything before them.
            int past = _pastLength;
            int count = _length - past;
            long[] stepIds = _stepIds;
            long[] stepPosition = _stepPosition;
            long[] stepTokenType = _stepTokenType;
            if (count == 1)
            {
                _stepIds[0] = _history[past];
                _stepPosition[0] = past;
            }
            else
            {
                stepIds = new long[count];
                stepPosition = new long[count];
                stepTokenType = new long[count];
                for (int i = 0; i < count; i++)
                {
                    stepIds[i] = _history[past + i];
                    stepPosition[i] = past + i;
                }
            }

            using (StepRun step = _owner.RunWithPast(_feeds, 1, stepIds, _ones.AsMemory(0, _length), stepPosition, stepTokenType, _clock, cancellationToken))
            {
                Consume(step.Outputs);
            }

            _pastLength = _length;
        }

        /// <summary>Reads the last position's logits into the reused buffer and keeps the presents as the next past.</summary>
        private void Consume(SessionOutputs outputs)
        {
            DecoderStep.ReadLastLogits(outputs, 1, ref _logits);
            DecoderStep.KeepPresents(outputs, _owner.Signature, _feeds);
        }
    }
}
