using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MLNetTransformers.Data.Transforms;

namespace MLNetTransformers.Data;

/// <summary>
/// Saving and loading fitted pipelines and prediction engines (ML.NET's <c>ModelOperationsCatalog</c>). A saved pipeline is a
/// JSON description, not weights: <c>{"format":"mlnet-transformers-pipeline","version":1,"transforms":[{"kind":...,"options":{...}}]}</c>;
/// each kind is rebuilt by the factory registered under its name.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "Catalog members are instance members, as in ML.NET, so that extension methods and future state fit.")]
public sealed class ModelOperationsCatalog
{
    /// <summary>The <c>format</c> value of pipeline descriptions.</summary>
    public const string FormatName = "mlnet-transformers-pipeline";

    private readonly Dictionary<string, TransformerFactory> _factories = new(StringComparer.Ordinal);

    internal ModelOperationsCatalog(TransformersContext context)
    {
        Context = context;
        RegisterTransformer(TokenizingTransformer.KindName, TokenizingTransformer.Load);
        RegisterTransformer(EmbeddingTransformer.KindName, EmbeddingTransformer.Load);
        RegisterTransformer(ClassificationTransformer.KindName, ClassificationTransformer.Load);
        RegisterTransformer(TextGenerationTransformer.KindName, TextGenerationTransformer.Load);
        RegisterTransformer(OnnxScoringTransformer.KindName, OnnxScoringTransformer.Load);
    }

    /// <summary>The context.</summary>
    public TransformersContext Context { get; }

    /// <summary>The registered kind names.</summary>
    public IReadOnlyCollection<string> RegisteredKinds => _factories.Keys;

    /// <summary>Registers (or replaces) the factory that rebuilds transformers of a kind.</summary>
    /// <param name="kind">The kind name (<see cref="ISavableTransformer.Kind"/>).</param>
    /// <param name="factory">The factory.</param>
    public void RegisterTransformer(string kind, TransformerFactory factory)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        ArgumentNullException.ThrowIfNull(factory);
        _factories[kind] = factory;
    }

    /// <summary>Saves a fitted transformer (a chain is saved as its transformers in order) as a JSON description.</summary>
    /// <param name="model">The transformer.</param>
    /// <param name="path">The file (created or overwritten); model folder paths under its folder are stored relative to it.</param>
    /// <exception cref="InvalidOperationException">A transformer is not <see cref="ISavableTransformer"/>.</exception>
    public void Save(ITransformer model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var context = new PipelineFileContext(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var transforms = new JsonArray();
        foreach (ITransformer t in Flatten(model))
        {
            if (t is not ISavableTransformer savable)
            {
                throw new InvalidOperationException($"{t.GetType().Name} cannot be saved in a pipeline description (it is not an {nameof(ISavableTransformer)}).");
            }

            transforms.Add(new JsonObject { ["kind"] = savable.Kind, ["options"] = savable.SaveOptions(context) });
        }

        var root = new JsonObject { ["format"] = FormatName, ["version"] = 1, ["transforms"] = transforms };
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>Loads a pipeline description, rebuilding each transformer with its kind's registered factory.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The chain.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a pipeline description, or names an unregistered kind (the message lists the registered ones).</exception>
    public TransformerChain<ITransformer> Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The pipeline file '{path}' does not exist.", path);
        }

        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e);
        }

        if (root is not JsonObject obj || PipelineJson.GetString(obj, "format", null) != FormatName || obj["transforms"] is not JsonArray transforms)
        {
            throw new InvalidDataException($"{path}: not a pipeline description (expected {{\"format\":\"{FormatName}\",\"transforms\":[...]}}).");
        }

        var context = new PipelineFileContext(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var loaded = new List<ITransformer>();
        for (int i = 0; i < transforms.Count; i++)
        {
            string where = string.Create(CultureInfo.InvariantCulture, $"{path}: transform {i}");
            if (transforms[i] is not JsonObject entry || PipelineJson.GetString(entry, "kind", null) is not string kind)
            {
                throw new InvalidDataException($"{where} has no 'kind'.");
            }

            if (!_factories.TryGetValue(kind, out TransformerFactory? factory))
            {
                throw new InvalidDataException($"{where} is of kind '{kind}', which is not registered; registered: {string.Join(", ", _factories.Keys.Order(StringComparer.Ordinal))}.");
            }

            var options = entry["options"] as JsonObject ?? [];
            try
            {
                loaded.Add(factory(options, context));
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException or InvalidDataException)
            {
                throw new InvalidDataException($"{where} ({kind}): {e.Message}", e);
            }
        }

        return new TransformerChain<ITransformer>(loaded);
    }

    /// <summary>Creates an engine that runs <paramref name="transformer"/> on single objects.</summary>
    /// <typeparam name="TSrc">The input class.</typeparam>
    /// <typeparam name="TDst">The output class.</typeparam>
    /// <param name="transformer">The fitted transformer.</param>
    /// <returns>The engine.</returns>
    /// <exception cref="KeyNotFoundException">An input column is missing or an output member has no column; the message lists the schema.</exception>
    public PredictionEngine<TSrc, TDst> CreatePredictionEngine<TSrc, TDst>(ITransformer transformer)
        where TSrc : class
        where TDst : class, new()
    {
        ArgumentNullException.ThrowIfNull(transformer);
        return new PredictionEngine<TSrc, TDst>(transformer);
    }

    private static IEnumerable<ITransformer> Flatten(ITransformer model)
    {
        if (model is IEnumerable<ITransformer> chain)
        {
            foreach (ITransformer t in chain)
            {
                foreach (ITransformer inner in Flatten(t))
                {
                    yield return inner;
                }
            }
        }
        else
        {
            yield return model;
        }
    }
}
