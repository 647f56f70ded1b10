namespace MLNetTransformers.Data;

/// <summary>One row of a <see cref="DataBatch"/>: the row-cursor view of the data for code written row by row.</summary>
/// <param name="Batch">The batch holding the row.</param>
/// <param name="Index">The row's position within the batch.</param>
public readonly record struct DataRow(DataBatch Batch, int Index)
{
    /// <summary>The row's 0-based position in the source.</summary>
    public long RowNumber => Batch.RowNumbers[Index];

    /// <summary>The columns.</summary>
    public DataViewSchema Schema => Batch.Schema;

    /// <summary>A value of the row.</summary>
    /// <typeparam name="T">The column's value type.</typeparam>
    /// <param name="columnName">The column name.</param>
    /// <returns>The value.</returns>
    /// <exception cref="KeyNotFoundException">No such column; the message lists the schema.</exception>
    /// <exception cref="InvalidCastException">The column holds another type.</exception>
    public T GetValue<T>(string columnName) => Batch.GetColumn<T>(columnName)[Index];

    /// <summary>A value of the row.</summary>
    /// <typeparam name="T">The column's value type.</typeparam>
    /// <param name="columnIndex">The column's position.</param>
    /// <returns>The value.</returns>
    public T GetValue<T>(int columnIndex) => Batch.GetColumn<T>(columnIndex)[Index];
}
