using MLNetTransformers.Onnx.Model;

namespace MLNetTransformers.Onnx.Builders;

/// <summary>
/// Builds an architecture-faithful ONNX model (opset 17, standard operators only) with deterministic pseudo-random weights, and
/// writes it as a Hugging Face / Optimum folder: <c>config.json</c>, <c>generation_config.json</c> (decoders), <c>tokenizer.json</c>,
/// <c>tokenizer_config.json</c>, <c>special_tokens_map.json</c> and <c>onnx/model.onnx</c> (with <c>model.onnx_data</c> when the
/// save options ask for external data or the model is over protobuf's 2 GB).
/// </summary>
/// <remarks>
/// Weights keep the Hugging Face parameter names. Linear layers are stored as MatMul's right-hand side, <c>[in, out]</c> (the
/// transpose of PyTorch's <c>nn.Linear.weight</c>, as <c>torch.onnx.export</c> folds it; GPT-2's Conv1D weights already have that
/// layout). Weight bytes are generated in parallel and wrapped, not copied, into the tensors' <c>raw_data</c>; the whole model
/// is held in memory while it is built (about 4 bytes per parameter), and one tensor may hold at most 2 GB.
/// </remarks>
public abstract class TransformerModelBuilder
{
    private protected TransformerModelBuilder()
    {
    }

    /// <summary>The number of weight elements (parameters) of the model, without building its weights.</summary>
    public long ParameterCount => BuildGraph().ParameterCount;

    /// <summary>The seed.</summary>
    private protected abstract long Seed { get; }

    /// <summary>The weights' standard deviation.</summary>
    private protected abstract float InitializerRange { get; }

    /// <summary>A one-line description for the model's doc string.</summary>
    private protected abstract string Description { get; }

    /// <summary>Builds the model in memory.</summary>
    /// <returns>The model; its weights are inline <c>raw_data</c>.</returns>
    public OnnxModel BuildModel() => OnnxModel.FromProto(BuildGraph().ToModel(Seed, InitializerRange, Description));

    /// <summary>Writes the model folder (created if needed; files of the same names are replaced).</summary>
    /// <param name="directory">The folder.</param>
    /// <param name="saveOptions">
    /// How <c>onnx/model.onnx</c> is saved; default (and <see cref="ExternalDataMode.Auto"/>): external data
    /// (<c>model.onnx_data</c>) when the weights would not fit in one 2 GB protobuf message, e.g. for 1B-parameter shapes.
    /// </param>
    /// <returns>The full path of <c>onnx/model.onnx</c>.</returns>
    public string WriteFolder(string directory, OnnxSaveOptions? saveOptions = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string root = Path.GetFullPath(directory);
        Directory.CreateDirectory(root);
        WriteMetadata(root);
        string modelPath = Path.Combine(root, "onnx", "model.onnx");
        using (OnnxModel model = BuildModel())
        {
            model.Save(modelPath, ResolveSaveOptions(model, saveOptions, OnnxModel.ProtobufLimit));
        }

        return modelPath;
    }

    /// <summary>
    /// The save options, with <see cref="ExternalDataMode.Auto"/> decided here from the weights' total size in 64-bit arithmetic
    /// (protobuf's own size computation is 32-bit and wraps above 2 GB): external data once the inline weights exceed
    /// <paramref name="limit"/>.
    /// </summary>
    internal static OnnxSaveOptions ResolveSaveOptions(OnnxModel model, OnnxSaveOptions? options, long limit)
    {
        options ??= new OnnxSaveOptions();
        if (options.ExternalData != ExternalDataMode.Auto)
        {
            return options;
        }

        long bytes = model.AllInitializers().Sum(t => (long)t.RawData.Length);
        return new OnnxSaveOptions
        {
            ExternalData = bytes > limit ? ExternalDataMode.Always : ExternalDataMode.Never,
            ExternalDataFileName = options.ExternalDataFileName,
            ExternalDataThreshold = options.ExternalDataThreshold,
        };
    }

    /// <summary>Builds the graph with weight specs (cheap: no weight data yet).</summary>
    private protected abstract GraphBuilder BuildGraph();

    /// <summary>Writes config.json, the tokenizer files and (decoders) generation_config.json.</summary>
    private protected abstract void WriteMetadata(string directory);
}
