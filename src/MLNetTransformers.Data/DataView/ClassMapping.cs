using System.Reflection;

namespace MLNetTransformers.Data;

/// <summary>
/// Maps a class's public instance fields and properties to columns by name (<see cref="ColumnNameAttribute"/> renames,
/// <see cref="NoColumnAttribute"/> excludes): <see cref="string"/> ↔ text, <see cref="float"/>/<see cref="double"/>/
/// <see cref="int"/>/<see cref="long"/> ↔ numbers, <see cref="bool"/> ↔ booleans, one-dimensional arrays of them ↔ variable vectors.
/// </summary>
internal sealed class ClassMapping
{
    private ClassMapping(Type type, Member[] members)
    {
        Type = type;
        Members = members;
    }

    public Type Type { get; }

    public Member[] Members { get; }

    internal sealed record Member(string ColumnName, string MemberName, DataViewType Type, Func<object, object?>? Get, Action<object, object?>? Set);

    private static readonly Dictionary<Type, ClassMapping> Cache = [];

    public static ClassMapping For(Type type)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(type, out ClassMapping? mapping))
            {
                Cache[type] = mapping = Create(type);
            }

            return mapping;
        }
    }

    private static ClassMapping Create(Type type)
    {
        var members = new List<Member>();
        // Properties, then fields, each in reflection's (declaration) order: a fixed rule rather than GetMembers' unspecified mix.
        const BindingFlags Flags = BindingFlags.Public | BindingFlags.Instance;
        foreach (MemberInfo m in type.GetProperties(Flags).Cast<MemberInfo>().Concat(type.GetFields(Flags)))
        {
            if (m.IsDefined(typeof(NoColumnAttribute)))
            {
                continue;
            }

            if (m is PropertyInfo indexed && indexed.GetIndexParameters().Length > 0)
            {
                continue;
            }

            Type clr = m is FieldInfo f ? f.FieldType : ((PropertyInfo)m).PropertyType;
            DataViewType columnType = ColumnArrays.TypeOfClr(clr) ?? throw new NotSupportedException(
                $"{type.Name}.{m.Name} is a {clr.Name}; columns map to string, float, double, int, long, bool and arrays of them (mark it [NoColumn] to leave it out).");
            string name = m.GetCustomAttribute<ColumnNameAttribute>()?.Name ?? m.Name;
            Func<object, object?>? get;
            Action<object, object?>? set;
            if (m is FieldInfo field)
            {
                get = field.GetValue;
                set = field.IsInitOnly ? null : field.SetValue;
            }
            else
            {
                var p = (PropertyInfo)m;
                get = p.GetMethod is { IsPublic: true } ? p.GetValue : null;
                set = p.SetMethod is { IsPublic: true } ? p.SetValue : null;
            }

            if (members.Any(x => x.ColumnName == name))
            {
                throw new ArgumentException($"{type.Name}: two members map to the column '{name}'.");
            }

            members.Add(new Member(name, m.Name, columnType, get, set));
        }

        return new ClassMapping(type, members.ToArray());
    }

    /// <summary>The schema of the readable members, for a view over objects.</summary>
    public DataViewSchema ReadableSchema() =>
        DataViewSchema.Create(Members.Where(m => m.Get is not null).Select(m => (m.ColumnName, m.Type)));

    /// <summary>For each settable member, the index of its column in <paramref name="schema"/>, checked for type.</summary>
    /// <exception cref="KeyNotFoundException">A member has no column; the message lists the schema.</exception>
    /// <exception cref="InvalidOperationException">A member's type does not match its column's.</exception>
    public (Member Member, int Column)[] Bind(DataViewSchema schema)
    {
        var bound = new List<(Member, int)>();
        foreach (Member m in Members)
        {
            if (m.Set is null)
            {
                continue;
            }

            DataViewSchema.Column column = schema.GetColumnOrNull(m.ColumnName)
                ?? throw new KeyNotFoundException($"{Type.Name}.{m.MemberName} needs a column '{m.ColumnName}'; the schema is ({schema}).");
            if (column.Type.RawType != m.Type.RawType)
            {
                throw new InvalidOperationException($"{Type.Name}.{m.MemberName} is {m.Type} but column '{column.Name}' is {column.Type}.");
            }

            bound.Add((m, column.Index));
        }

        return bound.ToArray();
    }
}
