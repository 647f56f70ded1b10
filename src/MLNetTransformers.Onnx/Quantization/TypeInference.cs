using Google.Protobuf;
using MLNetTransformers.Onnx.Protos;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Onnx.Quantization;

/// <summary>
/// Element types of every tensor of a main graph. What the file declares (inputs, outputs, initializers, value_info) is used as
/// is; the rest comes from ONNX Runtime's own type inference: a copy of the graph without its weight data (large initializers
/// become typed graph inputs) and with every node output declared as an untyped graph output is loaded, optimizations off, and
/// the session's output metadata read back.
/// </summary>
internal static class TypeInference
{
    private const int KeepInlineBytes = 4096;

    public static Dictionary<string, int> ElementTypes(ModelProto model, CancellationToken cancellationToken)
    {
        GraphProto graph = model.Graph;
        var types = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (TensorProto tensor in graph.Initializer)
        {
            types[tensor.Name] = tensor.DataType;
        }

        foreach (ValueInfoProto value in graph.Input.Concat(graph.ValueInfo).Concat(graph.Output))
        {
            if (value.Type?.TensorType is { ElemType: > 0 } tensor)
            {
                types.TryAdd(value.Name, tensor.ElemType);
            }
        }

        var missing = graph.Node.SelectMany(n => n.Output).Where(o => o.Length > 0 && !types.ContainsKey(o)).Distinct(StringComparer.Ordinal).ToList();
        if (missing.Count == 0)
        {
            return types;
        }

        cancellationToken.ThrowIfCancellationRequested();
        ModelProto probe = StructureOnly(model);
        probe.Graph.Output.Clear();
        foreach (string name in missing)
        {
            probe.Graph.Output.Add(new ValueInfoProto { Name = name });
        }

        InferenceSession session;
        try
        {
            session = new InferenceSession(probe.ToByteArray(), new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.DisableAll, IntraOpThreads = 1, InterOpThreads = 1 });
        }
        catch (OnnxRuntimeException ex)
        {
            throw new UnsupportedModelException($"ONNX Runtime cannot load the model to infer its tensor types: {ex.Message}", ex);
        }

        using (session)
        {
            foreach (NodeMetadata output in session.OutputMetadata)
            {
                if (output.ValueType == OnnxValueType.Tensor && output.ElementType != TensorElementType.Undefined)
                {
                    types.TryAdd(output.Name, (int)output.ElementType);
                }
            }
        }

        return types;
    }

    /// <summary>The model with every initializer above a few kilobytes turned into a graph input of the same type and shape.</summary>
    private static ModelProto StructureOnly(ModelProto model)
    {
        // Shares the (unmodified) messages of the source instead of cloning them, weights included.
        var copy = new ModelProto { IrVersion = model.IrVersion, Graph = new GraphProto { Name = model.Graph.Name } };
        copy.OpsetImport.AddRange(model.OpsetImport);
        copy.Functions.AddRange(model.Functions);
        copy.Graph.Node.AddRange(model.Graph.Node);
        copy.Graph.Input.AddRange(model.Graph.Input);
        copy.Graph.ValueInfo.AddRange(model.Graph.ValueInfo);
        copy.Graph.SparseInitializer.AddRange(model.Graph.SparseInitializer);
        var inputs = copy.Graph.Input.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        foreach (TensorProto tensor in model.Graph.Initializer)
        {
            long bytes = tensor.RawData.Length + (tensor.FloatData.Count * 4L) + (tensor.Int64Data.Count * 8L) + (tensor.Int32Data.Count * 4L) + (tensor.DoubleData.Count * 8L);
            if (bytes <= KeepInlineBytes || tensor.DataType == (int)TensorProto.Types.DataType.String)
            {
                copy.Graph.Initializer.Add(tensor);
                continue;
            }

            if (!inputs.Contains(tensor.Name))
            {
                var shape = new TensorShapeProto();
                shape.Dim.AddRange(tensor.Dims.Select(d => new TensorShapeProto.Types.Dimension { DimValue = d }));
                copy.Graph.Input.Add(new ValueInfoProto
                {
                    Name = tensor.Name,
                    Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = tensor.DataType, Shape = shape } },
                });
            }
        }

        return copy;
    }
}
