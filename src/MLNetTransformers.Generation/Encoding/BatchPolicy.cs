using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;

namespace MLNetTransformers.Generation.Encoding;

/// <summary>How rows are grouped into model runs.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<BatchPolicyKind>))]
public enum BatchPolicyKind
{
    /// <summary>Every row runs alone (no padding at all, one run per row).</summary>
    PerRow,

    /// <summary>Consecutive rows in input order, <see cref="BatchPolicy.MaxRows"/> at a time, padded to the longest of the batch.</summary>
    FixedSize,

    /// <summary>
    /// Rows sorted by length (within <see cref="BatchPolicy.SortWindow"/>), cut into batches whose rows × padded length stays within
    /// <see cref="BatchPolicy.TokenBudget"/> and whose row count stays within <see cref="BatchPolicy.MaxRows"/>.
    /// </summary>
    PaddingAware,
}

/// <summary>
/// A batching policy for encoder scoring: per row, fixed-size batches in input order, or padding-aware batches (sort by length,
/// cut by a token budget). A plain immutable record with public init properties, so it serializes with System.Text.Json and can
/// be recorded by a pipeline's <c>Fit</c>. Results are always returned in the input order whatever the policy.
/// </summary>
public sealed record BatchPolicy
{
    /// <summary>The default token budget of <see cref="PaddingAware(long, int, int)"/>: rows × padded length per run.</summary>
    public const long DefaultTokenBudget = 8192;

    /// <summary>The default row cap of <see cref="PaddingAware(long, int, int)"/>.</summary>
    public const int DefaultMaxRows = 64;

    /// <summary>The policy kind.</summary>
    public BatchPolicyKind Kind { get; init; } = BatchPolicyKind.PaddingAware;

    /// <summary>The most rows in one run (1 for <see cref="BatchPolicyKind.PerRow"/>).</summary>
    public int MaxRows { get; init; } = DefaultMaxRows;

    /// <summary>
    /// The most padded tokens (rows × the batch's longest row) in one run; <see langword="null"/> for no limit. A single row longer
    /// than the budget still runs, alone.
    /// </summary>
    public long? TokenBudget { get; init; } = DefaultTokenBudget;

    /// <summary>
    /// <see cref="BatchPolicyKind.PaddingAware"/>: rows are sorted by length within consecutive windows of this many rows (in input
    /// order) and batches never cross a window; 0 sorts all rows together (least padding).
    /// </summary>
    public int SortWindow { get; init; }

    /// <summary>One row per run.</summary>
    public static BatchPolicy PerRow { get; } = new() { Kind = BatchPolicyKind.PerRow, MaxRows = 1, TokenBudget = null, SortWindow = 0 };

    /// <summary>Batches of <paramref name="rows"/> consecutive rows in input order, padded to the batch's longest row.</summary>
    /// <param name="rows">Rows per batch (≥ 1).</param>
    /// <returns>The policy.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is less than 1.</exception>
    public static BatchPolicy FixedSize(int rows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        return new() { Kind = BatchPolicyKind.FixedSize, MaxRows = rows, TokenBudget = null, SortWindow = 0 };
    }

    /// <summary>Padding-aware batches: sort by length within a window, cut by a token budget and a row cap.</summary>
    /// <param name="tokenBudget">The most rows × padded length per run (≥ 1).</param>
    /// <param name="sortWindow">Sort window in rows; 0 sorts all rows together.</param>
    /// <param name="maxRows">The most rows per run (≥ 1).</param>
    /// <returns>The policy.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public static BatchPolicy PaddingAware(long tokenBudget = DefaultTokenBudget, int sortWindow = 0, int maxRows = DefaultMaxRows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tokenBudget, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(sortWindow);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        return new() { Kind = BatchPolicyKind.PaddingAware, MaxRows = maxRows, TokenBudget = tokenBudget, SortWindow = sortWindow };
    }

    /// <summary>The candidates <see cref="ChooseAsync"/> tries when none are given: per row, fixed 32, padding-aware (defaults).</summary>
    public static IReadOnlyList<BatchPolicy> DefaultCandidates { get; } = [PerRow, FixedSize(32), PaddingAware()];

    /// <summary>Checks the properties (a deserialized policy may hold anything).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A property is out of range (the message names it).</exception>
    public void Validate()
    {
        if (MaxRows < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRows), MaxRows, "BatchPolicy.MaxRows must be at least 1.");
        }

        if (TokenBudget is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(TokenBudget), TokenBudget, "BatchPolicy.TokenBudget must be at least 1 (or null for no limit).");
        }

        if (SortWindow < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(SortWindow), SortWindow, "BatchPolicy.SortWindow must not be negative.");
        }

        if (!Enum.IsDefined(Kind))
        {
            throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "Unknown BatchPolicy.Kind.");
        }
    }

    /// <summary>
    /// Cuts rows of the given lengths into batches (lists of row indices into <paramref name="lengths"/>). Every row is in exactly
    /// one batch. Padding-aware batches hold rows of similar length, longest first (a row shorter than half the batch's longest
    /// starts a new batch); fixed-size and per-row batches keep input order.
    /// </summary>
    /// <param name="lengths">The token count of each row.</param>
    /// <returns>The batches, in the order they run.</returns>
    public IReadOnlyList<int[]> Plan(IReadOnlyList<int> lengths)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        Validate();
        int count = lengths.Count;
        var batches = new List<int[]>();
        if (Kind != BatchPolicyKind.PaddingAware)
        {
            int size = Kind == BatchPolicyKind.PerRow ? 1 : MaxRows;
            for (int start = 0; start < count; start += size)
            {
                int[] batch = Enumerable.Range(start, Math.Min(size, count - start)).ToArray();
                batches.AddRange(Cut(batch, lengths, size, TokenBudget, closeOnHalfLength: false));
            }

            return batches;
        }

        int window = SortWindow == 0 ? Math.Max(count, 1) : SortWindow;
        for (int start = 0; start < count; start += window)
        {
            // Longest first (stable on index), so the most demanding batch runs first and an out-of-memory shows up early.
            int[] sorted = Enumerable.Range(start, Math.Min(window, count - start))
                .OrderByDescending(i => lengths[i])
                .ThenBy(i => i)
                .ToArray();
            batches.AddRange(Cut(sorted, lengths, MaxRows, TokenBudget, closeOnHalfLength: true));
        }

        return batches;
    }

    /// <summary>
    /// Cuts an ordered run of rows greedily into batches with at most <paramref name="maxRows"/> rows and rows × longest ≤
    /// <paramref name="tokenBudget"/> (a row that alone exceeds the budget forms its own batch). Order is kept. With
    /// <paramref name="closeOnHalfLength"/> (padding-aware, rows longest first) a row shorter than half the batch's longest row
    /// starts a new batch, so that no row is padded to more than twice its length (the tail of the long rows does not drag short
    /// rows up to its length just because the budget has room).
    /// </summary>
    internal static IEnumerable<int[]> Cut(int[] rows, IReadOnlyList<int> lengths, int maxRows, long? tokenBudget, bool closeOnHalfLength)
    {
        var current = new List<int>();
        int longest = 0;
        foreach (int row in rows)
        {
            int length = lengths[row];
            if (length < 0)
            {
                throw new ArgumentException($"Row {row} has a negative length ({length}).", nameof(lengths));
            }

            int candidateLongest = Math.Max(longest, length);
            bool fits = current.Count < maxRows
                && (tokenBudget is not { } budget || (long)(current.Count + 1) * candidateLongest <= budget)
                && !(closeOnHalfLength && (long)length * 2 < longest);
            if (!fits && current.Count > 0)
            {
                yield return current.ToArray();
                current.Clear();
                candidateLongest = length;
            }

            current.Add(row);
            longest = candidateLongest;
        }

        if (current.Count > 0)
        {
            yield return current.ToArray();
        }
    }

    /// <summary>
    /// Times each candidate policy on the same workload (typically a sample of the real rows, e.g. the first 64) and returns the
    /// timings, fastest first. Each candidate runs once to warm up and then <paramref name="repetitions"/> times; its time is the
    /// best repetition. On a CPU a batch of one is sometimes fastest: measure, don't guess.
    /// </summary>
    /// <param name="candidates">The policies to try (at least one).</param>
    /// <param name="workload">Runs the sample under a policy.</param>
    /// <param name="repetitions">Timed repetitions per candidate (≥ 1).</param>
    /// <param name="cancellationToken">Stops between runs (and inside them, where the workload passes it on).</param>
    /// <returns>The measurements, fastest first.</returns>
    /// <exception cref="ArgumentException">No candidates.</exception>
    public static async Task<IReadOnlyList<BatchPolicyTiming>> MeasureAsync(
        IReadOnlyList<BatchPolicy> candidates,
        Func<BatchPolicy, CancellationToken, Task> workload,
        int repetitions = 1,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        if (candidates.Count == 0)
        {
            throw new ArgumentException("At least one candidate policy is needed.", nameof(candidates));
        }

        var timings = new List<BatchPolicyTiming>(candidates.Count);
        foreach (BatchPolicy candidate in candidates)
        {
            ArgumentNullException.ThrowIfNull(candidate, nameof(candidates));
            candidate.Validate();
            cancellationToken.ThrowIfCancellationRequested();
            await workload(candidate, cancellationToken).ConfigureAwait(false);
            TimeSpan best = TimeSpan.MaxValue;
            for (int r = 0; r < repetitions; r++)
            {
                long start = Stopwatch.GetTimestamp();
                await workload(candidate, cancellationToken).ConfigureAwait(false);
                TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
                best = elapsed < best ? elapsed : best;
            }

            timings.Add(new BatchPolicyTiming(candidate, best));
        }

        return timings.OrderBy(t => t.Elapsed).ToArray();
    }

    /// <summary>Measures the candidates (see <see cref="MeasureAsync"/>) and returns the fastest.</summary>
    /// <param name="candidates">The policies to try; <see langword="null"/> for <see cref="DefaultCandidates"/>.</param>
    /// <param name="workload">Runs the sample under a policy.</param>
    /// <param name="repetitions">Timed repetitions per candidate.</param>
    /// <param name="cancellationToken">Stops between runs.</param>
    /// <returns>The fastest policy.</returns>
    public static async Task<BatchPolicy> ChooseAsync(
        IReadOnlyList<BatchPolicy>? candidates,
        Func<BatchPolicy, CancellationToken, Task> workload,
        int repetitions = 1,
        CancellationToken cancellationToken = default)
    {
        IReadOnlyList<BatchPolicyTiming> timings = await MeasureAsync(candidates ?? DefaultCandidates, workload, repetitions, cancellationToken).ConfigureAwait(false);
        return timings[0].Policy;
    }

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        BatchPolicyKind.PerRow => "per-row",
        BatchPolicyKind.FixedSize => string.Create(CultureInfo.InvariantCulture, $"fixed-size({MaxRows})"),
        _ => string.Create(CultureInfo.InvariantCulture, $"padding-aware(budget {(TokenBudget is { } b ? b.ToString(CultureInfo.InvariantCulture) : "none")}, max rows {MaxRows}, window {(SortWindow == 0 ? "all" : SortWindow.ToString(CultureInfo.InvariantCulture))})"),
    };
}

/// <summary>The time one candidate policy took on the measured workload.</summary>
/// <param name="Policy">The policy.</param>
/// <param name="Elapsed">The best timed repetition.</param>
public sealed record BatchPolicyTiming(BatchPolicy Policy, TimeSpan Elapsed);
