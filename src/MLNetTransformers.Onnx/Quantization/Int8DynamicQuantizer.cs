using MLNetTransformers.Onnx.Model;
using MLNetTransformers.Onnx.Protos;

namespace MLNetTransformers.Onnx.Quantization;

/// <summary>
/// Dynamic int8: each selected MatMul/Gemm A × W (+ C) becomes
/// <c>com.microsoft.DynamicQuantizeMatMul(A, W_int8, W_scale[, , bias])</c> with symmetric int8 weights (zero point 0, omitted),
/// one scale per tensor (a scalar) or per output column ([N]). ONNX Runtime quantizes A to uint8 per call (asymmetric, per
/// tensor) and runs an integer GEMM; Gemm's alpha is folded into the scales, beta·C into the bias, transB into the weight.
/// </summary>
internal static class Int8DynamicQuantizer
{
    public static QuantizationResult Quantize(OnnxModel source, Int8DynamicOptions options, CancellationToken cancellationToken)
    {
        var graph = new GraphEditor(source, cancellationToken);
        var (candidates, skipped) = MatMulCandidates.Find(graph, options);
        int qmax = options.ReduceRange ? 63 : 127;
        var cache = new Dictionary<(string, bool, float), (string Values, string Scales)>();
        var quantized = new List<QuantizedNode>();
        foreach (MatMulCandidate candidate in candidates)
        {
            cancellationToken.ThrowIfCancellationRequested();
            NodeProto node = candidate.Node;
            var key = (candidate.Weight.Name, candidate.WeightTransposed, candidate.Alpha);
            if (!cache.TryGetValue(key, out var names))
            {
                Int8Weight weight = WeightQuantization.QuantizeInt8(candidate.ReadWeight(), candidate.K, candidate.N, options.PerChannel, qmax);
                names = (graph.UniqueName(candidate.Weight.Name + "_int8"), graph.UniqueName(candidate.Weight.Name + "_scale"));
                graph.AddInitializer(TensorData.Int8(names.Values, weight.Values, candidate.K, candidate.N));
                graph.AddInitializer(options.PerChannel ? TensorData.Floats(names.Scales, weight.Scales, candidate.N) : TensorData.Floats(names.Scales, weight.Scales));
                cache[key] = names;
            }

            var replacement = new NodeProto { Name = node.Name, OpType = "DynamicQuantizeMatMul", Domain = GraphEditor.MicrosoftDomain };
            replacement.Input.Add(node.Input[0]);
            replacement.Input.Add(names.Values);
            replacement.Input.Add(names.Scales);
            if (candidate.Bias is not null)
            {
                string bias = graph.UniqueName(GraphEditor.Label(node) + "_bias");
                graph.AddInitializer(TensorData.Floats(bias, candidate.Bias, candidate.N));
                replacement.Input.Add(string.Empty);
                replacement.Input.Add(bias);
            }

            replacement.Output.Add(node.Output[0]);
            graph.Replace(node, replacement);
            quantized.Add(new QuantizedNode(GraphEditor.Label(node), node.OpType, "com.microsoft.DynamicQuantizeMatMul", candidate.Weight.Name));
        }

        if (quantized.Count > 0)
        {
            graph.EnsureOpset(GraphEditor.MicrosoftDomain, 1);
        }

        graph.Finish();
        return new QuantizationResult(OnnxModel.FromProto(graph.Proto), QuantizationMode.Int8Dynamic, quantized, skipped);
    }
}
