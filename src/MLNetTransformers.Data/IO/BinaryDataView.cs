using MLNetTransformers.Data.IO.Idv;

namespace MLNetTransformers.Data.IO;

/// <summary>
/// An ML.NET binary (.idv) file as a data view, over <see cref="IdvReader"/>. Small integer kinds widen (SByte, Int16, Byte,
/// UInt16 → Int32; UInt32 → Int64); keys, UInt64 and time types are not mapped and fail with the column named.
/// </summary>
internal sealed class BinaryDataView : IDataView
{
    private readonly string _path;
    private readonly long _rowCount;

    public BinaryDataView(string path)
    {
        _path = path;
        using IdvReader reader = Open(path);
        _rowCount = reader.RowCount;
        var builder = new DataViewSchema.Builder();
        foreach (IdvColumn c in reader.Columns)
        {
            builder.AddColumn(c.Name, ToDataViewType(path, c));
        }

        Schema = builder.ToSchema();
    }

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _rowCount;

    public IEnumerable<DataBatch> GetBatches(int maxRows, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        return Core();

        IEnumerable<DataBatch> Core()
        {
            using IdvReader reader = Open(_path);
            var builder = new BatchBuilder(Schema, maxRows);
            var kinds = Schema.Select(c => ColumnArrays.KindOf(c.Type)).ToArray();
            long rowNumber = 0;
            foreach (object?[] values in reader.ReadRows(cancellationToken))
            {
                int row = builder.BeginRow(rowNumber++);
                for (int c = 0; c < kinds.Length; c++)
                {
                    Array target = builder.Column(c);
                    if (!kinds[c].IsVector)
                    {
                        Store(values[c], kinds[c].Kind, target, row);
                        continue;
                    }

                    var source = (Array)values[c]!;
                    Array vector = ColumnArrays.CreatePrimitive(kinds[c].Kind, source.Length);
                    for (int i = 0; i < source.Length; i++)
                    {
                        Store(source.GetValue(i), kinds[c].Kind, vector, i);
                    }

                    target.SetValue(vector, row);
                }

                if (builder.IsFull)
                {
                    yield return builder.Build();
                }
            }

            if (builder.Count > 0)
            {
                yield return builder.Build();
            }
        }
    }

    private static IdvReader Open(string path)
    {
        // IdvReader opens the file itself; it is opened here first for an error that names the file.
        DataFiles.OpenRead(path).Dispose();
        return IdvReader.Open(path);
    }

    private static void Store(object? value, ValueKind kind, Array target, int row)
    {
        switch (kind)
        {
            case ValueKind.Text: ((string?[])target)[row] = (string?)value; break;
            case ValueKind.Single: ((float[])target)[row] = (float)value!; break;
            case ValueKind.Double: ((double[])target)[row] = (double)value!; break;
            case ValueKind.Int32: ((int[])target)[row] = Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture); break;
            case ValueKind.Int64: ((long[])target)[row] = Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture); break;
            case ValueKind.Boolean: ((bool[])target)[row] = (bool)value!; break;
        }
    }

    private static DataViewType ToDataViewType(string path, IdvColumn column)
    {
        IdvColumnType t = column.Type;
        PrimitiveDataViewType? item = t.IsKey ? null : t.ItemKind switch
        {
            IdvDataKind.Text => TextDataViewType.Instance,
            IdvDataKind.Single => NumberDataViewType.Single,
            IdvDataKind.Double => NumberDataViewType.Double,
            IdvDataKind.SByte or IdvDataKind.Int16 or IdvDataKind.Byte or IdvDataKind.UInt16 or IdvDataKind.Int32 => NumberDataViewType.Int32,
            IdvDataKind.UInt32 or IdvDataKind.Int64 => NumberDataViewType.Int64,
            IdvDataKind.Boolean => BooleanDataViewType.Instance,
            _ => null,
        };
        if (item is null)
        {
            throw new NotSupportedException($"{path}: column '{column.Name}' has type {t}, which data views do not support (text, numbers, booleans and vectors of them).");
        }

        return t.IsVector ? new VectorDataViewType(item, t.VectorSize) : item;
    }

    /// <summary>The .idv type of a data view column type.</summary>
    public static IdvColumnType ToIdvType(DataViewType type)
    {
        (ValueKind kind, bool isVector) = ColumnArrays.KindOf(type);
        IdvColumnType item = kind switch
        {
            ValueKind.Text => IdvColumnType.Text,
            ValueKind.Single => IdvColumnType.Single,
            ValueKind.Double => IdvColumnType.Double,
            ValueKind.Int32 => IdvColumnType.Int32,
            ValueKind.Int64 => IdvColumnType.Int64,
            ValueKind.Boolean => IdvColumnType.Boolean,
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
        return isVector ? IdvColumnType.Vector(item, ((VectorDataViewType)type).Size) : item;
    }
}
