namespace MLNetTransformers.Data;

/// <summary>
/// Fills the column arrays of one batch row by row (loaders and the enumerable view). Arrays grow by doubling up to the batch
/// size, so a huge <c>maxRows</c> costs nothing up front; each built batch gets fresh arrays because batches are shared.
/// </summary>
internal sealed class BatchBuilder
{
    private readonly DataViewSchema _schema;
    private readonly int _maxRows;
    private Array[] _columns;
    private long[] _rowNumbers;
    private int _count;

    public BatchBuilder(DataViewSchema schema, int maxRows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        _schema = schema;
        _maxRows = maxRows;
        (_columns, _rowNumbers) = Allocate(Math.Min(maxRows, 64));
    }

    public int Count => _count;

    public bool IsFull => _count == _maxRows;

    /// <summary>Starts a row; every column must then be written at the returned index (or the row cancelled).</summary>
    public int BeginRow(long rowNumber)
    {
        if (_count == _rowNumbers.Length)
        {
            (Array[] columns, long[] rows) = Allocate((int)Math.Min(_maxRows, _rowNumbers.Length * 2L));
            for (int c = 0; c < columns.Length; c++)
            {
                Array.Copy(_columns[c], columns[c], _count);
            }

            Array.Copy(_rowNumbers, rows, _count);
            _columns = columns;
            _rowNumbers = rows;
        }

        _rowNumbers[_count] = rowNumber;
        return _count++;
    }

    /// <summary>Drops the row begun last (a bad row), resetting its values so a vector slot is never left null.</summary>
    public void CancelRow()
    {
        _count--;
        for (int c = 0; c < _columns.Length; c++)
        {
            Array.Copy(ColumnArrays.Create(_schema[c].Type, 1), 0, _columns[c], _count, 1);
        }
    }

    public Array Column(int index) => _columns[index];

    /// <summary>Hands out the rows so far as a batch and starts a new one.</summary>
    public DataBatch Build()
    {
        var columns = new Array[_columns.Length];
        for (int c = 0; c < columns.Length; c++)
        {
            if (_columns[c].Length == _count)
            {
                columns[c] = _columns[c];
            }
            else
            {
                columns[c] = Array.CreateInstance(_columns[c].GetType().GetElementType()!, _count);
                Array.Copy(_columns[c], columns[c], _count);
            }
        }

        long[] rows = _rowNumbers.Length == _count ? _rowNumbers : _rowNumbers[.._count];
        var batch = new DataBatch(_schema, rows, columns);
        (_columns, _rowNumbers) = Allocate(_rowNumbers.Length);
        _count = 0;
        return batch;
    }

    private (Array[] Columns, long[] Rows) Allocate(int capacity)
    {
        var columns = new Array[_schema.Count];
        for (int c = 0; c < columns.Length; c++)
        {
            columns[c] = ColumnArrays.Create(_schema[c].Type, capacity);
        }

        return (columns, new long[capacity]);
    }
}
