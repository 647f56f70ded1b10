using System.Runtime.InteropServices;
using Google.Protobuf;
using MLNetTransformers.Onnx.Model;
using MLNetTransformers.Onnx.Protos;

namespace MLNetTransformers.Onnx.Quantization;

/// <summary>
/// float32 → float16. Every node that reads or writes float32 runs either in float16 (its float32 tensors become float16:
/// initializers and Constant values are converted, clamped to ±65504; <c>Cast(to=FLOAT)</c> becomes <c>Cast(to=FLOAT16)</c>;
/// ConstantOfShape values are converted) or stays float32: blocked operator types, excluded nodes, quantization and
/// non-default-domain operators without float16 kernels, and light nodes (not MatMul-like, no large weights) whose float results
/// feed only nodes kept float32 (so the rotary position arithmetic feeding Sin/Cos stays float32 as a whole). A Cast is inserted
/// wherever a tensor's consumer wants the other type (one per tensor and type, shared); an initializer read in both types is
/// stored in both. With <see cref="Float16Options.KeepIOTypes"/> graph inputs stay float32 (cast on entry) and float outputs are
/// produced by a final <c>Cast(to=FLOAT)</c> under their original names.
/// </summary>
internal static class Float16Converter
{
    private const int Fp32 = (int)TensorProto.Types.DataType.Float;
    private const int Fp16 = (int)TensorProto.Types.DataType.Float16;

    /// <summary>Operators that only accept float32 where they take floats.</summary>
    private static readonly HashSet<string> Float32Only = new(StringComparer.Ordinal)
    {
        "DynamicQuantizeLinear", "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeMatMul", "MatMulIntegerToFloat",
        "MatMulInteger", "QLinearMatMul", "QLinearConv", "QGemm", "QAttention", "DynamicQuantizeLSTM",
    };

    /// <summary>com.microsoft operators with float16 kernels.</summary>
    private static readonly HashSet<string> MicrosoftFloat16 = new(StringComparer.Ordinal)
    {
        "MatMulNBits", "Attention", "MultiHeadAttention", "GroupQueryAttention", "RotaryEmbedding", "FastGelu", "Gelu", "BiasGelu",
        "QuickGelu", "FusedMatMul", "SkipLayerNormalization", "SkipSimplifiedLayerNormalization", "SimplifiedLayerNormalization",
        "LayerNormalization", "BiasAdd", "BiasSplitGelu", "GatherBlockQuantized", "SparseAttention", "PackedAttention",
    };

    /// <summary>Operators whose cost is in their weights or arithmetic: never kept float32 just because their consumers are.</summary>
    private static readonly HashSet<string> Heavy = new(StringComparer.Ordinal)
    {
        "MatMul", "Gemm", "Conv", "ConvTranspose", "MatMulNBits", "Attention", "MultiHeadAttention", "GroupQueryAttention",
        "Einsum", "LSTM", "GRU", "RNN", "FusedMatMul", "SparseAttention", "PackedAttention",
    };

    /// <summary>Operators that only look at a tensor's shape: they read whichever type is stored, no Cast.</summary>
    private static readonly HashSet<string> TypeAgnostic = new(StringComparer.Ordinal) { "Shape", "Size" };

    /// <summary>(operator, input index) pairs that stay float32 even in a float16 node.</summary>
    private static readonly HashSet<(string, int)> Float32Inputs = [("Resize", 2), ("Upsample", 1)];

    public static QuantizationResult Convert(OnnxModel source, Float16Options options, CancellationToken cancellationToken)
    {
        var graph = new GraphEditor(source, cancellationToken);
        foreach (NodeProto node in graph.Graph.Node)
        {
            if (GraphEditor.HasSubgraphs(node))
            {
                throw new UnsupportedModelException(GraphEditor.Label(node), GraphEditor.QualifiedOp(node),
                    $"Node '{GraphEditor.Label(node)}' ({GraphEditor.QualifiedOp(node)}) has subgraphs, which the float16 conversion does not handle.");
            }
        }

        Dictionary<string, int> types = TypeInference.ElementTypes(graph.Proto, cancellationToken);
        bool IsFloat(string name) => name.Length > 0 && types.TryGetValue(name, out int t) && t == Fp32;

        NodeSelection selection = options.Selection;
        var nodes = graph.Graph.Node.ToList();
        var relevant = nodes.Where(n => n.Input.Any(IsFloat) || n.Output.Any(IsFloat)).ToHashSet(NodeIdentity.Instance);
        var keepFloat32 = new Dictionary<NodeProto, string>(NodeIdentity.Instance);
        foreach (NodeProto node in relevant)
        {
            string? reason = BlockReason(node, options, selection);
            if (reason is not null)
            {
                keepFloat32[node] = reason;
            }
        }

        // Light nodes whose float results only feed nodes kept float32 stay float32 too (reverse order reaches a fixed point in one pass
        // over a topologically sorted graph, a second pass makes sure of it).
        for (int pass = 0; pass < 2; pass++)
        {
            for (int i = nodes.Count - 1; i >= 0; i--)
            {
                NodeProto node = nodes[i];
                if (!relevant.Contains(node) || keepFloat32.ContainsKey(node) || Heavy.Contains(node.OpType) || HasLargeFloatWeight(graph, node))
                {
                    continue;
                }

                var floatOutputs = node.Output.Where(IsFloat).ToList();
                bool onlyFloat32 = floatOutputs.Count > 0 && floatOutputs.All(o =>
                    !graph.GraphOutputs.Contains(o)
                    && graph.Consumers(o).Count > 0
                    && graph.Consumers(o).All(c => keepFloat32.ContainsKey(c) || ReadsOnlyAsFloat32(c, o)));
                if (onlyFloat32)
                {
                    keepFloat32[node] = "feeds only nodes kept float32";
                }
            }
        }

        // The type each float32 tensor is stored in after the conversion.
        var stored = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string input in graph.GraphInputs.Where(IsFloat))
        {
            stored[input] = options.KeepIOTypes || graph.Initializers.ContainsKey(input) ? Fp32 : Fp16;
        }

        foreach (NodeProto node in relevant)
        {
            int type = keepFloat32.ContainsKey(node) ? Fp32 : Fp16;
            foreach (string output in node.Output.Where(IsFloat))
            {
                stored[output] = type;
            }
        }

        // Initializers: float16 when any float16 node reads them as float16, float32 otherwise; both when both are read.
        var available = new Dictionary<(string, int), string>();
        int initializerCount = graph.Graph.Initializer.Count;
        for (int index = 0; index < initializerCount; index++)
        {
            TensorProto tensor = graph.Graph.Initializer[index];
            if (tensor.DataType != Fp32 || graph.GraphInputs.Contains(tensor.Name))
            {
                continue;
            }

            var wanted = graph.Consumers(tensor.Name).SelectMany(c => c.Input.Select((name, index) => (c, name, index)))
                .Where(x => x.name == tensor.Name).Select(x => Wanted(x.c, x.index)).ToHashSet();
            bool asFloat16 = wanted.Contains(Fp16);
            bool asFloat32 = wanted.Contains(Fp32) || graph.GraphOutputs.Contains(tensor.Name);
            if (asFloat16 && asFloat32)
            {
                string copy = graph.UniqueName(tensor.Name + "_fp16");
                graph.AddInitializer(ToFloat16(tensor, copy));
                available[(tensor.Name, Fp16)] = copy;
                stored[tensor.Name] = Fp32;
            }
            else if (asFloat16)
            {
                TensorProto converted = ToFloat16(tensor, tensor.Name);
                graph.Graph.Initializer[index] = converted;
                graph.Initializers[tensor.Name] = converted;
                stored[tensor.Name] = Fp16;
            }
            else
            {
                stored[tensor.Name] = Fp32;
            }
        }

        foreach (var (name, type) in stored)
        {
            available.TryAdd((name, type), name);
        }

        var added = new List<NodeProto>();
        var renamedFrom = new Dictionary<string, string>(StringComparer.Ordinal);

        // Graph outputs keep their declared type: the producer writes NAME_fp16 (or _fp32) and a final Cast writes NAME.
        foreach (ValueInfoProto output in graph.Graph.Output)
        {
            if (!IsFloat(output.Name) || !stored.TryGetValue(output.Name, out int have) || graph.GraphInputs.Contains(output.Name) || graph.Initializers.ContainsKey(output.Name))
            {
                continue;
            }

            int want = options.KeepIOTypes ? Fp32 : Fp16;
            if (have != want)
            {
                string renamed = graph.UniqueName(output.Name + (have == Fp16 ? "_fp16" : "_fp32"));
                foreach (NodeProto node in nodes)
                {
                    for (int i = 0; i < node.Output.Count; i++)
                    {
                        if (node.Output[i] == output.Name)
                        {
                            node.Output[i] = renamed;
                        }
                    }

                    for (int i = 0; i < node.Input.Count; i++)
                    {
                        if (node.Input[i] == output.Name)
                        {
                            node.Input[i] = renamed;
                        }
                    }
                }

                added.Add(CastNode(graph, renamed, output.Name, want));
                renamedFrom[renamed] = output.Name;
                available[(output.Name, have)] = renamed;
                available[(output.Name, want)] = output.Name;
            }

            output.Type.TensorType.ElemType = want;
        }

        if (!options.KeepIOTypes)
        {
            foreach (ValueInfoProto input in graph.Graph.Input.Where(i => IsFloat(i.Name) && !graph.Initializers.ContainsKey(i.Name)))
            {
                input.Type.TensorType.ElemType = Fp16;
            }
        }

        // Rewire inputs through casts, convert attributes of float16 nodes.
        var quantized = new List<QuantizedNode>();
        var skipped = new List<SkippedNode>();
        foreach (NodeProto node in nodes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!relevant.Contains(node) || TypeAgnostic.Contains(node.OpType))
            {
                continue;
            }

            for (int i = 0; i < node.Input.Count; i++)
            {
                string name = renamedFrom.GetValueOrDefault(node.Input[i], node.Input[i]);
                if (!IsFloat(name) || !stored.ContainsKey(name))
                {
                    continue;
                }

                int want = Wanted(node, i);
                if (!available.TryGetValue((name, want), out string? rewired))
                {
                    string from = available[(name, stored[name])];
                    rewired = graph.UniqueName(name + (want == Fp16 ? "_fp16" : "_fp32"));
                    added.Add(CastNode(graph, from, rewired, want));
                    available[(name, want)] = rewired;
                }

                node.Input[i] = rewired;
            }

            if (keepFloat32.TryGetValue(node, out string? reason))
            {
                skipped.Add(new SkippedNode(GraphEditor.Label(node), GraphEditor.QualifiedOp(node), reason));
                continue;
            }

            ConvertAttributes(node);
            quantized.Add(new QuantizedNode(GraphEditor.Label(node), GraphEditor.QualifiedOp(node), "float16", null));
        }

        graph.Graph.Node.AddRange(added);
        foreach (ValueInfoProto value in graph.Graph.ValueInfo)
        {
            if (value.Type?.TensorType is { } tensor && tensor.ElemType == Fp32 && stored.TryGetValue(value.Name, out int type))
            {
                tensor.ElemType = type;
            }
        }

        graph.Finish();
        return new QuantizationResult(OnnxModel.FromProto(graph.Proto), QuantizationMode.Float16, quantized, skipped);

        int Wanted(NodeProto node, int index) =>
            keepFloat32.ContainsKey(node) || !relevant.Contains(node) || Float32Inputs.Contains((node.OpType, index)) ? Fp32 : Fp16;

        bool ReadsOnlyAsFloat32(NodeProto node, string tensor) =>
            TypeAgnostic.Contains(node.OpType)
            || node.Input.Select((name, index) => (name, index)).Where(x => x.name == tensor).All(x => Float32Inputs.Contains((node.OpType, x.index)));
    }

    private static string? BlockReason(NodeProto node, Float16Options options, NodeSelection selection)
    {
        if (selection.IsExcluded(node))
        {
            return "excluded by name";
        }

        if (options.BlockedOpTypes.Contains(node.OpType))
        {
            return "operator kept float32 (block list)";
        }

        if (GraphEditor.IsDefaultDomain(node))
        {
            return Float32Only.Contains(node.OpType) ? "operator takes float32 only" : null;
        }

        return node.Domain == GraphEditor.MicrosoftDomain && MicrosoftFloat16.Contains(node.OpType) && !Float32Only.Contains(node.OpType)
            ? null
            : $"no float16 support known for {GraphEditor.QualifiedOp(node)}";
    }

    private static bool HasLargeFloatWeight(GraphEditor graph, NodeProto node) =>
        node.Input.Any(i => graph.ConstantInitializer(i) is { DataType: Fp32 } t && OnnxDataType.ElementCount(t.Dims) >= 1024);

    private static NodeProto CastNode(GraphEditor graph, string input, string output, int to)
    {
        var node = new NodeProto { Name = graph.UniqueName(output + "/Cast"), OpType = "Cast" };
        node.Input.Add(input);
        node.Output.Add(output);
        node.Attribute.Add(GraphEditor.IntAttribute("to", to));
        return node;
    }

    private static void ConvertAttributes(NodeProto node)
    {
        foreach (AttributeProto attribute in node.Attribute)
        {
            if (node.OpType == "Cast" && attribute.Name == "to" && attribute.I == Fp32)
            {
                attribute.I = Fp16;
            }
            else if (attribute.T is { DataType: Fp32 } tensor && node.OpType is "Constant" or "ConstantOfShape")
            {
                attribute.T = ToFloat16(tensor, tensor.Name);
            }
        }

        if (node.OpType == "ConstantOfShape" && !node.Attribute.Any(a => a.Name == "value"))
        {
            // The default value is a float32 zero: make it explicit in float16.
            node.Attribute.Add(new AttributeProto
            {
                Name = "value",
                Type = AttributeProto.Types.AttributeType.Tensor,
                T = TensorData.Float16(string.Empty, [(Half)0], 1),
            });
        }

        if (node.OpType == "Constant")
        {
            // value_float / value_floats: turn into a float16 tensor value.
            AttributeProto? scalar = node.Attribute.FirstOrDefault(a => a.Name == "value_float");
            AttributeProto? list = node.Attribute.FirstOrDefault(a => a.Name == "value_floats");
            if (scalar is not null || list is not null)
            {
                float[] values = scalar is not null ? [scalar.F] : list!.Floats.ToArray();
                long[] dims = scalar is not null ? [] : [values.Length];
                node.Attribute.Remove((scalar ?? list)!);
                node.Attribute.Add(new AttributeProto
                {
                    Name = "value",
                    Type = AttributeProto.Types.AttributeType.Tensor,
                    T = TensorData.Float16(string.Empty, values.Select(ToHalf).ToArray(), dims),
                });
            }
        }
    }

    internal static TensorProto ToFloat16(TensorProto tensor, string name)
    {
        float[] values = TensorData.ReadFloats(tensor);
        var halves = new Half[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            halves[i] = ToHalf(values[i]);
        }

        var converted = new TensorProto { Name = name, DataType = Fp16, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(halves.AsSpan())) };
        converted.Dims.AddRange(tensor.Dims);
        return converted;
    }

    /// <summary>float → half, finite values clamped to ±65504 (so -3.4e38 mask fills stay finite), infinities and NaN kept.</summary>
    internal static Half ToHalf(float value) =>
        float.IsFinite(value) ? (Half)Math.Clamp(value, -65504f, 65504f) : (Half)value;
}
