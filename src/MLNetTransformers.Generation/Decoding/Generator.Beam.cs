using MLNetTransformers.Generation.Logits;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Generation.Decoding;

/// <summary>Beam search for one prompt (Hugging Face's <c>_beam_search</c>).</summary>
/// <remarks>
/// <para>The prompt is expanded to <c>num_beams</c> rows run as one batch. Each step: log-softmax of each beam's last logits, then
/// the non-sampling logits processors (Hugging Face applies them to the log-probabilities), plus the beam's running score; the top
/// <c>2 * num_beams</c> candidates are taken; an end-of-sequence candidate ranked within the first <c>num_beams</c> becomes a finished
/// hypothesis scored <c>sum_logprobs / (generated_length ** length_penalty)</c> (the generated length counts the end-of-sequence
/// token, as <c>cur_len + 1 - decoder_prompt_len</c> in transformers), and the best <c>num_beams</c> other candidates continue.
/// The finished list keeps the best <c>num_beams</c> hypotheses. Stopping follows <c>early_stopping</c>: true, once
/// <c>num_beams</c> hypotheses are finished; false, once that many are finished and the best running beam, divided by the current
/// generated length ** length_penalty, cannot beat the worst of them; and always at <c>max_new_tokens</c>, where the running beams
/// are added as hypotheses.</para>
/// <para>The KV cache is reordered by beam index inside ONNX Runtime memory: for each <c>past_key_values.*</c> value
/// (<c>[beams, kv_heads, sequence, head_dim]</c>) a new tensor is allocated by ONNX Runtime
/// (<see cref="OrtValue.CreateAllocatedTensor"/>) and each beam's row is copied span to span from the source row it continues;
/// nothing goes through a managed array. Steps whose beams keep their order skip the copy.</para>
/// </remarks>
public sealed partial class Generator
{
    /// <summary>Beam search over a text prompt (encoded with <see cref="Encode"/>).</summary>
    /// <param name="prompt">The prompt.</param>
    /// <param name="options">The options (<see cref="GenerationOptions.NumBeams"/> and related); <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops generation within one decoding step.</param>
    /// <returns><see cref="GenerationOptions.NumReturnSequences"/> results, best score first, each with its <see cref="GenerationResult.Score"/>.</returns>
    public IReadOnlyList<GenerationResult> GenerateBeams(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        GenerateBeams(Encode(prompt), options, cancellationToken);

    /// <summary>Beam search over a tokenized prompt.</summary>
    /// <param name="promptIds">The prompt's ids.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops generation within one decoding step.</param>
    /// <returns><see cref="GenerationOptions.NumReturnSequences"/> results, best score first, each with its <see cref="GenerationResult.Score"/>.</returns>
    /// <exception cref="ArgumentException">As <see cref="Generate(IReadOnlyList{int}, GenerationOptions?, CancellationToken)"/>;
    /// also <see cref="GenerationOptions.NumReturnSequences"/> above <see cref="GenerationOptions.NumBeams"/>, or stop strings (not
    /// supported with beam search).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public IReadOnlyList<GenerationResult> GenerateBeams(IReadOnlyList<int> promptIds, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        GenerateBeamsCore(promptIds, options, cancellationToken).Results;

    /// <summary>Beam search, also returning how many steps reordered the KV cache (beams continuing out of order).</summary>
    internal (GenerationResult[] Results, int ReorderedSteps) GenerateBeamsCore(IReadOnlyList<int> promptIds, GenerationOptions? options, CancellationToken cancellationToken)
    {
        options ??= new GenerationOptions();
        if (options.NumReturnSequences > options.NumBeams)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.NumReturnSequences,
                $"NumReturnSequences ({options.NumReturnSequences}) must be <= NumBeams ({options.NumBeams}).");
        }

        if (options.StopStrings is { Count: > 0 })
        {
            throw new ArgumentException("Stop strings are not supported with beam search.", nameof(options));
        }

        RowSetup row = Prepare(promptIds, options with { DoSample = false }, nameof(promptIds));
        using var run = new BeamRun(this, row);
        GenerationResult[] results = run.Run(cancellationToken);
        return (results, run.ReorderedSteps);
    }

    private sealed class BeamRun : IDisposable
    {
        private readonly Generator _owner;
        private readonly RowSetup _row;
        private readonly int _beams;
        private readonly int _promptLength;
        private readonly HashSet<int> _eos;
        private readonly double _lengthPenalty;
        private int[][] _sequences;
        private int[][] _spare;
        private readonly double[] _scores;
        private readonly double[] _nextScores;
        private readonly int[] _sourceBeam;
        private readonly int[] _nextTokens;
        private readonly long[] _stepIds;
        private readonly long[] _stepPositions;
        private readonly long[] _stepTokenTypes;
        private readonly long[] _ones;
        private readonly GenerationClock _clock = new();
        private readonly Dictionary<string, OrtValue> _feeds = new(StringComparer.Ordinal);
        private readonly List<(double Score, int[] Ids)> _finished = [];
        private readonly (double Score, int Beam, int Token)[] _top;
        private float[] _logits = [];
        private int _vocabulary;
        private int _length;
        private bool _pastFilled;

        public BeamRun(Generator owner, RowSetup row)
        {
            _owner = owner;
            _row = row;
            _beams = row.Options.NumBeams;
            _promptLength = row.Prompt.Length;
            _eos = [.. row.Eos];
            _lengthPenalty = row.Options.LengthPenalty;
            int capacity = _promptLength + row.MaxNew;
            _sequences = new int[_beams][];
            _spare = new int[_beams][];
            for (int b = 0; b < _beams; b++)
            {
                _sequences[b] = new int[capacity];
                _spare[b] = new int[capacity];
                row.Prompt.CopyTo(_sequences[b], 0);
            }

            _scores = new double[_beams];
            _scores.AsSpan(1).Fill(-1e9); // only the first copy of the prompt competes at the first step, as in transformers
            _nextScores = new double[_beams];
            _sourceBeam = new int[_beams];
            _nextTokens = new int[_beams];
            _stepIds = new long[_beams];
            _stepPositions = new long[_beams];
            _stepTokenTypes = new long[_beams];
            _ones = new long[_beams * capacity];
            Array.Fill(_ones, 1L);
            _top = new (double, int, int)[2 * _beams];
            _length = _promptLength;
        }

        public int ReorderedSteps { get; private set; }

        public GenerationResult[] Run(CancellationToken cancellationToken)
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                _clock.StartStep();
                RunModel(cancellationToken);
                int candidates = SelectCandidates();
                int generated = _length + 1 - _promptLength;
                int running = 0;
                for (int r = 0; r < candidates && running < _beams; r++)
                {
                    (double score, int beam, int token) = _top[r];
                    if (_eos.Contains(token))
                    {
                        if (r < _beams)
                        {
                            int[] ids = new int[generated];
                            _sequences[beam].AsSpan(_promptLength, generated - 1).CopyTo(ids);
                            ids[^1] = token;
                            AddHypothesis(score / Math.Pow(generated, _lengthPenalty), ids);
                        }

                        continue;
                    }

                    _sourceBeam[running] = beam;
                    _nextTokens[running] = token;
                    _nextScores[running] = score;
                    running++;
                }

                for (; running < _beams; running++)
                {
                    // Fewer continuations than beams (a tiny or heavily masked vocabulary): pad with dead beams.
                    _sourceBeam[running] = _sourceBeam[0];
                    _nextTokens[running] = _nextTokens[0];
                    _nextScores[running] = double.NegativeInfinity;
                }

                for (int b = 0; b < _beams; b++)
                {
                    _sequences[_sourceBeam[b]].AsSpan(0, _length).CopyTo(_spare[b]);
                    _spare[b][_length] = _nextTokens[b];
                    _scores[b] = _nextScores[b];
                }

                (_sequences, _spare) = (_spare, _sequences);
                _length++;
                ReorderCache();
                _clock.EndStep();

                if (generated >= _row.MaxNew)
                {
                    for (int b = 0; b < _beams; b++)
                    {
                        if (!double.IsNegativeInfinity(_scores[b]))
                        {
                            AddHypothesis(_scores[b] / Math.Pow(generated, _lengthPenalty), _sequences[b][_promptLength.._length]);
                        }
                    }

                    break;
                }

                if (_finished.Count >= _beams)
                {
                    if (_row.Options.EarlyStopping)
                    {
                        break;
                    }

                    double bestRunning = _scores.Max() / Math.Pow(generated, _lengthPenalty);
                    if (bestRunning <= _finished.Min(h => h.Score))
                    {
                        break;
                    }
                }
            }

            return _finished
                .OrderByDescending(h => h.Score)
                .Take(_row.Options.NumReturnSequences)
                .Select(ToResult)
                .ToArray();
        }

        public void Dispose()
        {
            foreach (OrtValue value in _feeds.Values)
            {
                value.Dispose();
            }

            _feeds.Clear();
        }

        private GenerationResult ToResult((double Score, int[] Ids) hypothesis)
        {
            string text = string.Empty;
            if (_owner.Tokenizer is { } tokenizer)
            {
                var streamer = Text.GenerationTextStreamer.Create(tokenizer, null, _row.Prompt, _row.Options.SkipSpecialTokens);
                foreach (int id in hypothesis.Ids)
                {
                    _ = streamer.Append(id);
                }

                _ = streamer.Complete();
                text = streamer.Text;
            }

            bool eos = hypothesis.Ids.Length > 0 && _eos.Contains(hypothesis.Ids[^1]);
            return new GenerationResult(_row.Prompt, hypothesis.Ids, text, eos ? Text.FinishReason.Eos : Text.FinishReason.Length, null, hypothesis.Score)
            {
                Timings = _clock.ToTimings(),
            };
        }

        private void AddHypothesis(double score, int[] ids)
        {
            if (_finished.Count < _beams || score > _finished.Min(h => h.Score))
            {
                _finished.Add((score, ids));
                if (_finished.Count > _beams)
                {
                    int worst = 0;
                    for (int i = 1; i < _finished.Count; i++)
                    {
                        if (_finished[i].Score < _finished[worst].Score)
                        {
                            worst = i;
                        }
                    }

                    _finished.RemoveAt(worst);
                }
            }
        }

        /// <summary>Log-softmax, processors and running score per beam; keeps the best 2 * beams (score descending; ties to the
        /// lower beam, then the lower id). Returns how many were found.</summary>
        private int SelectCandidates()
        {
            int count = 0;
            int k = _top.Length;
            for (int b = 0; b < _beams; b++)
            {
                Span<float> logits = _logits.AsSpan(b * _vocabulary, _vocabulary);
                TokenSelection.LogSoftmax(logits, logits);
                _row.Processors.Process(logits, _sequences[b].AsSpan(0, _length), _promptLength);
                double beamScore = _scores[b];
                if (double.IsNegativeInfinity(beamScore))
                {
                    continue;
                }

                for (int v = 0; v < _vocabulary; v++)
                {
                    float lp = logits[v];
                    if (float.IsNegativeInfinity(lp) || float.IsNaN(lp))
                    {
                        continue;
                    }

                    double score = beamScore + lp;
                    if (count == k && score <= _top[k - 1].Score)
                    {
                        continue;
                    }

                    int at = count < k ? count++ : k - 1;
                    while (at > 0 && _top[at - 1].Score < score)
                    {
                        _top[at] = _top[at - 1];
                        at--;
                    }

                    _top[at] = (score, b, v);
                }
            }

            return count;
        }

        private void ReorderCache()
        {
            if (!_pastFilled || _owner.Signature.PastInputs.Count == 0)
            {
                return;
            }

            bool identity = true;
            for (int b = 0; b < _beams; b++)
            {
                identity &= _sourceBeam[b] == b;
            }

            if (identity)
            {
                return;
            }

            ReorderedSteps++;

            var slices = new KeyValueCache.RowSlice[_beams];
            foreach (PastKeyValueInput past in _owner.Signature.PastInputs)
            {
                OrtValue source = _feeds[past.Name];
                int columns = checked((int)source.TensorInfo.Shape[2]);
                for (int b = 0; b < _beams; b++)
                {
                    slices[b] = new KeyValueCache.RowSlice(source, _sourceBeam[b], 0, columns);
                }

                _feeds[past.Name] = KeyValueCache.Gather(slices, columns);
                source.Dispose();
            }
        }

        private void RunModel(CancellationToken cancellationToken)
        {
            if (!_pastFilled || _owner.Signature.PastInputs.Count == 0)
            {
                long[] ids = new long[_beams * _length];
                for (int b = 0; b < _beams; b++)
                {
                    for (int i = 0; i < _length; i++)
                    {
                        ids[(b * _length) + i] = _sequences[b][i];
                    }
                }

                using (StepRun prefill = _owner.RunPrefill(ids, _beams, default, _clock, cancellationToken))
                {
                    Consume(prefill.Outputs);
                }

                _pastFilled = true;
                return;
            }

            for (int b = 0; b < _beams; b++)
            {
                _stepIds[b] = _sequences[b][_length - 1];
                _stepPositions[b] = _length - 1;
            }

            using (StepRun step = _owner.RunWithPast(_feeds, _beams, _stepIds, _ones.AsMemory(0, _beams * _length), _stepPositions, _stepTokenTypes, _clock, cancellationToken))
            {
                Consume(step.Outputs);
            }
        }

        private void Consume(SessionOutputs outputs)
        {
            _vocabulary = DecoderStep.ReadLastLogits(outputs, _beams, ref _logits);
            DecoderStep.KeepPresents(outputs, _owner.Signature, _feeds);
        }
    }
}
