using System.Globalization;

namespace MLNetTransformers.Data.Transforms;

/// <summary>
/// The base of transforms that add columns computed batch by batch (tokenize here; ONNX scoring, embedding, classification,
/// generation elsewhere). A subclass says which columns it adds (checking the input schema) and fills them for one batch;
/// this class handles schema merging, laziness, row numbers and per-row errors.
/// </summary>
/// <remarks>
/// <para>Output columns are appended after the input columns; an input column with the same name is replaced.</para>
/// <para>Per-row errors: <see cref="BatchMappingOutput.SetError"/> marks one row failed; its outputs stay at their defaults
/// (null text, zeros, empty vectors) and, when <see cref="ErrorColumnName"/> is set, the message goes to that text column
/// (null for good rows), and the rest of the batch is kept. A row that arrives with an error from an earlier transform is
/// passed through with that error and must not be mapped again (<see cref="BatchMappingOutput.HasError"/>). Without an error
/// column a row error throws <see cref="RowMappingException"/>.</para>
/// </remarks>
public abstract class BatchMappingTransformer : ITransformer
{
    /// <summary>The default name of the error column.</summary>
    public const string DefaultErrorColumnName = "error";

    /// <summary>Creates the transformer.</summary>
    /// <param name="errorColumnName">The text column for per-row errors, or <see langword="null"/> to throw on a row error.</param>
    protected BatchMappingTransformer(string? errorColumnName = DefaultErrorColumnName)
    {
        if (errorColumnName is not null)
        {
            ArgumentException.ThrowIfNullOrEmpty(errorColumnName);
        }

        ErrorColumnName = errorColumnName;
    }

    /// <summary>The text column that receives per-row error messages, or <see langword="null"/> when row errors throw.</summary>
    public string? ErrorColumnName { get; }

    /// <summary>The preferred batch size when this transform pulls its input; <see langword="null"/> keeps the caller's.</summary>
    /// <remarks>Lets model transforms batch by their own measure; the output is re-cut to the caller's batch size.</remarks>
    protected virtual int? PreferredBatchSize => null;

    /// <summary>Checks the input schema and returns the columns this transform adds (without the error column).</summary>
    /// <param name="inputSchema">The input schema.</param>
    /// <returns>The added columns, in order.</returns>
    /// <exception cref="KeyNotFoundException">A needed column is missing (use <see cref="RequireColumn"/> for the message).</exception>
    /// <exception cref="ArgumentException">A needed column has the wrong type.</exception>
    protected abstract DataViewSchema GetAddedColumns(DataViewSchema inputSchema);

    /// <summary>Fills the added columns for one batch.</summary>
    /// <param name="input">The input batch.</param>
    /// <param name="output">The added columns, preset to defaults, and the per-row errors.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    protected abstract void MapBatch(DataBatch input, BatchMappingOutput output, CancellationToken cancellationToken);

    /// <summary>Gets an input column and checks its type, with messages that name the transform, the column and the schema.</summary>
    /// <param name="schema">The input schema.</param>
    /// <param name="name">The column name.</param>
    /// <param name="accepts">Whether a type is acceptable.</param>
    /// <param name="expected">The acceptable types in words, for the message.</param>
    /// <returns>The column.</returns>
    /// <exception cref="KeyNotFoundException">The column is missing; the message lists the schema.</exception>
    /// <exception cref="ArgumentException">The column's type is not accepted.</exception>
    protected DataViewSchema.Column RequireColumn(DataViewSchema schema, string name, Func<DataViewType, bool> accepts, string expected)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(accepts);
        DataViewSchema.Column column = schema.GetColumnOrNull(name)
            ?? throw new KeyNotFoundException($"{GetType().Name} needs an input column '{name}'; the schema is ({schema}).");
        if (!accepts(column.Type))
        {
            throw new ArgumentException($"{GetType().Name} needs column '{name}' to be {expected}, but it is {column.Type}.", nameof(schema));
        }

        return column;
    }

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => Plan(inputSchema).Output;

    /// <inheritdoc />
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new MappedDataView(this, input, Plan(input.Schema));
    }

    private SchemaPlan Plan(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        DataViewSchema added = GetAddedColumns(inputSchema);
        if (ErrorColumnName is not null && added.GetColumnOrNull(ErrorColumnName) is not null)
        {
            throw new InvalidOperationException($"{GetType().Name} adds a column named like its error column '{ErrorColumnName}'.");
        }

        int inputError = -1;
        if (ErrorColumnName is not null && inputSchema.GetColumnOrNull(ErrorColumnName) is { } e)
        {
            if (e.Type is not TextDataViewType)
            {
                throw new ArgumentException($"{GetType().Name}: the input column '{ErrorColumnName}' is {e.Type}; the error column must be Text.", nameof(inputSchema));
            }

            inputError = e.Index;
        }

        return new SchemaPlan(MergeSchema(inputSchema, added, ErrorColumnName), added, KeptColumns(inputSchema, added, ErrorColumnName).Select(c => c.Index).ToArray(), inputError);
    }

    /// <summary>
    /// The schema a mapping transform produces: the input's columns that it neither replaces nor uses as its error column, then the
    /// added columns, then the error column (Text) when there is one. Estimators use it to state their output schema without
    /// loading a model.
    /// </summary>
    internal static DataViewSchema MergeSchema(DataViewSchema inputSchema, DataViewSchema added, string? errorColumnName)
    {
        var builder = new DataViewSchema.Builder().AddColumns(KeptColumns(inputSchema, added, errorColumnName)).AddColumns(added);
        if (errorColumnName is not null)
        {
            builder.AddColumn(errorColumnName, TextDataViewType.Instance);
        }

        return builder.ToSchema();
    }

    private static DataViewSchema.Column[] KeptColumns(DataViewSchema inputSchema, DataViewSchema added, string? errorColumnName) =>
        inputSchema.Where(c => added.GetColumnOrNull(c.Name) is null && c.Name != errorColumnName).ToArray();

    private sealed record SchemaPlan(DataViewSchema Output, DataViewSchema Added, int[] KeptInputColumns, int InputErrorColumn);

    private sealed class MappedDataView(BatchMappingTransformer owner, IDataView input, SchemaPlan plan) : IDataView
    {
        public DataViewSchema Schema => plan.Output;

        public long? GetRowCount() => input.GetRowCount();

        public IEnumerable<DataBatch> GetBatches(int maxRows, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
            return Core();

            IEnumerable<DataBatch> Core()
            {
                // Pulls at the caller's batch size unless the transform prefers its own; never yields more than maxRows.
                int pull = owner.PreferredBatchSize is int preferred and > 0 ? preferred : maxRows;
                foreach (DataBatch batch in input.GetBatches(pull, cancellationToken))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    DataBatch mapped = Map(batch, cancellationToken);
                    if (mapped.RowCount <= maxRows)
                    {
                        yield return mapped;
                        continue;
                    }

                    for (int start = 0; start < mapped.RowCount; start += maxRows)
                    {
                        yield return Slice(mapped, start, Math.Min(maxRows, mapped.RowCount - start));
                    }
                }
            }
        }

        private DataBatch Map(DataBatch batch, CancellationToken cancellationToken)
        {
            string?[] errors = plan.InputErrorColumn >= 0
                ? (string?[])batch.GetColumn<string?>(plan.InputErrorColumn).Clone()
                : new string?[batch.RowCount];
            var output = new BatchMappingOutput(plan.Added, batch.RowCount, errors);
            owner.MapBatch(batch, output, cancellationToken);
            if (owner.ErrorColumnName is null)
            {
                for (int i = 0; i < errors.Length; i++)
                {
                    if (errors[i] is string message)
                    {
                        throw new RowMappingException(batch.RowNumbers[i], message);
                    }
                }
            }

            var columns = new List<Array>(plan.Output.Count);
            foreach (int index in plan.KeptInputColumns)
            {
                columns.Add(batch.GetColumn(index));
            }

            columns.AddRange(output.Columns);
            if (owner.ErrorColumnName is not null)
            {
                columns.Add(errors);
            }

            return new DataBatch(plan.Output, batch.RowNumbers, columns);
        }

        private static DataBatch Slice(DataBatch batch, int start, int count)
        {
            var columns = new Array[batch.Schema.Count];
            for (int c = 0; c < columns.Length; c++)
            {
                Array source = batch.GetColumn(c);
                columns[c] = Array.CreateInstance(source.GetType().GetElementType()!, count);
                Array.Copy(source, start, columns[c], 0, count);
            }

            return new DataBatch(batch.Schema, batch.RowNumbers[start..(start + count)], columns);
        }
    }
}

/// <summary>The columns a <see cref="BatchMappingTransformer"/> fills for one batch, and the batch's per-row errors.</summary>
public sealed class BatchMappingOutput
{
    private readonly DataViewSchema _added;
    private readonly Array[] _columns;
    private readonly string?[] _errors;

    internal BatchMappingOutput(DataViewSchema added, int rowCount, string?[] errors)
    {
        _added = added;
        _errors = errors;
        RowCount = rowCount;
        _columns = added.Select(c => ColumnArrays.Create(c.Type, rowCount)).ToArray();
    }

    internal IReadOnlyList<Array> Columns => _columns;

    /// <summary>The number of rows.</summary>
    public int RowCount { get; }

    /// <summary>An added column's array, preset to defaults (null text, zeros, empty vectors), to fill in place.</summary>
    /// <typeparam name="T">The column's value type.</typeparam>
    /// <param name="name">The added column's name.</param>
    /// <returns>The array, <see cref="RowCount"/> long.</returns>
    /// <exception cref="KeyNotFoundException">Not an added column.</exception>
    /// <exception cref="InvalidCastException">The column holds another type.</exception>
    public T[] GetColumn<T>(string name)
    {
        DataViewSchema.Column column = _added[name];
        return _columns[column.Index] as T[]
            ?? throw new InvalidCastException($"Added column '{name}' has type {column.Type} ({column.Type.RawType.Name} values), not {typeof(T).Name}.");
    }

    /// <summary>Marks a row failed; its outputs should be left at their defaults. The first error of a row is kept.</summary>
    /// <param name="row">The row within the batch.</param>
    /// <param name="message">What went wrong.</param>
    public void SetError(int row, string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if ((uint)row >= (uint)RowCount)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row, string.Create(CultureInfo.InvariantCulture, $"The batch has {RowCount} rows."));
        }

        _errors[row] ??= message;
    }

    /// <summary>Whether a row failed, here or in an earlier transform (such rows are not to be mapped).</summary>
    /// <param name="row">The row within the batch.</param>
    /// <returns>True when the row has an error.</returns>
    public bool HasError(int row) => _errors[row] is not null;

    /// <summary>A row's error message, or <see langword="null"/>.</summary>
    /// <param name="row">The row within the batch.</param>
    /// <returns>The message.</returns>
    public string? GetError(int row) => _errors[row];
}

/// <summary>A transform failed on one row and has no error column to put the failure in.</summary>
public sealed class RowMappingException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="rowNumber">The row's 0-based position in the source.</param>
    /// <param name="problem">What went wrong.</param>
    public RowMappingException(long rowNumber, string problem)
        : base(string.Create(CultureInfo.InvariantCulture, $"Row {rowNumber}: {problem}"))
    {
        RowNumber = rowNumber;
        Problem = problem;
    }

    /// <summary>The row's 0-based position in the source.</summary>
    public long RowNumber { get; }

    /// <summary>What went wrong.</summary>
    public string Problem { get; }
}
