using System.Text;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.OnnxRuntime.Tests.TestModels;

/// <summary>
/// A minimal writer of ONNX <c>ModelProto</c> bytes (hand-encoded protobuf with ONNX's field numbers), enough for the tiny
/// graphs these tests build: inputs/outputs with fixed or symbolic dims, initializers, nodes with attributes and subgraphs.
/// </summary>
internal sealed class GraphBuilder(string name)
{
    private readonly List<byte[]> _nodes = [];
    private readonly List<byte[]> _initializers = [];
    private readonly List<byte[]> _inputs = [];
    private readonly List<byte[]> _outputs = [];
    private int _nodeCount;

    public GraphBuilder Input(string valueName, TensorElementType type, params object[] dims)
    {
        _inputs.Add(ValueInfo(valueName, type, dims));
        return this;
    }

    public GraphBuilder Output(string valueName, TensorElementType type, params object[] dims)
    {
        _outputs.Add(ValueInfo(valueName, type, dims));
        return this;
    }

    /// <summary>An output whose type is known but whose shape is left for inference.</summary>
    public GraphBuilder OutputNoShape(string valueName, TensorElementType type)
    {
        var tensorType = new ProtoWriter().Int(1, (int)type);
        var typeProto = new ProtoWriter().Message(1, tensorType);
        _outputs.Add(new ProtoWriter().String(1, valueName).Message(2, typeProto).ToArray());
        return this;
    }

    public GraphBuilder Initializer(string valueName, float[] data, params long[] dims)
    {
        _initializers.Add(Tensor(valueName, TensorElementType.Float32, dims, Floats(data)));
        return this;
    }

    public GraphBuilder Initializer(string valueName, long[] data, params long[] dims)
    {
        byte[] raw = new byte[data.Length * 8];
        Buffer.BlockCopy(data, 0, raw, 0, raw.Length);
        _initializers.Add(Tensor(valueName, TensorElementType.Int64, dims, raw));
        return this;
    }

    public GraphBuilder Initializer(string valueName, bool value)
    {
        _initializers.Add(Tensor(valueName, TensorElementType.Bool, [], [value ? (byte)1 : (byte)0]));
        return this;
    }

    public GraphBuilder Node(string opType, string[] inputs, string[] outputs, string domain = "", params NodeAttribute[] attributes)
    {
        var node = new ProtoWriter();
        foreach (string input in inputs)
        {
            node.String(1, input);
        }

        foreach (string output in outputs)
        {
            node.String(2, output);
        }

        node.String(3, $"{opType}_{_nodeCount++}").String(4, opType);
        foreach (NodeAttribute attribute in attributes)
        {
            node.Message(5, attribute.Writer);
        }

        if (domain.Length > 0)
        {
            node.String(7, domain);
        }

        _nodes.Add(node.ToArray());
        return this;
    }

    public ProtoWriter ToProto()
    {
        var graph = new ProtoWriter();
        foreach (byte[] node in _nodes)
        {
            graph.Bytes(1, node);
        }

        graph.String(2, name);
        foreach (byte[] initializer in _initializers)
        {
            graph.Bytes(5, initializer);
        }

        foreach (byte[] input in _inputs)
        {
            graph.Bytes(11, input);
        }

        foreach (byte[] output in _outputs)
        {
            graph.Bytes(12, output);
        }

        return graph;
    }

    internal static byte[] Floats(float[] data)
    {
        byte[] raw = new byte[data.Length * 4];
        Buffer.BlockCopy(data, 0, raw, 0, raw.Length);
        return raw;
    }

    internal static byte[] Tensor(string valueName, TensorElementType type, long[] dims, byte[] raw)
    {
        var tensor = new ProtoWriter();
        foreach (long dim in dims)
        {
            tensor.Int(1, dim);
        }

        return tensor.Int(2, (int)type).String(8, valueName).Bytes(9, raw).ToArray();
    }

    private static byte[] ValueInfo(string valueName, TensorElementType type, object[] dims)
    {
        var shape = new ProtoWriter();
        foreach (object dim in dims)
        {
            var dimension = new ProtoWriter();
            switch (dim)
            {
                case string symbol:
                    dimension.String(2, symbol);
                    break;
                default:
                    dimension.Int(1, Convert.ToInt64(dim, System.Globalization.CultureInfo.InvariantCulture));
                    break;
            }

            shape.Message(1, dimension);
        }

        var tensorType = new ProtoWriter().Int(1, (int)type).Message(2, shape);
        var typeProto = new ProtoWriter().Message(1, tensorType);
        return new ProtoWriter().String(1, valueName).Message(2, typeProto).ToArray();
    }
}

/// <summary>A node attribute (<c>AttributeProto</c>).</summary>
internal sealed class NodeAttribute
{
    private NodeAttribute(ProtoWriter writer) => Writer = writer;

    public ProtoWriter Writer { get; }

    public static NodeAttribute Int(string name, long value) => new(new ProtoWriter().String(1, name).Int(3, value).Int(20, 2));

    public static NodeAttribute Float(string name, float value) => new(new ProtoWriter().String(1, name).Fixed32(2, value).Int(20, 1));

    public static NodeAttribute Ints(string name, params long[] values)
    {
        var writer = new ProtoWriter().String(1, name);
        foreach (long value in values)
        {
            writer.Int(8, value);
        }

        return new(writer.Int(20, 7));
    }

    public static NodeAttribute Graph(string name, GraphBuilder graph) => new(new ProtoWriter().String(1, name).Message(6, graph.ToProto()).Int(20, 5));

    public static NodeAttribute Tensor(string name, float[] data, params long[] dims) =>
        new(new ProtoWriter().String(1, name).Bytes(5, GraphBuilder.Tensor(string.Empty, TensorElementType.Float32, dims, GraphBuilder.Floats(data))).Int(20, 4));
}

/// <summary>A model: opset imports around one graph.</summary>
internal sealed class ModelBuilder(GraphBuilder graph, int opset = 17)
{
    private readonly List<(string Domain, int Version)> _opsets = [(string.Empty, opset)];

    public ModelBuilder Opset(string domain, int version)
    {
        _opsets.Add((domain, version));
        return this;
    }

    public byte[] Build()
    {
        var model = new ProtoWriter().Int(1, 8).String(2, "mlnt-tests").String(3, "1");
        model.Message(7, graph.ToProto());
        foreach (var (domain, version) in _opsets)
        {
            model.Message(8, new ProtoWriter().String(1, domain).Int(2, version));
        }

        return model.ToArray();
    }

    public string Save(string directory, string fileName)
    {
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, fileName);
        File.WriteAllBytes(path, Build());
        return path;
    }
}

/// <summary>Protobuf wire-format writer: varints, fixed32 and length-delimited fields.</summary>
internal sealed class ProtoWriter
{
    private readonly List<byte> _stream = [];

    public ProtoWriter Int(int field, long value)
    {
        Tag(field, 0);
        Varint((ulong)value);
        return this;
    }

    public ProtoWriter Fixed32(int field, float value)
    {
        Tag(field, 5);
        _stream.AddRange(BitConverter.GetBytes(value));
        return this;
    }

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

    public ProtoWriter Bytes(int field, byte[] value)
    {
        Tag(field, 2);
        Varint((ulong)value.Length);
        _stream.AddRange(value);
        return this;
    }

    public byte[] ToArray() => _stream.ToArray();

    private void Tag(int field, int wireType) => Varint((ulong)((field << 3) | wireType));

    private void Varint(ulong value)
    {
        while (value >= 0x80)
        {
            _stream.Add((byte)(value | 0x80));
            value >>= 7;
        }

        _stream.Add((byte)value);
    }
}
