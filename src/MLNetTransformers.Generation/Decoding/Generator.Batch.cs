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

        int padId = Tokenizer?.PadTokenId ?? Model.Config?.PadTokenId ?? (rows[0].EosIds.Count > 0 ? rows[0].EosIds[0] : 0);
        using var run = new BatchRun(this, rows, padId);
        run.Run(cancellationToken);
        return [.. rows.Select(r => r.Result!)];
    }

    /// <summary>One row of a batch: its unpadded history, stopping rules, processors, sampler and text streamer.</summary>
    private sealed class BatchRow
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

        public GenerationResult? Result { get; private set; }

        /// <summary>Applies the processors to this row's logits (over its unpadded history), chooses and records the token.</summary>
        public int Choose(Span<float> logits)
        {
            _processors.Process(logits, _history.AsSpan(0, Length), PromptLength);
            int token = _random is null ? TokenSelection.ArgMax(logits) : TokenSelection.Sample(logits, _random);
            _history[Length++] = token;
            TextChunk chunk = _streamer?.Append(token) ?? new TextChunk(string.Empty);
            if (chunk.IsStop)
            {
                Complete(FinishReason.Stop, chunk.StopString);
            }
            else if (_eos.Contains(token))
            {
                Finish(FinishReason.Eos);
            }
            else if (Length - PromptLength >= MaxNew)
            {
                Finish(FinishReason.Length);
            }

            return token;
        }

        private void Finish(FinishReason reason)
        {
            TextChunk last = _streamer?.Complete() ?? new TextChunk(string.Empty);
            Complete(last.IsStop ? FinishReason.Stop : reason, last.StopString);
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
        private readonly bool[] _useCacheBranch = [true];
        private readonly Dictionary<string, OrtValue> _feeds = new(StringComparer.Ordinal);
        private float[] _logits = [];
        private int _vocabulary;
        private int _length;
        private bool _pastFilled;

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

        public void Run(CancellationToken cancellationToken)
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                RunModel(cancellationToken);
                bool allFinished = true;
                for (int b = 0; b < _batch; b++)
                {
                    BatchRow row = _rows[b];
                    int token = _padId;
                    if (row.Result is null)
                    {
                        token = row.Choose(_logits.AsSpan(b * _vocabulary, _vocabulary));
                    }

                    allFinished &= row.Result is not null;
                    _tokens[(b * _stride) + _length] = token;
                }

                _length++;
                if (allFinished)
                {
                    return;
                }
            }
        }

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
            DecoderSignature signature = _owner.Signature;
            if (!_pastFilled || signature.PastInputs.Count == 0)
            {
                // Prefill (or, without a past, the whole padded batch every step); position ids come from the mask.
                long[] ids = new long[_batch * _length];
                for (int b = 0; b < _batch; b++)
                {
                    _tokens.AsSpan(b * _stride, _length).CopyTo(ids.AsSpan(b * _length, _length));
                }

                using DecoderInputs inputs = DecoderInputs.CreateWithEmptyPast(signature, ids, _batch, FillMask().Span);
                using SessionOutputs outputs = _owner._session.Run(inputs.Feeds, _owner._outputNames, null, cancellationToken);
                Consume(outputs);
                _pastFilled = true;
                return;
            }

            // Decode one token per row with the cache of everything before it; the position is the row's mask count minus one.
            for (int b = 0; b < _batch; b++)
            {
                _stepIds[b] = _tokens[(b * _stride) + _length - 1];
                _stepPositions[b] = _length - _padding[b] - 1;
            }

            long[] stepShape = [_batch, 1];
            var stepValues = new List<OrtValue>(5);
            try
            {
                stepValues.Add(_feeds[DecoderSignature.InputIdsName] = OrtValue.CreateTensor(_stepIds, stepShape));
                if (signature.HasAttentionMask)
                {
                    stepValues.Add(_feeds[DecoderSignature.AttentionMaskName] = OrtValue.CreateTensor(FillMask(), [_batch, _length]));
                }

                if (signature.HasPositionIds)
                {
                    stepValues.Add(_feeds[DecoderSignature.PositionIdsName] = OrtValue.CreateTensor(_stepPositions, stepShape));
                }

                if (signature.HasTokenTypeIds)
                {
                    stepValues.Add(_feeds[DecoderSignature.TokenTypeIdsName] = OrtValue.CreateTensor(_stepTokenTypes, stepShape));
                }

                if (signature.HasUseCacheBranch)
                {
                    stepValues.Add(_feeds[DecoderSignature.UseCacheBranchName] = OrtValue.CreateTensor(_useCacheBranch, [1]));
                }

                using SessionOutputs outputs = _owner._session.Run(_feeds, _owner._outputNames, null, cancellationToken);
                Consume(outputs);
            }
            finally
            {
                DecoderStep.ReleaseStepInputs(stepValues, _feeds);
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
