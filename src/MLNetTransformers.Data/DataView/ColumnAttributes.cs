namespace MLNetTransformers.Data;

/// <summary>Names the data view column of a field or property (ML.NET's <c>ColumnNameAttribute</c>); default: the member name.</summary>
/// <param name="name">The column name.</param>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, AllowMultiple = false, Inherited = true)]
public sealed class ColumnNameAttribute(string name) : Attribute
{
    /// <summary>The column name.</summary>
    public string Name { get; } = name;
}

/// <summary>Keeps a field or property out of the data view mapping (ML.NET's <c>NoColumnAttribute</c>).</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, AllowMultiple = false, Inherited = true)]
public sealed class NoColumnAttribute : Attribute
{
}
