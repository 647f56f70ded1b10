using System.Text.Json.Nodes;

namespace MLNetTransformers.Data;

/// <summary>
/// A transformer that can be saved in a pipeline description (<see cref="ModelOperationsCatalog.Save"/>): a kind name and
/// the options to rebuild it (model folder paths and settings, never weights). Register the kind's factory with
/// <see cref="ModelOperationsCatalog.RegisterTransformer"/> so <see cref="ModelOperationsCatalog.Load"/> can rebuild it.
/// </summary>
public interface ISavableTransformer : ITransformer
{
    /// <summary>The kind name under which the factory is registered (<c>tokenize</c>, <c>embed</c>, ...).</summary>
    string Kind { get; }

    /// <summary>The options that rebuild this transformer.</summary>
    /// <param name="context">Turns file paths into the form stored in the description.</param>
    /// <returns>The options as a JSON object.</returns>
    JsonObject SaveOptions(PipelineFileContext context);
}

/// <summary>Rebuilds a transformer from its saved options.</summary>
/// <param name="options">The options <see cref="ISavableTransformer.SaveOptions"/> wrote.</param>
/// <param name="context">Resolves stored file paths.</param>
/// <returns>The transformer.</returns>
public delegate ITransformer TransformerFactory(JsonObject options, PipelineFileContext context);

/// <summary>
/// Where a pipeline description lives, for paths inside it: paths are stored relative to the description's folder when they
/// are under it (so a folder holding models and pipeline moves as one), else absolute.
/// </summary>
public sealed class PipelineFileContext
{
    /// <summary>Creates a context.</summary>
    /// <param name="baseDirectory">The folder of the description file.</param>
    public PipelineFileContext(string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(baseDirectory);
        BaseDirectory = Path.GetFullPath(baseDirectory);
    }

    /// <summary>The folder of the description file.</summary>
    public string BaseDirectory { get; }

    /// <summary>The stored form of a path: relative to <see cref="BaseDirectory"/> when under it, else absolute; '/' separators.</summary>
    /// <param name="path">A path (relative paths are taken from the current directory).</param>
    /// <returns>The stored path.</returns>
    public string ToStoredPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string full = Path.GetFullPath(path);
        string relative = Path.GetRelativePath(BaseDirectory, full);
        string stored = relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? full : relative;
        return stored.Replace('\\', '/');
    }

    /// <summary>A stored path made usable: relative paths are taken from <see cref="BaseDirectory"/>.</summary>
    /// <param name="stored">The stored path.</param>
    /// <returns>The full path.</returns>
    public string ResolvePath(string stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        return Path.GetFullPath(stored, BaseDirectory);
    }
}
