using System.Runtime.InteropServices;
using Google.Protobuf;
using MLNetTransformers.Onnx.Model;
using MLNetTransformers.Onnx.Protos;

namespace MLNetTransformers.Onnx.Quantization;

/// <summary>
/// A working copy of a model's main graph for the quantizers: a clone of the source with every initializer's data inline (the
/// source is never modified), lookups of initializers, producers and consumers, unique names, and a final pass that drops
/// unused initializers and puts the nodes back in topological order.
/// </summary>
internal sealed class GraphEditor
{
    internal const string MicrosoftDomain = "com.microsoft";

    private readonly HashSet<string> _usedNames = new(StringComparer.Ordinal);
    private Dictionary<string, List<NodeProto>>? _consumers;
    private Dictionary<string, NodeProto>? _producers;

    public GraphEditor(OnnxModel source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        Proto = source.Proto.Clone();
        var sources = source.AllInitializers().ToList();
        var targets = OnnxModel.Graphs(Proto.Graph).SelectMany(g => g.Initializer).ToList();
        for (int i = 0; i < targets.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (sources[i].DataLocation == TensorProto.Types.DataLocation.External)
            {
                byte[] bytes = source.GetRawData(sources[i]);
                OnnxTensors.ClearData(targets[i]);
                targets[i].RawData = ByteString.CopyFrom(bytes);
            }
        }

        Initializers = Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        GraphInputs = Graph.Input.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        GraphOutputs = Graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (GraphProto graph in OnnxModel.Graphs(Graph))
        {
            _usedNames.UnionWith(graph.Initializer.Select(t => t.Name));
            _usedNames.UnionWith(graph.Input.Select(t => t.Name));
            _usedNames.UnionWith(graph.Output.Select(t => t.Name));
            foreach (NodeProto node in graph.Node)
            {
                _usedNames.UnionWith(node.Input);
                _usedNames.UnionWith(node.Output);
                _usedNames.Add(node.Name);
            }
        }
    }

    public ModelProto Proto { get; }

    public GraphProto Graph => Proto.Graph;

    public Dictionary<string, TensorProto> Initializers { get; }

    public HashSet<string> GraphInputs { get; }

    public HashSet<string> GraphOutputs { get; }

    /// <summary>The version of the default (ai.onnx) opset the model imports.</summary>
    public long DefaultOpset => Proto.OpsetImport.Where(o => string.IsNullOrEmpty(o.Domain) || o.Domain == "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();

    /// <summary>Consumers of each tensor in the main graph (built on first use; call <see cref="InvalidateConsumers"/> after edits).</summary>
    public IReadOnlyList<NodeProto> Consumers(string tensor)
    {
        if (_consumers is null)
        {
            _consumers = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
            foreach (NodeProto node in Graph.Node)
            {
                foreach (string input in node.Input.Concat(SubgraphReferences(node)).Where(i => i.Length > 0).Distinct(StringComparer.Ordinal))
                {
                    if (!_consumers.TryGetValue(input, out var list))
                    {
                        _consumers[input] = list = [];
                    }

                    list.Add(node);
                }
            }
        }

        return _consumers.TryGetValue(tensor, out var found) ? found : [];
    }

    public void InvalidateConsumers()
    {
        _consumers = null;
        _producers = null;
    }

    /// <summary>The node of the main graph that produces <paramref name="tensor"/>, or null (a graph input, an initializer, unknown).</summary>
    public NodeProto? Producer(string tensor)
    {
        if (_producers is null)
        {
            _producers = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
            foreach (NodeProto node in Graph.Node)
            {
                foreach (string output in node.Output.Where(o => o.Length > 0))
                {
                    _producers[output] = node;
                }
            }
        }

        return _producers.GetValueOrDefault(tensor);
    }

    /// <summary>
    /// The rank a main-graph tensor is declared with (graph inputs, outputs and value_info; initializers), or null when nothing
    /// declares its shape.
    /// </summary>
    public int? DeclaredRank(string tensor)
    {
        if (Initializers.TryGetValue(tensor, out TensorProto? initializer) && !GraphInputs.Contains(tensor))
        {
            return initializer.Dims.Count;
        }

        foreach (ValueInfoProto value in Graph.Input.Concat(Graph.Output).Concat(Graph.ValueInfo))
        {
            if (value.Name == tensor && value.Type?.TensorType?.Shape is { } shape)
            {
                return shape.Dim.Count;
            }
        }

        return null;
    }

    /// <summary>A constant initializer of the main graph (one that is not also a graph input, which a caller could override).</summary>
    public TensorProto? ConstantInitializer(string name) =>
        Initializers.TryGetValue(name, out TensorProto? tensor) && !GraphInputs.Contains(name) ? tensor : null;

    /// <summary>A name not used anywhere in the model, derived from <paramref name="baseName"/>.</summary>
    public string UniqueName(string baseName)
    {
        string name = baseName;
        for (int i = 1; !_usedNames.Add(name); i++)
        {
            name = $"{baseName}_{i}";
        }

        return name;
    }

    /// <summary>Adds an initializer to the main graph (its name must come from <see cref="UniqueName"/>).</summary>
    public void AddInitializer(TensorProto tensor)
    {
        Graph.Initializer.Add(tensor);
        Initializers[tensor.Name] = tensor;
    }

    /// <summary>Replaces a node of the main graph (found by reference: messages compare by value) in place.</summary>
    public void Replace(NodeProto node, NodeProto replacement)
    {
        Graph.Node[IndexOf(node)] = replacement;
        InvalidateConsumers();
    }

    private int IndexOf(NodeProto node)
    {
        for (int i = 0; i < Graph.Node.Count; i++)
        {
            if (ReferenceEquals(Graph.Node[i], node))
            {
                return i;
            }
        }

        throw new InvalidOperationException($"Node '{Label(node)}' is not in the graph.");
    }

    /// <summary>Replaces a node of the main graph (found by reference) with several, in order, at its place.</summary>
    public void Replace(NodeProto node, IReadOnlyList<NodeProto> replacements)
    {
        int index = IndexOf(node);
        Graph.Node.RemoveAt(index);
        for (int i = replacements.Count - 1; i >= 0; i--)
        {
            Graph.Node.Insert(index, replacements[i]);
        }

        InvalidateConsumers();
    }

    /// <summary>Removes a node of the main graph (found by reference).</summary>
    public void Remove(NodeProto node)
    {
        Graph.Node.RemoveAt(IndexOf(node));
        InvalidateConsumers();
    }

    /// <summary>Makes sure the model imports <paramref name="domain"/> at least at <paramref name="version"/>.</summary>
    public void EnsureOpset(string domain, long version)
    {
        OperatorSetIdProto? existing = Proto.OpsetImport.FirstOrDefault(o => o.Domain == domain);
        if (existing is null)
        {
            Proto.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        }
        else if (existing.Version < version)
        {
            existing.Version = version;
        }
    }

    /// <summary>Removes initializers of the main graph that nothing reads any more, then sorts the nodes topologically.</summary>
    public void Finish()
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (GraphProto graph in OnnxModel.Graphs(Graph))
        {
            foreach (NodeProto node in graph.Node)
            {
                used.UnionWith(node.Input);
            }

            used.UnionWith(graph.Output.Select(o => o.Name));
        }

        for (int i = Graph.Initializer.Count - 1; i >= 0; i--)
        {
            TensorProto tensor = Graph.Initializer[i];
            if (!used.Contains(tensor.Name) && !GraphInputs.Contains(tensor.Name))
            {
                Graph.Initializer.RemoveAt(i);
                Initializers.Remove(tensor.Name);
            }
        }

        SortTopologically(Graph);
        InvalidateConsumers();
    }

    /// <summary>A node's name for messages: its name, or its operator and first output when it has none.</summary>
    public static string Label(NodeProto node) =>
        !string.IsNullOrEmpty(node.Name) ? node.Name : $"({QualifiedOp(node)} producing '{node.Output.FirstOrDefault()}')";

    /// <summary>The operator, domain-qualified outside the default domain.</summary>
    public static string QualifiedOp(NodeProto node) =>
        string.IsNullOrEmpty(node.Domain) || node.Domain == "ai.onnx" ? node.OpType : $"{node.Domain}.{node.OpType}";

    public static bool IsDefaultDomain(NodeProto node) => string.IsNullOrEmpty(node.Domain) || node.Domain == "ai.onnx";

    public static bool HasSubgraphs(NodeProto node) => node.Attribute.Any(a => a.G is not null || a.Graphs.Count > 0);

    /// <summary>Every tensor name read by the nodes of a node's subgraphs (outer-scope references included).</summary>
    public static IEnumerable<string> SubgraphReferences(NodeProto node)
    {
        foreach (AttributeProto attribute in node.Attribute)
        {
            foreach (GraphProto sub in (attribute.G is null ? [] : new[] { attribute.G }).Concat(attribute.Graphs))
            {
                foreach (GraphProto nested in OnnxModel.Graphs(sub))
                {
                    foreach (NodeProto inner in nested.Node)
                    {
                        foreach (string input in inner.Input)
                        {
                            yield return input;
                        }
                    }
                }
            }
        }
    }

    /// <summary>Stable topological sort (Kahn, original order among ready nodes).</summary>
    public static void SortTopologically(GraphProto graph)
    {
        var nodes = graph.Node.ToList();
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < nodes.Count; i++)
        {
            foreach (string output in nodes[i].Output.Where(o => o.Length > 0))
            {
                producer[output] = i;
            }
        }

        var dependents = new List<int>[nodes.Count];
        var pending = new int[nodes.Count];
        for (int i = 0; i < nodes.Count; i++)
        {
            dependents[i] = [];
        }

        for (int i = 0; i < nodes.Count; i++)
        {
            foreach (string input in nodes[i].Input.Concat(SubgraphReferences(nodes[i])).Where(n => n.Length > 0).Distinct(StringComparer.Ordinal))
            {
                if (producer.TryGetValue(input, out int p) && p != i)
                {
                    dependents[p].Add(i);
                    pending[i]++;
                }
            }
        }

        var ready = new PriorityQueue<int, int>();
        for (int i = 0; i < nodes.Count; i++)
        {
            if (pending[i] == 0)
            {
                ready.Enqueue(i, i);
            }
        }

        var order = new List<int>(nodes.Count);
        var placed = new bool[nodes.Count];
        while (ready.TryDequeue(out int i, out _))
        {
            order.Add(i);
            placed[i] = true;
            foreach (int d in dependents[i])
            {
                if (--pending[d] == 0)
                {
                    ready.Enqueue(d, d);
                }
            }
        }

        // A cycle (invalid anyway) keeps its nodes in their original order after the rest.
        order.AddRange(Enumerable.Range(0, nodes.Count).Where(i => !placed[i]));
        graph.Node.Clear();
        graph.Node.AddRange(order.Select(i => nodes[i]));
    }

    public static AttributeProto IntAttribute(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto IntsAttribute(string name, IEnumerable<long> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static IReadOnlyList<long>? GetInts(NodeProto node, string name) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.Ints : null;

    public static long? GetInt(NodeProto node, string name) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.I : null;

    public static float? GetFloat(NodeProto node, string name) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.F : null;
}

/// <summary>Compares nodes by identity (protobuf messages compare, and hash, by value, which changes as they are edited).</summary>
internal sealed class NodeIdentity : IEqualityComparer<NodeProto>
{
    public static NodeIdentity Instance { get; } = new();

    public bool Equals(NodeProto? x, NodeProto? y) => ReferenceEquals(x, y);

    public int GetHashCode(NodeProto obj) => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj);
}

/// <summary>Reading and creating the tensors the quantizers need.</summary>
internal static class TensorData
{
    public static float[] ReadFloats(TensorProto tensor) => (TensorProto.Types.DataType)tensor.DataType switch
    {
        TensorProto.Types.DataType.Float => MemoryMarshal.Cast<byte, float>(OnnxTensors.RawBytes(tensor)).ToArray(),
        TensorProto.Types.DataType.Float16 => MemoryMarshal.Cast<byte, Half>(OnnxTensors.RawBytes(tensor)).ToArray().Select(h => (float)h).ToArray(),
        TensorProto.Types.DataType.Double => MemoryMarshal.Cast<byte, double>(OnnxTensors.RawBytes(tensor)).ToArray().Select(d => (float)d).ToArray(),
        _ => throw new InvalidDataException($"Initializer '{tensor.Name}' is {OnnxDataType.Name(tensor.DataType)}, not a floating-point tensor."),
    };

    public static TensorProto Floats(string name, ReadOnlySpan<float> values, params long[] dims) => OnnxTensors.Create(name, values, dims);

    public static TensorProto Int8(string name, ReadOnlySpan<sbyte> values, params long[] dims) =>
        OnnxTensors.Create(name, TensorProto.Types.DataType.Int8, MemoryMarshal.AsBytes(values), dims);

    public static TensorProto Int64s(string name, ReadOnlySpan<long> values, params long[] dims) => OnnxTensors.Create(name, values, dims);

    public static TensorProto UInt8(string name, ReadOnlySpan<byte> values, params long[] dims) =>
        OnnxTensors.Create(name, TensorProto.Types.DataType.Uint8, values, dims);

    public static TensorProto Float16(string name, ReadOnlySpan<Half> values, params long[] dims) =>
        OnnxTensors.Create(name, TensorProto.Types.DataType.Float16, MemoryMarshal.AsBytes(values), dims);
}
