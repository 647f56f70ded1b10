using MLNetTransformers.Onnx.Model;
using MLNetTransformers.Onnx.Protos;

namespace MLNetTransformers.Onnx.Quantization;

/// <summary>
/// 4-bit weight-only: each selected MatMul/Gemm A × W (+ C) becomes
/// <c>com.microsoft.MatMulNBits(A, B, scales[, zero_points][, , bias])</c> with attributes K, N, bits=4, block_size and (when
/// set) accuracy_level; B, scales and zero points are laid out as <see cref="Int4Weight"/> describes.
/// </summary>
internal static class Int4Quantizer
{
    public static QuantizationResult Quantize(OnnxModel source, Int4Options options, CancellationToken cancellationToken)
    {
        if (options.BlockSize < 16 || options.BlockSize > 256 || (options.BlockSize & (options.BlockSize - 1)) != 0)
        {
            throw new ArgumentException($"The int4 block size must be a power of two from 16 to 256, not {options.BlockSize}.", nameof(options));
        }

        if (options.AccuracyLevel is < 0 or > 4)
        {
            throw new ArgumentException($"The accuracy level must be 0 (unset) to 4 (int8), not {options.AccuracyLevel}.", nameof(options));
        }

        var graph = new GraphEditor(source, cancellationToken);
        var (candidates, skipped) = MatMulCandidates.Find(graph, options);
        var cache = new Dictionary<(string, bool, float), (string B, string Scales, string? ZeroPoints)>();
        var quantized = new List<QuantizedNode>();
        foreach (MatMulCandidate candidate in candidates)
        {
            cancellationToken.ThrowIfCancellationRequested();
            NodeProto node = candidate.Node;
            int blocks = (candidate.K + options.BlockSize - 1) / options.BlockSize;
            var key = (candidate.Weight.Name, candidate.WeightTransposed, candidate.Alpha);
            if (!cache.TryGetValue(key, out var names))
            {
                Int4Weight weight = WeightQuantization.QuantizeInt4(candidate.ReadWeight(), candidate.K, candidate.N, options.BlockSize, options.Symmetric, cancellationToken);
                names = (graph.UniqueName(candidate.Weight.Name + "_q4"), graph.UniqueName(candidate.Weight.Name + "_scales"),
                    weight.ZeroPoints is null ? null : graph.UniqueName(candidate.Weight.Name + "_zero_points"));
                graph.AddInitializer(TensorData.UInt8(names.B, weight.Packed, candidate.N, blocks, options.BlockSize / 2));
                graph.AddInitializer(TensorData.Floats(names.Scales, weight.Scales, candidate.N, blocks));
                if (names.ZeroPoints is not null)
                {
                    graph.AddInitializer(TensorData.UInt8(names.ZeroPoints, weight.ZeroPoints, candidate.N, (blocks + 1) / 2));
                }

                cache[key] = names;
            }

            var replacement = new NodeProto { Name = node.Name, OpType = "MatMulNBits", Domain = GraphEditor.MicrosoftDomain };
            replacement.Input.Add(node.Input[0]);
            replacement.Input.Add(names.B);
            replacement.Input.Add(names.Scales);
            if (names.ZeroPoints is not null || candidate.Bias is not null)
            {
                replacement.Input.Add(names.ZeroPoints ?? string.Empty);
            }

            if (candidate.Bias is not null)
            {
                string bias = graph.UniqueName(GraphEditor.Label(node) + "_bias");
                graph.AddInitializer(TensorData.Floats(bias, candidate.Bias, candidate.N));
                replacement.Input.Add(string.Empty); // g_idx
                replacement.Input.Add(bias);
            }

            replacement.Output.Add(node.Output[0]);
            replacement.Attribute.Add(GraphEditor.IntAttribute("K", candidate.K));
            replacement.Attribute.Add(GraphEditor.IntAttribute("N", candidate.N));
            replacement.Attribute.Add(GraphEditor.IntAttribute("bits", 4));
            replacement.Attribute.Add(GraphEditor.IntAttribute("block_size", options.BlockSize));
            if (options.AccuracyLevel > 0)
            {
                replacement.Attribute.Add(GraphEditor.IntAttribute("accuracy_level", options.AccuracyLevel));
            }

            graph.Replace(node, replacement);
            quantized.Add(new QuantizedNode(GraphEditor.Label(node), node.OpType, "com.microsoft.MatMulNBits", candidate.Weight.Name));
        }

        if (quantized.Count > 0)
        {
            graph.EnsureOpset(GraphEditor.MicrosoftDomain, 1);
        }

        graph.Finish();
        return new QuantizationResult(OnnxModel.FromProto(graph.Proto), QuantizationMode.Int4, quantized, skipped);
    }
}
