using System.Runtime.InteropServices;
using Google.Protobuf;
using MLNetTransformers.Onnx.Protos;

namespace MLNetTransformers.Onnx.Model;

/// <summary>How <see cref="OnnxModel.Save"/> stores initializer data.</summary>
public enum ExternalDataMode
{
    /// <summary>External data only when the model would not fit in one protobuf message (2 GB).</summary>
    Auto,
    /// <summary>Every initializer of at least <see cref="OnnxSaveOptions.ExternalDataThreshold"/> bytes goes to the data file.</summary>
    Always,
    /// <summary>Everything inside the .onnx file (fails above 2 GB).</summary>
    Never,
}

/// <summary>Options for saving a model.</summary>
public sealed class OnnxSaveOptions
{
    /// <summary>Where initializer data goes. Default <see cref="ExternalDataMode.Auto"/>.</summary>
    public ExternalDataMode ExternalData { get; set; } = ExternalDataMode.Auto;

    /// <summary>The data file's name, next to the model. Default: the model's file name + <c>_data</c> (e.g. <c>model.onnx_data</c>).</summary>
    public string? ExternalDataFileName { get; set; }

    /// <summary>Initializers smaller than this stay inline. Default 1024 bytes.</summary>
    public int ExternalDataThreshold { get; set; } = 1024;
}

/// <summary>
/// An ONNX model file (<c>ModelProto</c>) with its folder, so that external data (<c>model.onnx</c> + <c>model.onnx_data</c>) is
/// found, read lazily through memory maps, and written when asked or when the model would exceed protobuf's 2 GB limit.
/// External-data locations may not escape the model's folder. Not thread-safe while being modified.
/// </summary>
public sealed class OnnxModel : IDisposable
{
    /// <summary>Protobuf's hard limit for one message, less a margin for the graph itself.</summary>
    internal const long ProtobufLimit = int.MaxValue - (64L << 20);

    private readonly ExternalDataStore? _external;

    private OnnxModel(ModelProto proto, string? path, ExternalDataStore? external)
    {
        Proto = proto;
        Path = path;
        _external = external;
    }

    /// <summary>The model's protobuf message; edit it to transform the model.</summary>
    public ModelProto Proto { get; }

    /// <summary>The graph.</summary>
    public GraphProto Graph => Proto.Graph;

    /// <summary>The file it was loaded from, if any.</summary>
    public string? Path { get; }

    /// <summary>Wraps a model built in memory.</summary>
    /// <param name="proto">The model.</param>
    /// <returns>The model.</returns>
    public static OnnxModel FromProto(ModelProto proto) => new(proto ?? throw new ArgumentNullException(nameof(proto)), null, null);

    /// <summary>Parses a model from bytes (no external data).</summary>
    /// <param name="bytes">The serialized model.</param>
    /// <param name="name">A name for messages.</param>
    /// <returns>The model.</returns>
    public static OnnxModel FromBytes(ReadOnlySpan<byte> bytes, string name = "model") => new(Parse(bytes, name), null, null);

    /// <summary>Loads a model file; external data is read on demand from the model's folder.</summary>
    /// <param name="path">The .onnx file.</param>
    /// <returns>The model; dispose it to release the data files.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">It is not an ONNX model, is truncated, or references data outside its folder.</exception>
    public static OnnxModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"Model file not found: {full}", full);
        }

        long size = new FileInfo(full).Length;
        if (size > int.MaxValue)
        {
            throw new InvalidDataException($"{full}: {size} bytes is more than one protobuf message can hold; large models keep their weights in external data.");
        }

        ModelProto proto = Parse(File.ReadAllBytes(full), full);
        var model = new OnnxModel(proto, full, new ExternalDataStore(System.IO.Path.GetDirectoryName(full)!, full));
        foreach (TensorProto tensor in model.AllInitializers())
        {
            if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
            {
                ExternalDataReference.FromTensor(tensor, full); // validates locations before anything is read
            }
        }

        return model;
    }

    /// <summary>The external data files this model references, relative to its folder.</summary>
    /// <returns>The distinct locations.</returns>
    public IReadOnlyList<string> ExternalDataFiles() =>
        AllInitializers().Where(t => t.DataLocation == TensorProto.Types.DataLocation.External)
            .Select(t => ExternalDataReference.FromTensor(t, Path ?? "model").Location).Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>Every initializer, including those of subgraphs (If/Loop/Scan bodies).</summary>
    /// <returns>The tensors.</returns>
    public IEnumerable<TensorProto> AllInitializers() => Graphs(Graph).SelectMany(g => g.Initializer);

    /// <summary>Every node, including those of subgraphs.</summary>
    /// <returns>The nodes.</returns>
    public IEnumerable<NodeProto> AllNodes() => Graphs(Graph).SelectMany(g => g.Node);

    /// <summary>A tensor's data as little-endian bytes in ONNX's raw layout, wherever it is stored (raw, typed fields, external).</summary>
    /// <param name="tensor">A tensor of this model.</param>
    /// <returns>The bytes (a copy for external or typed data).</returns>
    public byte[] GetRawData(TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
        {
            if (_external is null)
            {
                throw new InvalidOperationException($"Initializer '{tensor.Name}' has external data but the model was not loaded from a file.");
            }

            return _external.Read(ExternalDataReference.FromTensor(tensor, Path ?? "model"), tensor.Name);
        }

        return OnnxTensors.RawBytes(tensor);
    }

    /// <summary>A float32 (or float16) tensor's values as float32.</summary>
    /// <param name="tensor">The tensor.</param>
    /// <returns>The values.</returns>
    public float[] GetFloats(TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        byte[] raw = GetRawData(tensor);
        return tensor.DataType switch
        {
            (int)TensorProto.Types.DataType.Float => MemoryMarshal.Cast<byte, float>(raw).ToArray(),
            (int)TensorProto.Types.DataType.Float16 => MemoryMarshal.Cast<byte, Half>(raw).ToArray().Select(h => (float)h).ToArray(),
            _ => throw new InvalidDataException($"Initializer '{tensor.Name}' is {OnnxDataType.Name(tensor.DataType)}, not a floating-point tensor."),
        };
    }

    /// <summary>Moves every external initializer's data inline (so the model no longer depends on its data files).</summary>
    public void LoadExternalData()
    {
        foreach (TensorProto tensor in AllInitializers())
        {
            if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
            {
                byte[] data = GetRawData(tensor);
                tensor.ExternalData.Clear();
                tensor.ClearDataLocation();
                tensor.RawData = ByteString.CopyFrom(data);
            }
        }
    }

    /// <summary>Saves the model (and its external data file when the options or its size call for one).</summary>
    /// <param name="path">The .onnx file to write; it must not be the file the model was loaded from.</param>
    /// <param name="options">External data settings.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is the model's own source file.</exception>
    public void Save(string path, OnnxSaveOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new OnnxSaveOptions();
        string full = System.IO.Path.GetFullPath(path);
        if (Path is not null && string.Equals(full, Path, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Refusing to overwrite the source model {full}: write to another path.", nameof(path));
        }

        string dataName = options.ExternalDataFileName ?? System.IO.Path.GetFileName(full) + "_data";
        ExternalDataReference.CheckLocation(dataName, "(output)", full);
        bool external = options.ExternalData switch
        {
            ExternalDataMode.Always => true,
            ExternalDataMode.Never => false,
            _ => EstimatedSize() > ProtobufLimit,
        };

        // Work on a copy: the caller's model keeps reading its own data files.
        ModelProto copy = Proto.Clone();
        string directory = System.IO.Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        string dataPath = System.IO.Path.Combine(directory, dataName);
        if (Path is not null && _external is not null && _external.OpenedFiles.Any(f => string.Equals(System.IO.Path.GetFullPath(System.IO.Path.Combine(_external.Directory, f)), dataPath, StringComparison.Ordinal)))
        {
            throw new ArgumentException($"Refusing to overwrite {dataPath}, which the source model reads its weights from.", nameof(path));
        }

        var sourceTensors = AllInitializers().ToList();
        var targetTensors = Graphs(copy.Graph).SelectMany(g => g.Initializer).ToList();
        string temporaryData = dataPath + ".tmp";
        using (FileStream? data = external ? new FileStream(temporaryData, FileMode.Create, FileAccess.Write) : null)
        {
            for (int i = 0; i < targetTensors.Count; i++)
            {
                TensorProto source = sourceTensors[i], target = targetTensors[i];
                bool wasExternal = source.DataLocation == TensorProto.Types.DataLocation.External;
                if (!wasExternal && !external)
                {
                    continue;
                }

                byte[] bytes = GetRawData(source);
                if (external && bytes.Length >= options.ExternalDataThreshold)
                {
                    long offset = Align(data!.Position);
                    data.Position = offset;
                    data.Write(bytes);
                    OnnxTensors.ClearData(target);
                    target.DataLocation = TensorProto.Types.DataLocation.External;
                    target.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = dataName });
                    target.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                    target.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                }
                else
                {
                    OnnxTensors.ClearData(target);
                    target.RawData = ByteString.CopyFrom(bytes);
                }
            }
        }

        long size = SerializedSize(copy, DataSize);
        if (!external && size > ProtobufLimit)
        {
            throw new InvalidOperationException($"The model is {size} bytes, over protobuf's 2 GB limit: save it with external data.");
        }

        string temporary = full + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            copy.WriteTo(stream);
        }

        if (external)
        {
            File.Move(temporaryData, dataPath, overwrite: true);
        }

        File.Move(temporary, full, overwrite: true);
    }

    /// <summary>Serializes a model without external data.</summary>
    /// <returns>The bytes.</returns>
    public byte[] ToBytes()
    {
        if (AllInitializers().Any(t => t.DataLocation == TensorProto.Types.DataLocation.External))
        {
            ModelProto copy = Proto.Clone();
            var sources = AllInitializers().ToList();
            var targets = Graphs(copy.Graph).SelectMany(g => g.Initializer).ToList();
            for (int i = 0; i < targets.Count; i++)
            {
                if (sources[i].DataLocation == TensorProto.Types.DataLocation.External)
                {
                    byte[] bytes = GetRawData(sources[i]);
                    OnnxTensors.ClearData(targets[i]);
                    targets[i].RawData = ByteString.CopyFrom(bytes);
                }
            }

            return copy.ToByteArray();
        }

        return Proto.ToByteArray();
    }

    /// <summary>Releases the memory maps of the external data files.</summary>
    public void Dispose() => _external?.Dispose();

    internal static IEnumerable<GraphProto> Graphs(GraphProto? graph)
    {
        if (graph is null)
        {
            yield break;
        }

        yield return graph;
        foreach (NodeProto node in graph.Node)
        {
            foreach (AttributeProto attribute in node.Attribute)
            {
                foreach (GraphProto sub in (attribute.G is null ? [] : new[] { attribute.G }).Concat(attribute.Graphs))
                {
                    foreach (GraphProto nested in Graphs(sub))
                    {
                        yield return nested;
                    }
                }
            }
        }
    }

    /// <summary>
    /// The serialized size in 64 bits (protobuf's <c>CalculateSize</c> is a 32-bit int and wraps above 2 GB): the graph without
    /// its tensor data, plus every initializer's data.
    /// </summary>
    private long EstimatedSize() => SerializedSize(Proto, tensor => tensor.DataLocation == TensorProto.Types.DataLocation.External
        ? ExternalDataReference.FromTensor(tensor, Path ?? "model") is { Length: >= 0 } reference ? reference.Length : int.MaxValue
        : DataSize(tensor));

    private static long SerializedSize(ModelProto proto, Func<TensorProto, long> dataSize)
    {
        ModelProto skeleton = proto.Clone();
        long data = 0;
        var originals = Graphs(proto.Graph).SelectMany(g => g.Initializer).ToList();
        var copies = Graphs(skeleton.Graph).SelectMany(g => g.Initializer).ToList();
        for (int i = 0; i < copies.Count; i++)
        {
            data += dataSize(originals[i]);
            OnnxTensors.ClearData(copies[i]);
        }

        return skeleton.CalculateSize() + data;
    }

    private static long DataSize(TensorProto tensor) =>
        tensor.HasRawData ? tensor.RawData.Length
        : (tensor.FloatData.Count * 4L) + (tensor.Int32Data.Count * 4L) + (tensor.Int64Data.Count * 8L) + (tensor.DoubleData.Count * 8L)
            + (tensor.Uint64Data.Count * 8L) + tensor.StringData.Sum(s => (long)s.Length + 8);

    private static long Align(long position) => (position + 4095) & ~4095L;

    private static ModelProto Parse(ReadOnlySpan<byte> bytes, string name)
    {
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"{name} is not a valid ONNX model (protobuf: {ex.Message.TrimEnd('.')}); the file may be truncated or of another format.", ex);
        }

        if (proto.IrVersion <= 0 || proto.Graph is null)
        {
            throw new InvalidDataException($"{name} is not an ONNX model: it has no {(proto.IrVersion <= 0 ? "ir_version" : "graph")}.");
        }

        return proto;
    }
}
