using System.Globalization;

namespace MLNetTransformers.Data.Scoring;

/// <summary>
/// One of <see cref="Count"/> shards of a data set: the contiguous row-number range
/// <c>[Index·N/Count, (Index+1)·N/Count)</c> of an <c>N</c>-row input, so the shards' outputs concatenated in shard order are
/// the whole result in input order.
/// </summary>
/// <param name="Index">The 0-based shard index, below <paramref name="Count"/>.</param>
/// <param name="Count">The number of shards, at least 1.</param>
public readonly record struct Shard(int Index, int Count)
{
    /// <summary>The whole data set as one shard.</summary>
    public static Shard All { get; } = new(0, 1);

    /// <summary>The row-number range of this shard in an input of <paramref name="rowCount"/> rows.</summary>
    /// <param name="rowCount">The input's row count (rows skipped as bad included).</param>
    /// <returns>The first row number and the row number after the last.</returns>
    public (long Start, long End) GetRange(long rowCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rowCount);
        Validate(Index, Count);
        return (Boundary(rowCount, Index), Boundary(rowCount, Index + 1));
    }

    private long Boundary(long rowCount, int index) => (long)((Int128)rowCount * index / Count);

    /// <summary>Parses <c>i/n</c> (0 ≤ i &lt; n).</summary>
    /// <param name="text">The text.</param>
    /// <returns>The shard.</returns>
    /// <exception cref="FormatException">Not of the form <c>i/n</c> with 0 ≤ i &lt; n.</exception>
    public static Shard Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split('/');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count))
        {
            throw new FormatException($"expected 'i/n' (shard i of n, 0 <= i < n) or 'auto', got '{text}'.");
        }

        Validate(index, count);
        return new Shard(index, count);
    }

    /// <summary>
    /// The shard of this process from its scheduler's environment: a Kubernetes indexed Job (<c>JOB_COMPLETION_INDEX</c>, with
    /// the count from <paramref name="count"/> or <c>MLNT_SHARD_COUNT</c>) or a Slurm job array (<c>SLURM_ARRAY_TASK_ID</c> minus
    /// <c>SLURM_ARRAY_TASK_MIN</c> when set, of <c>SLURM_ARRAY_TASK_COUNT</c>, or of <paramref name="count"/> when given).
    /// </summary>
    /// <param name="count">The shard count given explicitly (<c>--shard-count</c>), or <see langword="null"/>.</param>
    /// <param name="getEnvironmentVariable">Reads an environment variable (default <see cref="Environment.GetEnvironmentVariable(string)"/>).</param>
    /// <returns>The shard.</returns>
    /// <exception cref="FormatException">Neither scheduler's variables are set, or their values are not valid; the message names them.</exception>
    public static Shard FromEnvironment(int? count = null, Func<string, string?>? getEnvironmentVariable = null)
    {
        getEnvironmentVariable ??= Environment.GetEnvironmentVariable;
        if (count is int c && c < 1)
        {
            throw new FormatException($"the shard count must be a positive integer, got {c}.");
        }

        if (getEnvironmentVariable("JOB_COMPLETION_INDEX") is { } jobIndex)
        {
            int index = ParseVariable("JOB_COMPLETION_INDEX", jobIndex);
            int total = count ?? (getEnvironmentVariable("MLNT_SHARD_COUNT") is { } env
                ? ParseVariable("MLNT_SHARD_COUNT", env)
                : throw new FormatException("JOB_COMPLETION_INDEX is set but the shard count is not: give --shard-count N or set MLNT_SHARD_COUNT (the Job's completions)."));
            return Checked(index, total, "JOB_COMPLETION_INDEX");
        }

        if (getEnvironmentVariable("SLURM_ARRAY_TASK_ID") is { } taskId)
        {
            int index = ParseVariable("SLURM_ARRAY_TASK_ID", taskId);
            if (getEnvironmentVariable("SLURM_ARRAY_TASK_MIN") is { } min)
            {
                index -= ParseVariable("SLURM_ARRAY_TASK_MIN", min);
            }

            int total = count ?? (getEnvironmentVariable("SLURM_ARRAY_TASK_COUNT") is { } n
                ? ParseVariable("SLURM_ARRAY_TASK_COUNT", n)
                : throw new FormatException("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not: give --shard-count N."));
            return Checked(index, total, "SLURM_ARRAY_TASK_ID");
        }

        throw new FormatException(
            "'auto' needs a scheduler's shard index: JOB_COMPLETION_INDEX (Kubernetes indexed Job, with --shard-count or MLNT_SHARD_COUNT) or SLURM_ARRAY_TASK_ID (Slurm job array); neither is set.");
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");

    private static Shard Checked(int index, int count, string source)
    {
        if (count < 1 || index < 0 || index >= count)
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"shard index {index} (from {source}) is not in [0, {count})."));
        }

        return new Shard(index, count);
    }

    private static int ParseVariable(string name, string value) =>
        int.TryParse(value.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int parsed) && parsed >= 0
            ? parsed
            : throw new FormatException($"{name}='{value}' is not a non-negative integer.");

    private static void Validate(int index, int count)
    {
        if (count < 1 || index < 0 || index >= count)
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"shard {index}/{count}: the count must be positive and the index in [0, count)."));
        }
    }
}
