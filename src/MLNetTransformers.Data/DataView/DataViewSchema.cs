using System.Collections;

namespace MLNetTransformers.Data;

/// <summary>
/// The ordered, named, typed columns of a data view (ML.NET's <c>DataViewSchema</c>). Names are unique (ordinal); a transform
/// that outputs a column with an existing name replaces it (ML.NET would hide it).
/// </summary>
public sealed class DataViewSchema : IReadOnlyList<DataViewSchema.Column>
{
    private readonly Column[] _columns;
    private readonly Dictionary<string, int> _byName;

    private DataViewSchema(Column[] columns)
    {
        _columns = columns;
        _byName = new Dictionary<string, int>(columns.Length, StringComparer.Ordinal);
        foreach (Column c in columns)
        {
            if (!_byName.TryAdd(c.Name, c.Index))
            {
                throw new ArgumentException($"The column name '{c.Name}' appears twice in the schema.", nameof(columns));
            }
        }
    }

    /// <summary>A schema with no columns.</summary>
    public static DataViewSchema Empty { get; } = new([]);

    /// <summary>A column of a schema.</summary>
    /// <param name="Name">The column name.</param>
    /// <param name="Index">The 0-based position in the schema.</param>
    /// <param name="Type">The column type.</param>
    public readonly record struct Column(string Name, int Index, DataViewType Type)
    {
        /// <inheritdoc />
        public override string ToString() => $"{Name}: {Type}";
    }

    /// <summary>The number of columns.</summary>
    public int Count => _columns.Length;

    /// <summary>The column at a position.</summary>
    /// <param name="index">The 0-based position.</param>
    /// <exception cref="ArgumentOutOfRangeException">The position is outside the schema; the message lists the schema.</exception>
    public Column this[int index] =>
        (uint)index < (uint)_columns.Length
            ? _columns[index]
            : throw new ArgumentOutOfRangeException(nameof(index), index, $"There is no column {index}; the schema is ({this}).");

    /// <summary>The column with a name.</summary>
    /// <param name="name">The column name (ordinal).</param>
    /// <exception cref="KeyNotFoundException">No such column; the message lists the schema.</exception>
    public Column this[string name] =>
        GetColumnOrNull(name) ?? throw new KeyNotFoundException($"There is no column '{name}'; the schema is ({this}).");

    /// <summary>The column with a name, or <see langword="null"/>.</summary>
    /// <param name="name">The column name (ordinal).</param>
    /// <returns>The column or <see langword="null"/>.</returns>
    public Column? GetColumnOrNull(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _byName.TryGetValue(name, out int i) ? _columns[i] : null;
    }

    /// <summary>Creates a schema from (name, type) pairs, in order.</summary>
    /// <param name="columns">The columns.</param>
    /// <returns>The schema.</returns>
    /// <exception cref="ArgumentException">A name appears twice.</exception>
    public static DataViewSchema Create(params IEnumerable<(string Name, DataViewType Type)> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var builder = new Builder();
        foreach ((string name, DataViewType type) in columns)
        {
            builder.AddColumn(name, type);
        }

        return builder.ToSchema();
    }

    /// <inheritdoc />
    public IEnumerator<Column> GetEnumerator() => ((IEnumerable<Column>)_columns).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The columns as <c>name: Type, ...</c>, the form error messages use.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => _columns.Length == 0 ? "no columns" : string.Join(", ", _columns);

    /// <summary>Builds a schema column by column (ML.NET's <c>DataViewSchema.Builder</c>).</summary>
    public sealed class Builder
    {
        private readonly List<(string Name, DataViewType Type)> _columns = [];

        /// <summary>Adds a column at the end.</summary>
        /// <param name="name">The column name.</param>
        /// <param name="type">The column type.</param>
        /// <returns>This builder.</returns>
        public Builder AddColumn(string name, DataViewType type)
        {
            ArgumentException.ThrowIfNullOrEmpty(name);
            ArgumentNullException.ThrowIfNull(type);
            _columns.Add((name, type));
            return this;
        }

        /// <summary>Adds columns at the end (their indices are renumbered).</summary>
        /// <param name="columns">The columns.</param>
        /// <returns>This builder.</returns>
        public Builder AddColumns(IEnumerable<Column> columns)
        {
            ArgumentNullException.ThrowIfNull(columns);
            foreach (Column c in columns)
            {
                AddColumn(c.Name, c.Type);
            }

            return this;
        }

        /// <summary>Creates the schema.</summary>
        /// <returns>The schema.</returns>
        /// <exception cref="ArgumentException">A name appears twice.</exception>
        public DataViewSchema ToSchema() =>
            _columns.Count == 0 ? Empty : new DataViewSchema(_columns.Select((c, i) => new Column(c.Name, i, c.Type)).ToArray());
    }
}
