namespace MLNetTransformers.Data;

/// <summary>
/// The entry point of the data layer, ML.NET's <c>MLContext</c> counterpart: catalogs of data operations (loaders, savers,
/// object mapping), transforms, and model operations (pipeline save/load, prediction engines).
/// </summary>
/// <remarks>Other assemblies add transforms as extension methods on <see cref="TransformsCatalog"/> and register their saved
/// kinds on <see cref="Model"/>, as ML.NET's packages extend <c>MLContext</c>.</remarks>
public sealed class TransformersContext
{
    /// <summary>Creates a context with the built-in transform kinds registered.</summary>
    public TransformersContext()
    {
        Data = new DataOperationsCatalog();
        Transforms = new TransformsCatalog(this);
        Model = new ModelOperationsCatalog(this);
    }

    /// <summary>Loading, saving and object mapping.</summary>
    public DataOperationsCatalog Data { get; }

    /// <summary>Transforms (extended by other assemblies' extension methods).</summary>
    public TransformsCatalog Transforms { get; }

    /// <summary>Saving and loading fitted pipelines' descriptions; prediction engines.</summary>
    public ModelOperationsCatalog Model { get; }
}
