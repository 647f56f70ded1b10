using System.Globalization;

namespace MLNetTransformers.Data.IO;

/// <summary>
/// A CSV/TSV file as a data view. The header (if any) is read when the view is created, so the schema is known up front;
/// every enumeration opens the file again and streams it.
/// </summary>
internal sealed class TextFileDataView : IDataView
{
    private readonly string _path;
    private readonly char _separator;
    private readonly bool _hasHeader;
    private readonly int _expectedFields; // -1: taken from the first data record
    private readonly int[] _sourceIndex;
    private readonly Action<BadRow>? _onBadRow;

    public TextFileDataView(string path, LoadOptions options)
    {
        _path = path;
        _separator = DataFiles.SeparatorFor(path, options.Separator);
        _hasHeader = options.HasHeader;
        _onBadRow = options.OnBadRow;
        List<string?>? header = null;
        using (var reader = new TextRecordReader(path))
        {
            if (_hasHeader)
            {
                header = [];
                if (!reader.ReadRecord(_separator, header, out _))
                {
                    header = null; // an empty file: no rows, the schema from the options (or none)
                }
            }
            else if (options.Columns is null)
            {
                // Without a header or a column spec, the first record says how many (text) columns there are.
                var first = new List<string?>();
                header = reader.ReadRecord(_separator, first, out _)
                    ? first.Select((_, i) => (string?)("column" + i.ToString(CultureInfo.InvariantCulture))).ToList()
                    : null;
            }
        }

        if (header is not null)
        {
            for (int i = 0; i < header.Count; i++)
            {
                if (string.IsNullOrEmpty(header[i]))
                {
                    header[i] = "column" + i.ToString(CultureInfo.InvariantCulture);
                }
            }
        }

        _expectedFields = _hasHeader && header is not null ? header.Count : -1;
        var builder = new DataViewSchema.Builder();
        if (options.Columns is { } columns)
        {
            _sourceIndex = new int[columns.Count];
            for (int i = 0; i < columns.Count; i++)
            {
                LoaderColumn c = columns[i];
                if (c.Type is VectorDataViewType { ItemType: TextDataViewType })
                {
                    throw new NotSupportedException($"Column '{c.Name}': text vectors cannot be read from CSV/TSV (use JSON Lines or .idv).");
                }

                if (c.SourceIndex is int index)
                {
                    ArgumentOutOfRangeException.ThrowIfNegative(index, $"{nameof(LoaderColumn)}.{nameof(LoaderColumn.SourceIndex)}");
                    _sourceIndex[i] = index;
                }
                else if (_hasHeader && header is not null)
                {
                    _sourceIndex[i] = header.IndexOf(c.Name);
                    if (_sourceIndex[i] < 0)
                    {
                        throw new KeyNotFoundException($"{path}: the header has no column '{c.Name}'; it has ({string.Join(", ", header)}).");
                    }
                }
                else
                {
                    _sourceIndex[i] = i;
                }

                builder.AddColumn(c.Name, c.Type);
            }
        }
        else
        {
            _sourceIndex = Enumerable.Range(0, header?.Count ?? 0).ToArray();
            foreach (string? name in header ?? [])
            {
                builder.AddColumn(name!, TextDataViewType.Instance);
            }
        }

        try
        {
            Schema = builder.ToSchema();
        }
        catch (ArgumentException e)
        {
            throw new DataFormatException(path, 1, null, e.Message, e);
        }
    }

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => null;

    public IEnumerable<DataBatch> GetBatches(int maxRows, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        return Core();

        IEnumerable<DataBatch> Core()
        {
            using var reader = new TextRecordReader(_path, lenient: _onBadRow is not null);
            var fields = new List<string?>();
            if (_hasHeader && !reader.ReadRecord(_separator, fields, out _))
            {
                yield break;
            }

            var builder = new BatchBuilder(Schema, maxRows);
            var kinds = Schema.Select(c => ColumnArrays.KindOf(c.Type)).ToArray();
            int expected = _expectedFields;
            long rowNumber = 0;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!reader.ReadRecord(_separator, fields, out long line))
                {
                    break;
                }

                if (expected < 0)
                {
                    expected = fields.Count;
                }

                long thisRow = rowNumber++;
                int row = builder.BeginRow(thisRow);
                string? error = null;
                string? column = null;
                if (reader.LastRecordHadInvalidUtf8)
                {
                    error = "The text is not valid UTF-8.";
                }
                else if (fields.Count != expected)
                {
                    error = string.Create(CultureInfo.InvariantCulture, $"The row has {fields.Count} fields; {expected} were expected.");
                }
                else
                {
                    for (int c = 0; c < kinds.Length && error is null; c++)
                    {
                        int source = _sourceIndex[c];
                        if (source >= fields.Count)
                        {
                            error = string.Create(CultureInfo.InvariantCulture, $"The row has {fields.Count} fields; column '{Schema[c].Name}' is field {source}.");
                            break;
                        }

                        error = ValueText.TryParse(fields[source], kinds[c].Kind, kinds[c].IsVector, builder.Column(c), row);
                        column = Schema[c].Name;
                    }
                }

                if (error is not null)
                {
                    builder.CancelRow();
                    if (_onBadRow is null)
                    {
                        throw new DataFormatException(_path, line, column, error);
                    }

                    string message = column is null ? error : $"column '{column}': {error}";
                    _onBadRow(new BadRow(_path, line, thisRow, message));
                    continue;
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
}
