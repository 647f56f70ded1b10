using System.Runtime.CompilerServices;
using System.Threading.Channels;
using MLNetTransformers.Generation.Text;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Generation.Decoding;

/// <summary>Options of a <see cref="ContinuousBatchScheduler"/>.</summary>
public sealed record ContinuousBatchingOptions
{
    /// <summary>Most requests decoded together in one model run (default 16).</summary>
    public int MaxBatchSize { get; init; } = 16;

    /// <summary>Most requests waiting to join; a request beyond it is refused with <see cref="SchedulerQueueFullException"/>
    /// (default 256).</summary>
    public int MaxQueueLength { get; init; } = 256;
}

/// <summary>A request was refused because the scheduler's queue is full.</summary>
public sealed class SchedulerQueueFullException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    public SchedulerQueueFullException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public SchedulerQueueFullException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public SchedulerQueueFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Continuous batching: concurrent generation requests share one decoding loop in which they join and leave a running batch
/// at step boundaries, so that N concurrent requests cost about one model run per step instead of N.
/// </summary>
/// <remarks>
/// <para>Each step, waiting requests join (up to <see cref="ContinuousBatchingOptions.MaxBatchSize"/>): each is prefilled alone
/// (no padding, so its first token is exactly what <see cref="Generator.Generate(IReadOnlyList{int}, GenerationOptions?, CancellationToken)"/>
/// gives) and its key/value cache is merged into the batch's. Then one model run decodes one token for every running request.
/// Requests that finished (end of sequence, stop string, length, or their own cancellation) leave the batch.</para>
/// <para>The batch's cache is <c>[rows, kv_heads, columns, head_dim]</c> with each row's tokens right-aligned and left padding
/// hidden by the attention mask; positions are each row's own token count. The cost of a join or a leave is one copy of the
/// whole cache inside ONNX Runtime memory (every layer, every row: <c>O(rows · columns · layers · kv_heads · head_dim)</c>), made
/// once per step in which membership changes, however many requests join or leave in it; the columns shrink to the longest
/// remaining row when rows leave. Requests carry their own options, stop strings, streams and cancellation.</para>
/// <para>Thread-safe: <see cref="GenerateAsync"/> may be called from many threads at once. Models without a key/value cache
/// (<see cref="DecoderLayout.NoPast"/>) cannot be batched this way and are refused.</para>
/// </remarks>
public sealed class ContinuousBatchScheduler : IDisposable
{
    private readonly Generator _generator;
    private readonly ContinuousBatchingOptions _options;
    private readonly Channel<Request> _queue;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Task _loop;
    private int _queued;
    private int _active;

    /// <summary>Starts the scheduler's decoding loop over <paramref name="generator"/> (which the scheduler does not own).</summary>
    /// <param name="generator">The generator; dispose it after the scheduler.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="NotSupportedException">The model has no key/value cache.</exception>
    public ContinuousBatchScheduler(Generator generator, ContinuousBatchingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (generator.Layout == DecoderLayout.NoPast)
        {
            throw new NotSupportedException($"{generator.Model.ModelFile} has no key/value cache (past_key_values inputs); continuous batching needs one.");
        }

        _generator = generator;
        _options = options ?? new ContinuousBatchingOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxBatchSize, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxQueueLength, 0, nameof(options));
        _queue = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
        _loop = Task.Factory.StartNew(RunLoop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>The generator the requests run on.</summary>
    public Generator Generator => _generator;

    /// <summary>Requests waiting to join the batch.</summary>
    public int QueueLength => Volatile.Read(ref _queued);

    /// <summary>Requests in the running batch.</summary>
    public int ActiveCount => Volatile.Read(ref _active);

    /// <summary>Raised on the decoding loop after each step with the number of rows it decoded and its duration (for metrics;
    /// handlers must be quick and must not throw).</summary>
    public event Action<int, TimeSpan>? StepCompleted;

    /// <summary>Streams one request's generation through the shared batch.</summary>
    /// <param name="promptIds">The prompt's ids.</param>
    /// <param name="options">The request's options (beam search is not batched: <see cref="GenerationOptions.NumBeams"/> must be 1).</param>
    /// <param name="cancellationToken">Ends this request within one step; the others go on.</param>
    /// <returns>One update per generated token, then a final update with the result.</returns>
    /// <exception cref="ArgumentException">A prompt or options rejected as by <see cref="Generator.Generate(IReadOnlyList{int}, GenerationOptions?, CancellationToken)"/>,
    /// or beam search; thrown at the call.</exception>
    /// <exception cref="SchedulerQueueFullException">The queue is full; thrown at the call.</exception>
    /// <exception cref="ObjectDisposedException">The scheduler was disposed.</exception>
    public IAsyncEnumerable<GenerationUpdate> GenerateAsync(IReadOnlyList<int> promptIds, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_shutdown.IsCancellationRequested, this);
        if (options is { NumBeams: > 1 })
        {
            throw new ArgumentException("Beam search is not continuously batched; use Generator.GenerateBeams.", nameof(options));
        }

        Generator.RowSetup setup = _generator.Prepare(promptIds, options, nameof(promptIds));
        if (Interlocked.Increment(ref _queued) > _options.MaxQueueLength)
        {
            Interlocked.Decrement(ref _queued);
            throw new SchedulerQueueFullException($"The generation queue is full ({_options.MaxQueueLength} requests waiting).");
        }

        var request = new Request(setup, cancellationToken);
        if (!_queue.Writer.TryWrite(request))
        {
            Interlocked.Decrement(ref _queued);
            throw new ObjectDisposedException(nameof(ContinuousBatchScheduler));
        }

        return Read(request, cancellationToken);
    }

    /// <summary>Runs one request to its end through the shared batch.</summary>
    /// <param name="promptIds">The prompt's ids.</param>
    /// <param name="options">The request's options.</param>
    /// <param name="cancellationToken">Ends this request within one step.</param>
    /// <returns>The result.</returns>
    public async Task<GenerationResult> GenerateResultAsync(IReadOnlyList<int> promptIds, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        GenerationResult? result = null;
        await foreach (GenerationUpdate update in GenerateAsync(promptIds, options, cancellationToken).ConfigureAwait(false))
        {
            result = update.Result ?? result;
        }

        return result ?? throw new InvalidOperationException("The generation ended without a result.");
    }

    /// <summary>Stops the loop: waiting and running requests end with <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (_shutdown.IsCancellationRequested)
        {
            return;
        }

        _shutdown.Cancel();
        _queue.Writer.TryComplete();
        try
        {
            _loop.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
        }

        _shutdown.Dispose();
    }

    private static async IAsyncEnumerable<GenerationUpdate> Read(Request request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ChannelReader<GenerationUpdate> reader = request.Updates.Reader;
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (reader.TryRead(out GenerationUpdate? update))
            {
                // Updates already made stay unread once the caller cancels; the loop drops the request at its next step.
                cancellationToken.ThrowIfCancellationRequested();
                yield return update;
            }
        }

        // The loop ends a cancelled request's stream with the cancellation; rethrow it on the reader's side too.
        cancellationToken.ThrowIfCancellationRequested();
    }

    private void RunLoop()
    {
        var batch = new RunningBatch(_generator);
        try
        {
            while (true)
            {
                if (batch.Count == 0)
                {
                    // Idle: wait for a request (or shutdown).
                    if (!_queue.Reader.WaitToReadAsync(_shutdown.Token).AsTask().GetAwaiter().GetResult())
                    {
                        return;
                    }
                }

                var joiners = new List<Request>();
                while (batch.Count + joiners.Count < _options.MaxBatchSize && _queue.Reader.TryRead(out Request? request))
                {
                    Interlocked.Decrement(ref _queued);
                    if (request.CancellationToken.IsCancellationRequested)
                    {
                        request.Fail(new OperationCanceledException(request.CancellationToken));
                        continue;
                    }

                    joiners.Add(request);
                }

                long start = System.Diagnostics.Stopwatch.GetTimestamp();
                batch.Admit(joiners, _shutdown.Token);
                int rows = batch.Count;
                if (rows > 0)
                {
                    try
                    {
                        batch.Step(_shutdown.Token);
                    }
                    catch (Exception ex) when (!_shutdown.IsCancellationRequested)
                    {
                        // A failed run (e.g. out of memory) ends the requests in it with the error; the loop goes on.
                        batch.FailAll(ex);
                    }
                }

                Volatile.Write(ref _active, batch.Count);
                StepCompleted?.Invoke(rows, System.Diagnostics.Stopwatch.GetElapsedTime(start));
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
        }
        finally
        {
            batch.FailAll(new ObjectDisposedException(nameof(ContinuousBatchScheduler)));
            batch.Dispose();
            while (_queue.Reader.TryRead(out Request? request))
            {
                request.Fail(new ObjectDisposedException(nameof(ContinuousBatchScheduler)));
            }
        }
    }

    /// <summary>One request: its row state and the stream its updates go to.</summary>
    private sealed class Request(Generator.RowSetup setup, CancellationToken cancellationToken)
    {
        public Generator.BatchRow Row { get; } = new(setup);

        public Generator.RowSetup Setup { get; } = setup;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public Channel<GenerationUpdate> Updates { get; } = Channel.CreateUnbounded<GenerationUpdate>(new UnboundedChannelOptions { SingleWriter = true, SingleReader = true });

        /// <summary>The row's tokens in the batch cache (prompt + generated, less the last chosen token, which is fed next).</summary>
        public int CachedLength { get; set; }

        /// <summary>The last chosen token, fed at the next step.</summary>
        public int Pending { get; set; }

        public void Publish(int token, string text)
        {
            Updates.Writer.TryWrite(new GenerationUpdate(token, text, Row.Result));
            if (Row.Result is not null)
            {
                Updates.Writer.TryComplete();
            }
        }

        public void Fail(Exception error) => Updates.Writer.TryComplete(error);
    }

    /// <summary>The running batch: its rows, their shared cache and the step buffers. Used by the loop thread only.</summary>
    private sealed class RunningBatch(Generator generator) : IDisposable
    {
        private readonly List<Request> _rows = [];
        private readonly Dictionary<string, OrtValue> _feeds = new(StringComparer.Ordinal);
        private readonly Generator.GenerationClock _clock = new();
        private float[] _logits = [];
        private int _columns;

        public int Count => _rows.Count;

        /// <summary>Prefills each joiner alone, publishes its first token, and rebuilds the cache with the rows that go on.</summary>
        public void Admit(List<Request> joiners, CancellationToken shutdown)
        {
            var joined = new List<(Request Request, Dictionary<string, OrtValue> Past)>();
            try
            {
                foreach (Request request in joiners)
                {
                    Dictionary<string, OrtValue>? past = Prefill(request, shutdown);
                    if (past is not null)
                    {
                        joined.Add((request, past));
                    }
                }

                bool leaving = _rows.Exists(r => r.Row.Result is not null || r.CancellationToken.IsCancellationRequested);
                if (joined.Count > 0 || leaving)
                {
                    Rebuild(joined);
                }
            }
            finally
            {
                foreach ((_, Dictionary<string, OrtValue> past) in joined)
                {
                    DisposeAll(past);
                }
            }
        }

        /// <summary>One decoding run for every row; publishes each row's token.</summary>
        public void Step(CancellationToken shutdown)
        {
            int rows = _rows.Count;
            int columns = _columns + 1;
            long[] ids = new long[rows];
            long[] positions = new long[rows];
            long[] tokenTypes = new long[rows];
            long[] mask = new long[rows * columns];
            for (int r = 0; r < rows; r++)
            {
                Request request = _rows[r];
                ids[r] = request.Pending;
                positions[r] = request.CachedLength;
                mask.AsSpan((r * columns) + (_columns - request.CachedLength), request.CachedLength + 1).Fill(1L);
            }

            _clock.StartStep();
            using (Generator.StepRun step = generator.RunWithPast(_feeds, rows, ids, mask, positions, tokenTypes, _clock, shutdown))
            {
                int vocabulary = DecoderStep.ReadLastLogits(step.Outputs, rows, ref _logits);
                DecoderStep.KeepPresents(step.Outputs, generator.Signature, _feeds);
                _columns++;
                for (int r = 0; r < rows; r++)
                {
                    Request request = _rows[r];
                    request.CachedLength++;
                    if (request.CancellationToken.IsCancellationRequested)
                    {
                        continue;
                    }

                    Choose(request, _logits.AsSpan(r * vocabulary, vocabulary));
                }
            }

            _clock.EndStep();
        }

        public void FailAll(Exception error)
        {
            foreach (Request request in _rows)
            {
                request.Fail(error);
            }

            _rows.Clear();
            DisposeAll(_feeds);
            _columns = 0;
        }

        public void Dispose() => DisposeAll(_feeds);

        private static void DisposeAll(Dictionary<string, OrtValue> values)
        {
            foreach (OrtValue value in values.Values)
            {
                value.Dispose();
            }

            values.Clear();
        }

        private static void Choose(Request request, Span<float> logits)
        {
            int token = request.Row.Choose(logits, out string text);
            request.Pending = token;
            request.Publish(token, text);
        }

        /// <summary>Runs the prompt alone and publishes the first token; returns its cache, or null when it already finished.</summary>
        private Dictionary<string, OrtValue>? Prefill(Request request, CancellationToken shutdown)
        {
            int[] prompt = request.Setup.Prompt;
            long[] ids = new long[prompt.Length];
            for (int i = 0; i < prompt.Length; i++)
            {
                ids[i] = prompt[i];
            }

            var past = new Dictionary<string, OrtValue>(StringComparer.Ordinal);
            try
            {
                using (CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(shutdown, request.CancellationToken))
                using (Generator.StepRun prefill = generator.RunPrefill(ids, 1, default, _clock, linked.Token))
                {
                    _ = DecoderStep.ReadLastLogits(prefill.Outputs, 1, ref _logits);
                    DecoderStep.KeepPresents(prefill.Outputs, generator.Signature, past);
                }

                request.CachedLength = prompt.Length;
                Choose(request, _logits);
            }
            catch (OperationCanceledException) when (request.CancellationToken.IsCancellationRequested && !shutdown.IsCancellationRequested)
            {
                DisposeAll(past);
                request.Fail(new OperationCanceledException(request.CancellationToken));
                return null;
            }
            catch (Exception ex) when (!shutdown.IsCancellationRequested)
            {
                DisposeAll(past);
                request.Fail(ex);
                return null;
            }

            if (request.Row.Result is not null)
            {
                DisposeAll(past);
                return null;
            }

            return past;
        }

        /// <summary>New cache tensors holding the rows that go on and the joiners, each right-aligned to the longest.</summary>
        private void Rebuild(List<(Request Request, Dictionary<string, OrtValue> Past)> joined)
        {
            var kept = new List<(Request Request, OrtValue? Source, int Row)>();
            for (int r = 0; r < _rows.Count; r++)
            {
                Request request = _rows[r];
                if (request.Row.Result is not null)
                {
                    continue;
                }

                if (request.CancellationToken.IsCancellationRequested)
                {
                    request.Fail(new OperationCanceledException(request.CancellationToken));
                    continue;
                }

                kept.Add((request, null, r));
            }

            int keptCount = kept.Count;
            foreach ((Request request, _) in joined)
            {
                kept.Add((request, null, 0));
            }

            int columns = kept.Count == 0 ? 0 : kept.Max(k => k.Request.CachedLength);
            var slices = new KeyValueCache.RowSlice[kept.Count];
            var rebuilt = new Dictionary<string, OrtValue>(StringComparer.Ordinal);
            try
            {
                if (kept.Count > 0)
                {
                    foreach (PastKeyValueInput input in generator.Signature.PastInputs)
                    {
                        for (int i = 0; i < kept.Count; i++)
                        {
                            Request request = kept[i].Request;
                            slices[i] = i < keptCount
                                ? new KeyValueCache.RowSlice(_feeds[input.Name], kept[i].Row, _columns - request.CachedLength, request.CachedLength)
                                : new KeyValueCache.RowSlice(joined[i - keptCount].Past[input.Name], 0, 0, request.CachedLength);
                        }

                        rebuilt[input.Name] = KeyValueCache.Gather(slices, columns);
                    }
                }
            }
            catch
            {
                DisposeAll(rebuilt);
                throw;
            }

            DisposeAll(_feeds);
            foreach (KeyValuePair<string, OrtValue> pair in rebuilt)
            {
                _feeds[pair.Key] = pair.Value;
            }

            _rows.Clear();
            _rows.AddRange(kept.Select(k => k.Request));
            _columns = columns;
        }
    }
}
