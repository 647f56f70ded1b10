using MLNetTransformers.Onnx.Protos;

namespace MLNetTransformers.Onnx.Model;

/// <summary>An input or output of the graph as declared in the file: name, element type, dims (numbers or symbolic names).</summary>
/// <param name="Name">The name.</param>
/// <param name="ElementType">The element type name (e.g. <c>float32</c>), or the kind for non-tensors.</param>
/// <param name="Dims">Each dimension: a number, a symbolic name, or "?" when unknown.</param>
public sealed record OnnxValueSummary(string Name, string ElementType, IReadOnlyList<string> Dims);

/// <summary>Parameters of one data type: how many tensors, elements and bytes.</summary>
/// <param name="DataType">The data type name.</param>
/// <param name="Tensors">The number of initializers.</param>
/// <param name="Elements">The number of elements.</param>
/// <param name="Bytes">The size in bytes.</param>
public sealed record OnnxParameterGroup(string DataType, int Tensors, long Elements, long Bytes);

/// <summary>What <c>mlnt inspect</c> reports about a model file: opsets, inputs/outputs, operators, parameters, external data.</summary>
public sealed class OnnxModelSummary
{
    private OnnxModelSummary()
    {
    }

    /// <summary>The IR version.</summary>
    public long IrVersion { get; private init; }

    /// <summary>The producer (e.g. <c>pytorch 1.13.1</c>).</summary>
    public string Producer { get; private init; } = string.Empty;

    /// <summary>Opset imports: domain ("" is the default ONNX domain) → version.</summary>
    public IReadOnlyDictionary<string, long> Opsets { get; private init; } = new Dictionary<string, long>();

    /// <summary>Graph inputs (initializers excluded).</summary>
    public IReadOnlyList<OnnxValueSummary> Inputs { get; private init; } = [];

    /// <summary>Graph outputs.</summary>
    public IReadOnlyList<OnnxValueSummary> Outputs { get; private init; } = [];

    /// <summary>Operator histogram (domain-qualified for non-default domains, e.g. <c>com.microsoft.MatMulNBits</c>), most frequent first.</summary>
    public IReadOnlyList<KeyValuePair<string, int>> Operators { get; private init; } = [];

    /// <summary>The number of nodes, subgraphs included.</summary>
    public int NodeCount { get; private init; }

    /// <summary>Parameters grouped by data type.</summary>
    public IReadOnlyList<OnnxParameterGroup> Parameters { get; private init; } = [];

    /// <summary>The external data files.</summary>
    public IReadOnlyList<string> ExternalDataFiles { get; private init; } = [];

    /// <summary>Total parameter count.</summary>
    public long ParameterCount => Parameters.Sum(p => p.Elements);

    /// <summary>Total parameter bytes.</summary>
    public long ParameterBytes => Parameters.Sum(p => p.Bytes);

    /// <summary>Summarizes a model (reads no external data).</summary>
    /// <param name="model">The model.</param>
    /// <returns>The summary.</returns>
    public static OnnxModelSummary Create(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        GraphProto graph = model.Graph;
        var initializerNames = new HashSet<string>(graph.Initializer.Select(i => i.Name), StringComparer.Ordinal);
        var operators = model.AllNodes()
            .GroupBy(n => string.IsNullOrEmpty(n.Domain) || n.Domain == "ai.onnx" ? n.OpType : $"{n.Domain}.{n.OpType}")
            .Select(g => new KeyValuePair<string, int>(g.Key, g.Count()))
            .OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).ToArray();
        var parameters = model.AllInitializers()
            .GroupBy(t => t.DataType)
            .Select(g =>
            {
                long elements = g.Sum(t => OnnxDataType.ElementCount(t.Dims));
                long bytes = g.Sum(t => (OnnxDataType.ElementCount(t.Dims) * OnnxDataType.BitsPerElement(t.DataType) + 7) / 8);
                return new OnnxParameterGroup(OnnxDataType.Name(g.Key), g.Count(), elements, bytes);
            })
            .OrderByDescending(p => p.Bytes).ToArray();
        return new OnnxModelSummary
        {
            IrVersion = model.Proto.IrVersion,
            Producer = $"{model.Proto.ProducerName} {model.Proto.ProducerVersion}".Trim(),
            Opsets = model.Proto.OpsetImport.GroupBy(o => o.Domain ?? string.Empty).ToDictionary(g => g.Key, g => g.Max(o => o.Version)),
            Inputs = graph.Input.Where(i => !initializerNames.Contains(i.Name)).Select(Describe).ToArray(),
            Outputs = graph.Output.Select(Describe).ToArray(),
            Operators = operators,
            NodeCount = model.AllNodes().Count(),
            Parameters = parameters,
            ExternalDataFiles = model.ExternalDataFiles(),
        };
    }

    private static OnnxValueSummary Describe(ValueInfoProto value)
    {
        if (value.Type?.TensorType is not { } tensor)
        {
            return new OnnxValueSummary(value.Name, value.Type?.ValueCase.ToString().ToLowerInvariant() ?? "unknown", []);
        }

        var dims = tensor.Shape?.Dim.Select(d => d.ValueCase switch
        {
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => d.DimParam,
            _ => "?",
        }).ToArray() ?? [];
        return new OnnxValueSummary(value.Name, OnnxDataType.Name(tensor.ElemType), dims);
    }
}
