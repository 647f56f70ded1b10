using MLNetTransformers.Onnx.Model;
using MLNetTransformers.Onnx.Protos;

namespace MLNetTransformers.Onnx.Quantization;

/// <summary>
/// Static int8 in QDQ format. For each selected MatMul/Gemm A × W: A → <c>QuantizeLinear</c>(scale, uint8 zero point from the
/// calibrated range widened to include 0) → <c>DequantizeLinear</c> → the node (one pair per activation tensor, shared by
/// its consumers); W is stored int8 (symmetric, int8 zero point 0, per tensor or per output column with <c>axis</c>) →
/// <c>DequantizeLinear</c> → the node. The MatMul/Gemm itself stays; ONNX Runtime fuses the pattern into integer kernels.
/// </summary>
internal static class StaticQuantizer
{
    public static QuantizationResult Quantize(OnnxModel source, CalibrationTable table, Int8StaticOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(table);
        var graph = new GraphEditor(source, cancellationToken);
        var (candidates, skipped) = MatMulCandidates.Find(graph, options, gemmNeedsUntransposedA: false);
        long opset = graph.DefaultOpset;
        long needed = options.PerChannel ? 13 : 10;
        if (candidates.Count > 0 && opset < needed)
        {
            NodeProto first = candidates[0].Node;
            throw new UnsupportedModelException(GraphEditor.Label(first), first.OpType,
                $"Node '{GraphEditor.Label(first)}' ({first.OpType}) cannot be quantized to {QuantizationModes.Name(options.Mode)}: the model imports opset {opset}, and "
                + (options.PerChannel ? "per-channel DequantizeLinear (axis) needs opset 13" : "QuantizeLinear/DequantizeLinear need opset 10") + ".");
        }

        var activations = new Dictionary<string, string>(StringComparer.Ordinal);
        var weights = new Dictionary<string, string>(StringComparer.Ordinal);
        var added = new List<NodeProto>();
        var quantized = new List<QuantizedNode>();
        foreach (MatMulCandidate candidate in candidates)
        {
            cancellationToken.ThrowIfCancellationRequested();
            NodeProto node = candidate.Node;
            string a = node.Input[0];
            if (graph.ConstantInitializer(a) is not null)
            {
                skipped.Add(new SkippedNode(GraphEditor.Label(node), node.OpType, "its first input is constant too"));
                continue;
            }

            if (!table.Ranges.TryGetValue(a, out ActivationRange? range))
            {
                throw new CalibrationException($"The calibration table has no range for '{a}', the input of node '{GraphEditor.Label(node)}' ({node.OpType}): calibrate with the same node selection.");
            }

            if (!activations.TryGetValue(a, out string? aDequantized))
            {
                (float scale, byte zeroPoint) = ActivationParameters(range.Min, range.Max);
                string scaleName = graph.UniqueName(a + "_scale"), zpName = graph.UniqueName(a + "_zero_point");
                graph.AddInitializer(TensorData.Floats(scaleName, [scale]));
                graph.AddInitializer(TensorData.UInt8(zpName, [zeroPoint]));
                string q = graph.UniqueName(a + "_quantized");
                aDequantized = graph.UniqueName(a + "_dequantized");
                added.Add(Node(graph, "QuantizeLinear", [a, scaleName, zpName], q, null));
                added.Add(Node(graph, "DequantizeLinear", [q, scaleName, zpName], aDequantized, null));
                activations[a] = aDequantized;
            }

            if (!weights.TryGetValue(candidate.Weight.Name, out string? wDequantized))
            {
                // Quantized in MatMul orientation [K, N] (per output column), stored back in the weight's own layout.
                float[] raw = TensorData.ReadFloats(candidate.Weight);
                float[] kn = candidate.WeightTransposed ? WeightQuantization.Transpose(raw, candidate.N, candidate.K) : raw;
                Int8Weight weight = WeightQuantization.QuantizeInt8(kn, candidate.K, candidate.N, options.PerChannel, 127);
                sbyte[] values = weight.Values;
                if (candidate.WeightTransposed)
                {
                    values = new sbyte[weight.Values.Length];
                    for (int k = 0; k < candidate.K; k++)
                    {
                        for (int n = 0; n < candidate.N; n++)
                        {
                            values[(n * candidate.K) + k] = weight.Values[(k * candidate.N) + n];
                        }
                    }
                }

                string w = candidate.Weight.Name;
                string valuesName = graph.UniqueName(w + "_int8"), scaleName = graph.UniqueName(w + "_scale"), zpName = graph.UniqueName(w + "_zero_point");
                graph.AddInitializer(TensorData.Int8(valuesName, values, [.. candidate.Weight.Dims]));
                if (options.PerChannel)
                {
                    graph.AddInitializer(TensorData.Floats(scaleName, weight.Scales, candidate.N));
                    graph.AddInitializer(TensorData.Int8(zpName, new sbyte[candidate.N], candidate.N));
                }
                else
                {
                    graph.AddInitializer(TensorData.Floats(scaleName, weight.Scales));
                    graph.AddInitializer(TensorData.Int8(zpName, [(sbyte)0]));
                }

                wDequantized = graph.UniqueName(w + "_dequantized");
                added.Add(Node(graph, "DequantizeLinear", [valuesName, scaleName, zpName], wDequantized, options.PerChannel ? (candidate.WeightTransposed ? 0 : 1) : null));
                weights[candidate.Weight.Name] = wDequantized;
            }

            node.Input[0] = aDequantized;
            node.Input[1] = wDequantized;
            quantized.Add(new QuantizedNode(GraphEditor.Label(node), node.OpType, node.OpType + " (QDQ)", candidate.Weight.Name));
        }

        graph.Graph.Node.AddRange(added);
        graph.Finish();
        return new QuantizationResult(OnnxModel.FromProto(graph.Proto), QuantizationMode.Int8Static, quantized, skipped);
    }

    /// <summary>uint8 asymmetric parameters of a range widened to include 0: scale = (max - min) / 255, zero point = round(-min / scale).</summary>
    internal static (float Scale, byte ZeroPoint) ActivationParameters(float min, float max)
    {
        min = MathF.Min(min, 0);
        max = MathF.Max(max, 0);
        float scale = (max - min) / 255f;
        if (!(scale > 0) || !float.IsFinite(scale))
        {
            return (1f, 0);
        }

        return (scale, (byte)Math.Clamp(MathF.Round(-min / scale), 0, 255));
    }

    private static NodeProto Node(GraphEditor graph, string op, string[] inputs, string output, long? axis)
    {
        var node = new NodeProto { Name = graph.UniqueName(output + "/" + op), OpType = op };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        if (axis is { } a)
        {
            node.Attribute.Add(GraphEditor.IntAttribute("axis", a));
        }

        return node;
    }
}
