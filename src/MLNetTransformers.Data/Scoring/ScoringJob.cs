using System.Globalization;
using MLNetTransformers.Data.IO;

namespace MLNetTransformers.Data.Scoring;

/// <summary>What a scoring job reads, writes and keeps.</summary>
public sealed record ScoringJobOptions
{
    /// <summary>The input file (.csv .tsv .jsonl .idv, by extension).</summary>
    public required string InputPath { get; init; }

    /// <summary>The output file (.csv .tsv .jsonl .idv, by extension).</summary>
    public required string OutputPath { get; init; }

    /// <summary>The input's text column. Default <c>text</c>.</summary>
    public string TextColumnName { get; init; } = "text";

    /// <summary>The input column copied to the output to identify rows; when <see langword="null"/>, the output has a <c>row</c>
    /// column (Int64) with the 0-based input row number.</summary>
    public string? IdColumnName { get; init; }

    /// <summary>The columns the task adds that go to the output, in order, with their types (the types are used only when the
    /// input has no columns at all, so no pipeline can be built).</summary>
    public required IReadOnlyList<(string Name, DataViewType Type)> OutputColumns { get; init; }

    /// <summary>Which part of the input to score. Default all of it.</summary>
    public Shard Shard { get; init; } = Shard.All;

    /// <summary>Continue an interrupted job: keep the complete rows of the output and score only the rows after them.</summary>
    public bool Resume { get; init; }

    /// <summary>Rows pulled, written and flushed together (the most a crash can lose). Default 32.</summary>
    public int WriteBatchSize { get; init; } = 32;

    /// <summary>Called once for each unreadable input row of this shard (ragged CSV line, bad JSON, a value of the wrong type).</summary>
    public Action<BadRow>? OnBadRow { get; init; }

    /// <summary>Receives progress after each written batch.</summary>
    public IProgress<ScoringProgress>? Progress { get; init; }
}

/// <summary>Progress of a scoring job.</summary>
/// <param name="Done">Rows of this shard in the output (including rows kept from before a resume).</param>
/// <param name="Total">Rows of this shard.</param>
/// <param name="Resumed">Rows that were already in the output when the job started.</param>
/// <param name="Errors">Rows written with an error by this run.</param>
public readonly record struct ScoringProgress(long Done, long Total, long Resumed, long Errors);

/// <summary>What a scoring job did.</summary>
/// <param name="InputRows">Rows in the input (unreadable rows included).</param>
/// <param name="ShardStart">The shard's first row number.</param>
/// <param name="ShardEnd">The row number after the shard's last.</param>
/// <param name="Resumed">Rows already in the output when the job started.</param>
/// <param name="Written">Rows this run wrote.</param>
/// <param name="Errors">Rows this run wrote with an error.</param>
public sealed record ScoringResult(long InputRows, long ShardStart, long ShardEnd, long Resumed, long Written, long Errors);

/// <summary>The column of the input that a job needs is missing or of the wrong type.</summary>
/// <param name="columnRole">Which option names the column (<c>TextColumnName</c> or <c>IdColumnName</c>).</param>
/// <param name="message">The problem, listing the schema.</param>
public sealed class ScoringColumnException(string columnRole, string message) : ArgumentException(message, columnRole);

/// <summary>
/// Scores a data file into an output file, row-aligned, restartable and shardable: the input is loaded by extension, the
/// shard's contiguous range of row numbers is taken, rows already in the output (with <see cref="ScoringJobOptions.Resume"/>)
/// are skipped, the pipeline built by the caller is fitted on the rest and applied, and each batch of output rows (the id or
/// row number, the task's columns and <c>error</c>) is appended and flushed to disk through <see cref="ScoreOutputWriter"/>.
/// </summary>
/// <remarks>
/// <para>Every input row of the shard gives exactly one output row, in input order. A row the loader cannot read (ragged CSV
/// line, bad JSON) is reported to <see cref="ScoringJobOptions.OnBadRow"/> and written as a row whose <c>error</c> names the
/// file and line, whose task columns are empty and whose id is missing (null text, 0 or NaN for a numeric id).</para>
/// <para>The row count of an input that does not know it (CSV, JSON Lines) is counted by a streaming pass first.</para>
/// </remarks>
public static class ScoringJob
{
    /// <summary>Runs a scoring job.</summary>
    /// <param name="context">The context (loaders).</param>
    /// <param name="options">Files, columns, shard, resume, reporting.</param>
    /// <param name="createPipeline">Builds the task's estimator (input columns plus the task's columns and an <c>error</c>
    /// column); it is fitted on the rows left to score, and not at all when none are left or the input has no columns.</param>
    /// <param name="cancellationToken">Cancellation; rows written before it stay in the output.</param>
    /// <returns>What was done.</returns>
    /// <exception cref="FileNotFoundException">The input does not exist.</exception>
    /// <exception cref="ScoringColumnException">The text or id column is missing or the text column is not Text.</exception>
    /// <exception cref="InvalidDataException">The output to resume has more rows than the shard, or other columns.</exception>
    public static ScoringResult Run(TransformersContext context, ScoringJobOptions options, Func<IEstimator<ITransformer>> createPipeline, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(createPipeline);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.WriteBatchSize, 1);
        if (!ScoreOutputWriter.IsSupported(options.OutputPath))
        {
            throw new ArgumentException($"Cannot tell the format of '{options.OutputPath}' from its extension; use .csv, .tsv, .jsonl or .idv.", nameof(options));
        }

        var badRows = new BadRowSink();
        IDataView input = context.Data.Load(options.InputPath, new LoadOptions { OnBadRow = badRows.Add });
        bool emptyInput = input.Schema.Count == 0;
        DataViewSchema.Column? id = null;
        if (!emptyInput)
        {
            DataViewSchema.Column text = input.Schema.GetColumnOrNull(options.TextColumnName)
                ?? throw new ScoringColumnException(nameof(options.TextColumnName), $"no column '{options.TextColumnName}' in '{options.InputPath}'; its columns are ({input.Schema}).");
            if (text.Type is not TextDataViewType)
            {
                throw new ScoringColumnException(nameof(options.TextColumnName), $"column '{options.TextColumnName}' of '{options.InputPath}' is {text.Type}, not Text; its columns are ({input.Schema}).");
            }

            if (options.IdColumnName is string idName)
            {
                id = input.Schema.GetColumnOrNull(idName)
                    ?? throw new ScoringColumnException(nameof(options.IdColumnName), $"no column '{idName}' in '{options.InputPath}'; its columns are ({input.Schema}).");
                if (id.Value.Type is VectorDataViewType)
                {
                    throw new ScoringColumnException(nameof(options.IdColumnName), $"column '{idName}' of '{options.InputPath}' is a vector ({id.Value.Type}); an id must be a single value.");
                }

                if (idName == BatchMappingErrorColumn || options.OutputColumns.Any(c => c.Name == idName))
                {
                    throw new ScoringColumnException(nameof(options.IdColumnName), $"the id column '{idName}' has the name of an output column.");
                }
            }
        }

        // The input's row count, unreadable rows included (they keep their row numbers).
        long rowCount = input.GetRowCount() ?? (emptyInput ? 0 : CountRows(input, badRows, cancellationToken));
        (long shardStart, long shardEnd) = options.Shard.GetRange(rowCount);

        string idColumnName = id?.Name ?? "row";
        DataViewType idType = id?.Type ?? NumberDataViewType.Int64;
        ITransformer? transformer = null;
        IEstimator<ITransformer>? estimator = emptyInput ? null : createPipeline();
        DataViewSchema outputSchema;
        if (estimator is null)
        {
            outputSchema = BuildOutputSchema(idColumnName, idType, options.OutputColumns);
        }
        else
        {
            DataViewSchema transformed = estimator.GetOutputSchema(input.Schema);
            outputSchema = BuildOutputSchema(idColumnName, idType, options.OutputColumns.Select(c => (c.Name, transformed.GetColumnOrNull(c.Name)?.Type
                ?? throw new InvalidOperationException($"The pipeline does not produce the column '{c.Name}'; it produces ({transformed})."))).ToArray());
        }

        // Fitted on the shard (its first rows are the measurement sample) before the output is touched, so a model that cannot
        // be opened leaves the output as it was.
        if (estimator is not null && shardStart < shardEnd)
        {
            transformer = estimator.Fit(context.Data.FilterByRowNumber(input, r => r >= shardStart && r < shardEnd));
        }

        try
        {
            return Score(context, options, input, id, outputSchema, transformer, shardStart, shardEnd, rowCount, badRows, cancellationToken);
        }
        finally
        {
            (transformer as IDisposable)?.Dispose();
        }
    }

    private static ScoringResult Score(
        TransformersContext context, ScoringJobOptions options, IDataView input, DataViewSchema.Column? id, DataViewSchema outputSchema, ITransformer? transformer,
        long shardStart, long shardEnd, long rowCount, BadRowSink badRows, CancellationToken cancellationToken)
    {
        using ScoreOutputWriter writer = ScoreOutputWriter.Open(options.OutputPath, outputSchema, options.Resume);
        long total = shardEnd - shardStart;
        long resumed = writer.ExistingRows;
        if (resumed > total)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"Cannot resume '{options.OutputPath}': it has {resumed} rows but shard {options.Shard} of '{options.InputPath}' has {total}; is it the output of another input or shard?"));
        }

        long next = shardStart + resumed;
        badRows.StartScoring(next, shardEnd, options.OnBadRow);
        long written = 0, errors = 0;
        options.Progress?.Report(new ScoringProgress(resumed, total, resumed, 0));
        if (transformer is not null && next < shardEnd)
        {
            IDataView rows = context.Data.FilterByRowNumber(input, r => r >= next && r < shardEnd);
            IDataView scored = transformer.Transform(rows);
            int idIndex = id is { } i ? scored.Schema[i.Name].Index : -1;
            int[] outputIndexes = options.OutputColumns.Select(c => scored.Schema[c.Name].Index).ToArray();
            int errorIndex = scored.Schema.GetColumnOrNull(BatchMappingErrorColumn)?.Index ?? -1;
            foreach (DataBatch batch in scored.GetBatches(options.WriteBatchSize, cancellationToken))
            {
                var builder = new BatchBuilder(outputSchema, int.MaxValue);
                for (int r = 0; r < batch.RowCount; r++)
                {
                    long rowNumber = batch.RowNumbers[r];
                    errors += badRows.EmitBefore(rowNumber, builder, id is null, outputSchema.Count - 1);
                    int row = builder.BeginRow(rowNumber);
                    int c = 0;
                    if (idIndex >= 0)
                    {
                        Array.Copy(batch.GetColumn(idIndex), r, builder.Column(c), row, 1);
                    }
                    else
                    {
                        ((long[])builder.Column(c))[row] = rowNumber;
                    }

                    foreach (int index in outputIndexes)
                    {
                        Array.Copy(batch.GetColumn(index), r, builder.Column(++c), row, 1);
                    }

                    string? error = errorIndex >= 0 ? batch.GetColumn<string?>(errorIndex)[r] : null;
                    ((string?[])builder.Column(++c))[row] = error;
                    if (error is not null)
                    {
                        errors++;
                    }
                }

                written += Flush(writer, builder, cancellationToken);
                options.Progress?.Report(new ScoringProgress(resumed + written, total, resumed, errors));
            }
        }

        // Unreadable rows after the last good one.
        var tail = new BatchBuilder(outputSchema, int.MaxValue);
        errors += badRows.EmitBefore(shardEnd, tail, id is null, outputSchema.Count - 1);
        long tailRows = Flush(writer, tail, cancellationToken);
        written += tailRows;
        if (tailRows > 0)
        {
            options.Progress?.Report(new ScoringProgress(resumed + written, total, resumed, errors));
        }

        writer.Complete(cancellationToken);
        return new ScoringResult(rowCount, shardStart, shardEnd, resumed, written, errors);
    }

    private const string BatchMappingErrorColumn = Transforms.BatchMappingTransformer.DefaultErrorColumnName;

    private static long Flush(ScoreOutputWriter writer, BatchBuilder builder, CancellationToken cancellationToken)
    {
        if (builder.Count == 0)
        {
            return 0;
        }

        DataBatch batch = builder.Build();
        writer.Append(batch, cancellationToken);
        return batch.RowCount;
    }

    private static DataViewSchema BuildOutputSchema(string idName, DataViewType idType, IEnumerable<(string Name, DataViewType Type)> outputs)
    {
        var builder = new DataViewSchema.Builder().AddColumn(idName, idType);
        foreach (var (name, type) in outputs)
        {
            builder.AddColumn(name, type);
        }

        return builder.AddColumn(BatchMappingErrorColumn, TextDataViewType.Instance).ToSchema();
    }

    private static long CountRows(IDataView input, BadRowSink badRows, CancellationToken cancellationToken)
    {
        long last = -1;
        foreach (DataBatch batch in input.GetBatches(DataViewExtensions.DefaultBatchSize, cancellationToken))
        {
            last = Math.Max(last, batch.RowNumbers[^1]);
        }

        return Math.Max(last, badRows.MaxRowNumber) + 1;
    }

    /// <summary>Collects the loader's bad rows (each enumeration of the input reports them again) and writes them in order.</summary>
    private sealed class BadRowSink
    {
        private readonly SortedDictionary<long, BadRow> _pending = [];
        private long _next = long.MaxValue;
        private long _end;
        private Action<BadRow>? _report;

        public long MaxRowNumber { get; private set; } = -1;

        public int PendingCount => _pending.Count;

        public void StartScoring(long next, long end, Action<BadRow>? report)
        {
            _next = next;
            _end = end;
            _report = report;
        }

        public void Add(BadRow row)
        {
            MaxRowNumber = Math.Max(MaxRowNumber, row.RowNumber);
            if (row.RowNumber >= _next && row.RowNumber < _end && _pending.TryAdd(row.RowNumber, row))
            {
                _report?.Invoke(row);
            }
        }

        /// <summary>Writes the pending bad rows numbered below <paramref name="rowNumber"/> as error rows.</summary>
        public long EmitBefore(long rowNumber, BatchBuilder builder, bool rowId, int errorColumn)
        {
            long emitted = 0;
            while (_pending.Count > 0)
            {
                KeyValuePair<long, BadRow> first = _pending.First();
                if (first.Key >= rowNumber)
                {
                    break;
                }

                _pending.Remove(first.Key);
                int row = builder.BeginRow(first.Key);
                if (rowId)
                {
                    ((long[])builder.Column(0))[row] = first.Key;
                }
                else if (builder.Column(0) is float[] singles)
                {
                    singles[row] = float.NaN;
                }
                else if (builder.Column(0) is double[] doubles)
                {
                    doubles[row] = double.NaN;
                }

                ((string?[])builder.Column(errorColumn))[row] = string.Create(CultureInfo.InvariantCulture,
                    $"unreadable input row ({first.Value.FilePath}, line {first.Value.Line}): {first.Value.Message}");
                emitted++;
            }

            // Rows before the scoring position stay behind us; never written again.
            _next = Math.Max(_next, rowNumber);
            return emitted;
        }
    }
}
