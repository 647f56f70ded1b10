using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Generation.Encoding;

/// <summary>Runs one batch: the row indices given (into the caller's rows) → one result per row, in the same order.</summary>
/// <typeparam name="TResult">The per-row result.</typeparam>
/// <param name="rows">Indices of the rows of this batch.</param>
/// <param name="cancellationToken">Cancels the run.</param>
/// <returns>One result per index of <paramref name="rows"/>, in that order.</returns>
public delegate IReadOnlyList<TResult> BatchRunner<TResult>(IReadOnlyList<int> rows, CancellationToken cancellationToken);

/// <summary>
/// Groups rows of different lengths into model runs as a <see cref="BatchPolicy"/> says, runs them, and scatters the results back
/// to the original order. When a run fails because memory could not be allocated (see <see cref="IsOutOfMemory"/>), the batch is
/// split in halves and retried, and the reduced limits (row cap and token budget) apply to every later batch of this batcher;
/// only a batch of one row that runs out of memory fails the job. Thread-safe; the limits are shared by concurrent callers.
/// </summary>
public sealed class PaddingAwareBatcher
{
    private readonly Lock _gate = new();
    private int _maxRows;
    private long? _tokenBudget;
    private int _outOfMemorySplits;
    private long _batches;
    private long _paddedTokens;
    private long _realTokens;

    /// <summary>Creates a batcher.</summary>
    /// <param name="policy">The policy.</param>
    /// <exception cref="ArgumentOutOfRangeException">The policy has a property out of range.</exception>
    public PaddingAwareBatcher(BatchPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        policy.Validate();
        Policy = policy;
        _maxRows = policy.Kind == BatchPolicyKind.PerRow ? 1 : policy.MaxRows;
        _tokenBudget = policy.TokenBudget;
    }

    /// <summary>The policy the batcher was created with.</summary>
    public BatchPolicy Policy { get; }

    /// <summary>The row cap in force: the policy's, or less after an out-of-memory split.</summary>
    public int EffectiveMaxRows
    {
        get
        {
            lock (_gate)
            {
                return _maxRows;
            }
        }
    }

    /// <summary>The token budget in force (rows × padded length): the policy's, or less after an out-of-memory split.</summary>
    public long? EffectiveTokenBudget
    {
        get
        {
            lock (_gate)
            {
                return _tokenBudget;
            }
        }
    }

    /// <summary>How many batches were split because a run ran out of memory.</summary>
    public int OutOfMemorySplits => Volatile.Read(ref _outOfMemorySplits);

    /// <summary>Runs completed so far.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Tokens fed so far, padding included (Σ rows × padded length over completed runs).</summary>
    public long PaddedTokens => Interlocked.Read(ref _paddedTokens);

    /// <summary>Real (non-padding) tokens fed so far.</summary>
    public long RealTokens => Interlocked.Read(ref _realTokens);

    /// <summary>
    /// Whether an ONNX Runtime error means that memory could not be allocated: BFC arena failures ("Failed to allocate memory for
    /// requested buffer of size ...", "Available memory of ... is smaller than requested bytes"), CUDA/cuBLAS/cuDNN out-of-memory
    /// ("out of memory", <c>cudaErrorMemoryAllocation</c>, <c>CUBLAS_STATUS_ALLOC_FAILED</c>, <c>CUDNN_STATUS_ALLOC_FAILED</c>) and
    /// the C++ allocator's <c>bad_alloc</c>/"bad allocation".
    /// </summary>
    /// <param name="exception">The exception.</param>
    /// <returns>Whether it is an allocation failure.</returns>
    public static bool IsOutOfMemory(Exception exception)
    {
        if (exception is not OnnxRuntimeException ort)
        {
            return false;
        }

        string text = ort.NativeMessage;
        return text.Contains("Failed to allocate memory", StringComparison.OrdinalIgnoreCase)
            || text.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
            || text.Contains("smaller than requested bytes", StringComparison.OrdinalIgnoreCase)
            || text.Contains("cudaErrorMemoryAllocation", StringComparison.Ordinal)
            || text.Contains("STATUS_ALLOC_FAILED", StringComparison.Ordinal)
            || text.Contains("bad_alloc", StringComparison.Ordinal)
            || text.Contains("bad allocation", StringComparison.OrdinalIgnoreCase)
            || (text.Contains("BFCArena", StringComparison.Ordinal) && text.Contains("alloc", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// Plans the batches of rows of the given lengths (the policy's plan, re-cut by the limits in force), runs each through
    /// <paramref name="run"/>, and returns the results in the original row order.
    /// </summary>
    /// <typeparam name="TResult">The per-row result.</typeparam>
    /// <param name="lengths">The token count of each row.</param>
    /// <param name="run">Runs one batch.</param>
    /// <param name="cancellationToken">Stops between batches (and inside runs, where <paramref name="run"/> passes it on).</param>
    /// <returns>One result per row, in input order.</returns>
    /// <exception cref="InvalidOperationException"><paramref name="run"/> returned the wrong number of results.</exception>
    /// <exception cref="OnnxRuntimeException">A run failed for another reason than memory, or a single row ran out of memory.</exception>
    public TResult[] Run<TResult>(IReadOnlyList<int> lengths, BatchRunner<TResult> run, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        ArgumentNullException.ThrowIfNull(run);
        var results = new TResult[lengths.Count];
        foreach (int[] planned in Policy.Plan(lengths))
        {
            cancellationToken.ThrowIfCancellationRequested();
            RunWithinLimits(planned, lengths, run, results, cancellationToken);
        }

        return results;
    }

    /// <summary>Re-cuts a batch by the limits in force (they shrink after an out-of-memory split) and runs the pieces.</summary>
    private void RunWithinLimits<TResult>(int[] rows, IReadOnlyList<int> lengths, BatchRunner<TResult> run, TResult[] results, CancellationToken cancellationToken)
    {
        int maxRows;
        long? budget;
        lock (_gate)
        {
            (maxRows, budget) = (_maxRows, _tokenBudget);
        }

        foreach (int[] batch in BatchPolicy.Cut(rows, lengths, maxRows, budget, Policy.Kind == BatchPolicyKind.PaddingAware).ToArray())
        {
            RunOrSplit(batch, lengths, run, results, cancellationToken);
        }
    }

    private void RunOrSplit<TResult>(int[] batch, IReadOnlyList<int> lengths, BatchRunner<TResult> run, TResult[] results, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        IReadOnlyList<TResult> output;
        int longest = 0;
        long real = 0;
        foreach (int row in batch)
        {
            longest = Math.Max(longest, lengths[row]);
            real += lengths[row];
        }

        try
        {
            output = run(batch, cancellationToken);
        }
        catch (OnnxRuntimeException ex) when (batch.Length > 1 && IsOutOfMemory(ex))
        {
            int half = (batch.Length + 1) / 2;
            lock (_gate)
            {
                // The retry runs halves: later batches get at most that many rows and that many padded tokens.
                _maxRows = Math.Min(_maxRows, half);
                long halfCost = (long)half * longest;
                _tokenBudget = Math.Min(_tokenBudget ?? long.MaxValue, Math.Max(1, halfCost));
                _outOfMemorySplits++;
            }

            RunWithinLimits(batch[..half], lengths, run, results, cancellationToken);
            RunWithinLimits(batch[half..], lengths, run, results, cancellationToken);
            return;
        }

        if (output is null || output.Count != batch.Length)
        {
            throw new InvalidOperationException($"The batch runner returned {output?.Count ?? 0} results for a batch of {batch.Length} rows.");
        }

        for (int i = 0; i < batch.Length; i++)
        {
            results[batch[i]] = output[i];
        }

        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _paddedTokens, (long)batch.Length * longest);
        Interlocked.Add(ref _realTokens, real);
    }
}
