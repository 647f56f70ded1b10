using MLNetTransformers.Generation.Logits;
using MLNetTransformers.Generation.Text;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Generation.Decoding;

/// <summary>Batched generation (greedy or sampling) over one decoder run per step for all rows.</summary>
public sealed partial class Generator
{
    /// <summary>Generates continuations of several text prompts as one batch (each encoded with <see cref="Encode"/>).</summary>
    /// <param name="prompts">The prompts.</param>
    /// <param name="options">The options of every row; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops generation within one decoding step.</param>
    /// <returns>One result per prompt, in order.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public IReadOnlyList<GenerationResult> GenerateBatch(IReadOnlyList<string> prompts, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        return GenerateBatch(prompts.Select(Encode).ToArray(), options, cancellationToken);
    }

    /// <summary>Generates continuations of several tokenized prompts as one batch, with the same options for every row.</summary>
    /// <param name="prompts">The prompts' ids (an empty prompt starts from the BOS id, as in
    /// <see cref="Generate(IReadOnlyList{int}, GenerationOptions?, CancellationToken)"/>).</param>
    /// <param name="options">The options of every row; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops generation within one decoding step.</param>
    /// <returns>One result per prompt, in order.</returns>
    /// <exception cref="ArgumentException">No prompts, or a prompt rejected as by
    /// <see cref="Generate(IReadOnlyList{int}, GenerationOptions?, CancellationToken)"/>.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public IReadOnlyList<GenerationResult> GenerateBatch(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        var rowOptions = new GenerationOptions?[prompts.Count];
        Array.Fill(rowOptions, options);
        return GenerateBatch(prompts, rowOptions, cancellationToken);
    }

    /// <summary>
    /// Generates continuations of several tokenized prompts as one batch, each row with its own options (end-of-sequence ids,
    /// <c>max_new_tokens</c>, stop strings, processors, seed).
    /// </summary>
    /// <remarks>
    /// <para>Follows Hugging Face's <c>GenerationMixin</c> (greedy and sampling): prompts of different lengths are left-padded with
    /// the pad id (the tokenizer's pad token, else <c>config.json</c>'s <c>pad_token_id</c>, else the first end-of-sequence id of the
    /// first row, else 0); the attention mask is 0 on the padding and 1 elsewhere; position ids are <c>cumsum(mask) - 1</c> (1 on the
    /// padding) at the prefill and the row's mask count minus one at each decoding step. One decoder run per step serves all rows,
    /// and the batch's <c>present.*</c> outputs feed the next step's <c>past_key_values.*</c> without a copy.</para>
    /// <para>Each row stops on its own (end-of-sequence id, stop string, or its own <c>max_new_tokens</c>); the batch continues
    /// until every row has finished. As in Hugging Face, a finished row keeps being fed the pad id with attention mask 1 (its logits
    /// are ignored); its result holds only its own tokens, without that padding. Each row has its own logits processors, which see
    /// the row's unpadded history, its own text streamer and, when sampling, its own generator seeded with its options' seed, so a
    /// row's result does not depend on the other rows beyond the numerical effect of padding.</para>
    /// </remarks>
    /// <param name="prompts">The prompts' ids.</param>
    /// <param name="rowOptions">One entry per prompt (<see langword="null"/> for the defaults).</param>
    /// <param name="cancellationToken">Stops generation within one decoding step.</param>
    /// <returns>One result per prompt, in order.</returns>
    /// <exception cref="ArgumentException">No prompts, a count of options other than the count of prompts, or a prompt rejected as
    /// by <see cref="Generate(IReadOnlyList{int}, GenerationOptions?, CancellationToken)"/>.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public IReadOnlyList<GenerationResult> GenerateBatch(IReadOnlyList<IReadOnlyList<int>> prompts, IReadOnlyList<GenerationOptions?> rowOptions, CancellationToken cancellationToken = default)
    {
        using BatchRun run = StartBatch(prompts, rowOptions);
        while (run.Step(cancellationToken) is not null)
        {
        }

        return run.Results();
    }

    /// <summary>
    /// <c>num_return_sequences</c> continuations of one prompt, as Hugging Face's <c>generate</c> returns them: beam search's best
    /// <see cref="GenerationOptions.NumReturnSequences"/> when <see cref="GenerationOptions.NumBeams"/> &gt; 1; otherwise that many
    /// samples drawn as one batch, row <c>i</c> seeded with <c>seed + i·φ</c> (φ = 0x9E3779B97F4A7C15; row 0 uses the seed itself,
    /// so one sequence equals <see cref="Generate(IReadOnlyList{int}, GenerationOptions?, CancellationToken)"/>).
    /// </summary>
    /// <param name="promptIds">The prompt's ids.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops generation within one decoding step.</param>
    /// <returns>The sequences (beam search: best score first; sampling: in row order).</returns>
    /// <exception cref="ArgumentException">Several sequences asked of greedy decoding (they would all be equal; Hugging Face
    /// refuses this too), or a prompt rejected as by <see cref="Generate(IReadOnlyList{int}, GenerationOptions?, CancellationToken)"/>.</exception>
    public IReadOnlyList<GenerationResult> GenerateSequences(IReadOnlyList<int> promptIds, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new GenerationOptions();
        if (options.NumBeams > 1)
        {
            return GenerateBeams(promptIds, options, cancellationToken);
        }

        int count = options.NumReturnSequences;
        if (count == 1)
        {
            return [Generate(promptIds, options, cancellationToken)];
        }

        if (!options.DoSample || options.Temperature == 0f)
        {
            throw new ArgumentException($"num_return_sequences = {count} needs sampling or beam search: greedy decoding would return {count} equal sequences.", nameof(options));
        }

        ulong seed = options.Seed ?? (ulong)Random.Shared.NextInt64();
        var prompts = new IReadOnlyList<int>[count];
        var rowOptions = new GenerationOptions?[count];
        for (int i = 0; i < count; i++)
        {
            prompts[i] = promptIds;
            rowOptions[i] = options with { Seed = unchecked(seed + ((ulong)i * 0x9E3779B97F4A7C15UL)), NumReturnSequences = 1 };
        }

        return GenerateBatch(prompts, rowOptions, cancellationToken);
    }

    /// <summary>Streams several text prompts' continuations generated as one batch (each encoded with <see cref="Encode"/>).</summary>
    /// <param name="prompts">The prompts.</param>
    /// <param name="options">The options of every row; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops generation within one decoding step.</param>
    /// <returns>Per step, one update per row still running, tagged with its row; a row's last update carries its result.</returns>
    public IAsyncEnumerable<BatchGenerationUpdate> GenerateBatchAsync(IReadOnlyList<string> prompts, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        var rowOptions = new GenerationOptions?[prompts.Count];
        Array.Fill(rowOptions, options);
        return GenerateBatchAsync(prompts.Select(Encode).ToArray(), rowOptions, cancellationToken);
    }

    /// <summary>
    /// Streams the continuations of several tokenized prompts generated as one batch, each row with its own options: the same
    /// generation as <see cref="GenerateBatch(IReadOnlyList{IReadOnlyList{int}}, IReadOnlyList{GenerationOptions?}, CancellationToken)"/>,
    /// delivered step by step. Each decoding step runs on the thread pool.
    /// </summary>
    /// <param name="prompts">The prompts' ids.</param>
    /// <param name="rowOptions">One entry per prompt (<see langword="null"/> for the defaults).</param>
    /// <param name="cancellationToken">Stops generation within one decoding step (<see cref="OperationCanceledException"/>).</param>
    /// <returns>Per step, one update per row still running, tagged with its row (text deltas never split a character); a row's
    /// last update carries its result (<see cref="GenerationUpdate.IsFinal"/>).</returns>
    /// <exception cref="ArgumentException">As the synchronous overload, thrown at the call.</exception>
    public IAsyncEnumerable<BatchGenerationUpdate> GenerateBatchAsync(IReadOnlyList<IReadOnlyList<int>> prompts, IReadOnlyList<GenerationOptions?> rowOptions, CancellationToken cancellationToken = default)
    {
        BatchRun run = StartBatch(prompts, rowOptions);
        return StreamBatch(run, cancellationToken);
    }

    private static async IAsyncEnumerable<BatchGenerationUpdate> StreamBatch(BatchRun run, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using (run)
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                BatchGenerationUpdate[]? updates = await Task.Run(() => run.Step(cancellationToken), cancellationToken).ConfigureAwait(false);
                if (updates is null)
                {
                    yield break;
                }

                foreach (BatchGenerationUpdate update in updates)
                {
                    yield return update;
                }
            }
        }
    }

    private BatchRun StartBatch(IReadOnlyList<IReadOnlyList<int>> prompts, IReadOnlyList<GenerationOptions?> rowOptions)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(rowOptions);
        if (prompts.Count == 0)
        {
            throw new ArgumentException("The batch has no prompts.", nameof(prompts));
        }

        if (rowOptions.Count != prompts.Count)
        {
            throw new ArgumentException($"{rowOptions.Count} options were given for {prompts.Count} prompts.", nameof(rowOptions));
        }

        var rows = new BatchRow[prompts.Count];
        for (int b = 0; b < rows.Length; b++)
        {
            RowSetup setup = Prepare(prompts[b] ?? throw new ArgumentException($"Prompt {b} is null.", nameof(prompts)), rowOptions[b], nameof(prompts));
            rows[b] = new BatchRow(setup);
        }

        int padId = rowOptions.FirstOrDefault(o => o?.PadTokenId is not null)?.PadTokenId
            ?? Tokenizer?.PadTokenId ?? Model.Config?.PadTokenId ?? (rows[0].EosIds.Count > 0 ? rows[0].EosIds[0] : 0);
        return new BatchRun(this, rows, padId);
    }

    /// <summary>One row of a batch: its unpadded history, stopping rules, processors, sampler and text streamer.</summary>
    internal sealed class BatchRow
    {
        private readonly int[] _history;
        private readonly HashSet<int> _eos;
        private readonly LogitsProcessorList _processors;
        private readonly Xoshiro256StarStar? _random;
        private readonly GenerationTextStreamer? _streamer;

        public BatchRow(RowSetup setup)
        {
            PromptLength = setup.Prompt.Length;
            MaxNew = setup.MaxNew;
            _history = new int[PromptLength + MaxNew];
            setup.Prompt.CopyTo(_history, 0);
            Length = PromptLength;
            EosIds = setup.Eos;
            _eos = [.. setup.Eos];
            _processors = setup.Processors;
            bool sampling = setup.Options.DoSample && setup.Options.Temperature > 0f;
            _random = sampling ? new Xoshiro256StarStar(setup.Options.Seed ?? (ulong)Random.Shared.NextInt64()) : null;
            _streamer = setup.Streamer;
        }

        public int PromptLength { get; }

        public int MaxNew { get; }

        public int Length { get; private set; }

        public IReadOnlyList<int> EosIds { get; }

        public ReadOnlySpan<int> Prompt => _history.AsSpan(0, PromptLength);

        public GenerationResult? Result { get; set; }

        /// <summary>Applies the processors to this row's logits (over its unpadded history), chooses and records the token;
        /// <paramref name="text"/> receives the text it releases (with the rest of the text when it ends the row).</summary>
        public int Choose(Span<float> logits, out string text)
        {
            _processors.Process(logits, _history.AsSpan(0, Length), PromptLength);
            int token = _random is null ? TokenSelection.ArgMax(logits) : TokenSelection.Sample(logits, _random);
            _history[Length++] = token;
            TextChunk chunk = _streamer?.Append(token) ?? new TextChunk(string.Empty);
            text = chunk.Text;
            if (chunk.IsStop)
            {
                Complete(FinishReason.Stop, chunk.StopString);
            }
            else if (_eos.Contains(token))
            {
                text += Finish(FinishReason.Eos);
            }
            else if (Length - PromptLength >= MaxNew)
            {
                text += Finish(FinishReason.Length);
            }

            return token;
        }

        private string Finish(FinishReason reason)
        {
            TextChunk last = _streamer?.Complete() ?? new TextChunk(string.Empty);
            Complete(last.IsStop ? FinishReason.Stop : reason, last.StopString);
            return last.Text;
        }

        private void Complete(FinishReason reason, string? stopString) =>
            Result = new GenerationResult(_history[..PromptLength], _history[PromptLength..Length], _streamer?.Text ?? string.Empty, reason, stopString);
    }

    /// <summary>The shared state of a batch: the left-padded ids, the KV cache (ONNX Runtime values) and the step buffers.</summary>
    private sealed class BatchRun : IDisposable
    {
        private readonly Generator _owner;
        private readonly BatchRow[] _rows;
        private readonly int _padId;
        private readonly int _batch;
        private readonly int _stride;
        private readonly int[] _padding;
        private readonly long[] _tokens;
        private readonly long[] _mask;
        private readonly long[] _stepIds;
        private readonly long[] _stepPositions;
        private readonly long[] _stepTokenTypes;
        private readonly Dictionary<string, OrtValue> _feeds = new(StringComparer.Ordinal);
        private float[] _logits = [];
        private int _vocabulary;
        private int _length;
        private bool _pastFilled;
        private bool _finished;

        public BatchRun(Generator owner, BatchRow[] rows, int padId)
        {
            _owner = owner;
            _rows = rows;
            _padId = padId;
            _batch = rows.Length;
            int maxPrompt = rows.Max(r => r.PromptLength);
            _stride = maxPrompt + rows.Max(r => r.MaxNew);
            _padding = new int[_batch];
            _tokens = new long[_batch * _stride];
            _mask = new long[_batch * _stride];
            _stepIds = new long[_batch];
            _stepPositions = new long[_batch];
            _stepTokenTypes = new long[_batch];
            for (int b = 0; b < _batch; b++)
            {
                _padding[b] = maxPrompt - rows[b].PromptLength;
                Span<long> row = _tokens.AsSpan(b * _stride, _stride);
                row[.._padding[b]].Fill(padId);
                ReadOnlySpan<int> prompt = rows[b].Prompt;
                for (int i = 0; i < prompt.Length; i++)
                {
                    row[_padding[b] + i] = prompt[i];
                }
            }

            _length = maxPrompt;
        }

        public GenerationClock Clock { get; } = new();

        /// <summary>Runs one step for the whole batch; returns one update per row that was still running, or null once every
        /// row has finished.</summary>
        public BatchGenerationUpdate[]? Step(CancellationToken cancellationToken)
        {
            if (_finished)
            {
                return null;
            }

            cancellationToken.ThrowIfCancellationRequested();
            Clock.StartStep();
            RunModel(cancellationToken);
            var chosen = new List<(int Row, int Token, string Text)>(_batch);
            bool allFinished = true;
            for (int b = 0; b < _batch; b++)
            {
                BatchRow row = _rows[b];
                int token = _padId;
                if (row.Result is null)
                {
                    token = row.Choose(_logits.AsSpan(b * _vocabulary, _vocabulary), out string text);
                    chosen.Add((b, token, text));
                }

                allFinished &= row.Result is not null;
                _tokens[(b * _stride) + _length] = token;
            }

            _length++;
            _finished = allFinished;
            Clock.EndStep();
            var updates = new BatchGenerationUpdate[chosen.Count];
            for (int i = 0; i < updates.Length; i++)
            {
                (int b, int token, string text) = chosen[i];
                BatchRow row = _rows[b];
                if (row.Result is { Timings: null } result)
                {
                    row.Result = result with { Timings = Clock.ToTimings() };
                }

                updates[i] = new BatchGenerationUpdate(b, new GenerationUpdate(token, text, row.Result));
            }

            return updates;
        }

        public IReadOnlyList<GenerationResult> Results() => [.. _rows.Select(r => r.Result!)];

        public void Dispose()
        {
            foreach (OrtValue value in _feeds.Values)
            {
                value.Dispose();
            }

            _feeds.Clear();
        }

        /// <summary>Fills the contiguous <c>[batch, length]</c> mask: 0 on each row's left padding, 1 after (finished rows included).</summary>
        private Memory<long> FillMask()
        {
            for (int b = 0; b < _batch; b++)
            {
                Span<long> row = _mask.AsSpan(b * _length, _length);
                row[.._padding[b]].Clear();
                row[_padding[b]..].Fill(1L);
            }

            return _mask.AsMemory(0, _batch * _length);
        }

        private void RunModel(CancellationToken cancellationToken)
        {
            if (!_pastFilled || _owner.Signature.PastInputs.Count == 0)
            {
                // Prefill (or, without a past, the whole padded batch every step); position ids come from the mask.
                long[] ids = new long[_batch * _length];
                for (int b = 0; b < _batch; b++)
                {
                    _tokens.AsSpan(b * _stride, _length).CopyTo(ids.AsSpan(b * _length, _length));
                }

                using (StepRun prefill = _owner.RunPrefill(ids, _batch, FillMask().Span, Clock, cancellationToken))
                {
                    Consume(prefill.Outputs);
                }

                _pastFilled = true;
                return;
            }

            // Decode one token per row with the cache of everything before it; the position is the row's mask count minus one.
            for (int b = 0; b < _batch; b++)
            {
                _stepIds[b] = _tokens[(b * _stride) + _length - 1];
                _stepPositions[b] = _length - _padding[b] - 1;
            }

            using (StepRun step = _owner.RunWithPast(_feeds, _batch, _stepIds, FillMask(), _stepPositions, _stepTokenTypes, Clock, cancellationToken))
            {
                Consume(step.Outputs);
            }
        }

        /// <summary>Reads each row's last-position logits into the reused <c>[batch, vocabulary]</c> buffer and keeps the presents
        /// as the next past.</summary>
        private void Consume(SessionOutputs outputs)
        {
            _vocabulary = DecoderStep.ReadLastLogits(outputs, _batch, ref _logits);
            DecoderStep.KeepPresents(outputs, _owner.Signature, _feeds);
        }
    }
}

/// <summary>One row's update in a streamed batch generation.</summary>
/// <param name="Row">The row: the index of its prompt.</param>
/// <param name="Update">The token and text delta; the row's last update carries its result.</param>
public sealed record BatchGenerationUpdate(int Row, GenerationUpdate Update);
