namespace MLNetTransformers.Data.IO.Idv;

/// <summary>A named, typed column of an .idv file.</summary>
/// <param name="Name">The column name.</param>
/// <param name="Type">The column type.</param>
public sealed record IdvColumn(string Name, IdvColumnType Type)
{
    /// <inheritdoc />
    public override string ToString() => $"{Name}:{Type}";
}
