using System.Globalization;

namespace MLNetTransformers.Data;

/// <summary>
/// A columnar block of rows from a data view: one array per column, each <see cref="RowCount"/> long, of the column type's
/// <see cref="DataViewType.RawType"/> (<c>string?[]</c> for text, <c>float[]</c>, <c>long[][]</c> for variable Int64 vectors,
/// ...), and the rows' 0-based positions in the source (<see cref="RowNumbers"/>), which transforms carry through.
/// </summary>
/// <remarks>The arrays are shared with the views downstream and must be treated as read-only.</remarks>
public sealed class DataBatch
{
    private readonly Array[] _columns;

    /// <summary>Creates a batch.</summary>
    /// <param name="schema">The columns.</param>
    /// <param name="rowNumbers">The rows' 0-based positions in the source; its length is the row count.</param>
    /// <param name="columns">One array per schema column, each as long as <paramref name="rowNumbers"/>, of the column's type.</param>
    /// <exception cref="ArgumentException">An array is missing, of the wrong type or length.</exception>
    public DataBatch(DataViewSchema schema, long[] rowNumbers, IReadOnlyList<Array> columns)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(rowNumbers);
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Count != schema.Count)
        {
            throw new ArgumentException($"{columns.Count} column arrays for a schema of {schema.Count} columns ({schema}).", nameof(columns));
        }

        _columns = new Array[columns.Count];
        for (int i = 0; i < columns.Count; i++)
        {
            Array a = columns[i] ?? throw new ArgumentException($"The array of column '{schema[i].Name}' is null.", nameof(columns));
            Type expected = schema[i].Type.RawType.MakeArrayType();
            if (a.GetType() != expected)
            {
                throw new ArgumentException($"Column '{schema[i].Name}' ({schema[i].Type}) needs a {expected.Name}, not a {a.GetType().Name}.", nameof(columns));
            }

            if (a.Length != rowNumbers.Length)
            {
                throw new ArgumentException($"Column '{schema[i].Name}' has {a.Length} values for {rowNumbers.Length} rows.", nameof(columns));
            }

            _columns[i] = a;
        }

        Schema = schema;
        RowNumbers = rowNumbers;
    }

    /// <summary>The columns.</summary>
    public DataViewSchema Schema { get; }

    /// <summary>The number of rows.</summary>
    public int RowCount => RowNumbers.Length;

    /// <summary>The rows' 0-based positions in the source data (stable across transforms; used for row ids, resume and sharding).</summary>
    public long[] RowNumbers { get; }

    /// <summary>The values of a column.</summary>
    /// <typeparam name="T">The value type: the column type's <see cref="DataViewType.RawType"/> (<c>string</c>, <c>float</c>, <c>long[]</c>, ...).</typeparam>
    /// <param name="name">The column name.</param>
    /// <returns>The values, one per row (read-only by contract).</returns>
    /// <exception cref="KeyNotFoundException">No such column; the message lists the schema.</exception>
    /// <exception cref="InvalidCastException">The column holds another type; the message names the column and both types.</exception>
    public T[] GetColumn<T>(string name) => GetColumn<T>(Schema[name].Index);

    /// <summary>The values of a column.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="index">The column's position in the schema.</param>
    /// <returns>The values, one per row (read-only by contract).</returns>
    /// <exception cref="ArgumentOutOfRangeException">No such column.</exception>
    /// <exception cref="InvalidCastException">The column holds another type.</exception>
    public T[] GetColumn<T>(int index)
    {
        DataViewSchema.Column column = Schema[index];
        return _columns[index] as T[] ?? throw new InvalidCastException(
            $"Column '{column.Name}' has type {column.Type} ({column.Type.RawType.Name} values), not {typeof(T).Name}.");
    }

    /// <summary>The values of a column as an untyped array.</summary>
    /// <param name="index">The column's position in the schema.</param>
    /// <returns>The array.</returns>
    public Array GetColumn(int index) => _columns[Schema[index].Index];

    /// <summary>One value, boxed (for generic code; typed access is <see cref="GetColumn{T}(int)"/>).</summary>
    /// <param name="column">The column's position.</param>
    /// <param name="row">The row within the batch.</param>
    /// <returns>The value.</returns>
    public object? GetValue(int column, int row)
    {
        if ((uint)row >= (uint)RowCount)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row, string.Create(CultureInfo.InvariantCulture, $"The batch has {RowCount} rows."));
        }

        return GetColumn(column).GetValue(row);
    }
}
