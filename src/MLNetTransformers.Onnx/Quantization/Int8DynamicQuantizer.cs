using MLNetTransformers.Onnx.Model;
using MLNetTransformers.Onnx.Protos;

namespace MLNetTransformers.Onnx.Quantization;

/// <summary>
/// Dynamic int8: each selected MatMul/Gemm A × W (+ C) becomes
/// <c>com.microsoft.DynamicQuantizeMatMul(A, W_int8, W_scale[, , bias])</c> with symmetric int8 weights (zero point 0, omitted),
/// one scale per tensor (a scalar) or per output column ([N]). ONNX Runtime quantizes A to uint8 per call (asymmetric, per
/// tensor) and runs an integer GEMM; Gemm's alpha is folded into the scales, beta·C into the bias, transB into the weight. A
/// weight read through a 2-D <c>Transpose</c> of an initializer (a tied output projection, <c>MatMul(x, Transpose(wte))</c>)
/// is quantized transposed and the Transpose goes. Embedding tables (Gathers of rows of constant tables) become int8 with
/// per-row scales, a tied one sharing the projection's int8 weight (<see cref="Int8Embeddings"/>).
/// </summary>
internal static class Int8DynamicQuantizer
{
    public static QuantizationResult Quantize(OnnxModel source, Int8DynamicOptions options, CancellationToken cancellationToken)
    {
        if (options.MinimumEmbeddingElements < 0)
        {
            throw new ArgumentException($"MinimumEmbeddingElements must not be negative (got {options.MinimumEmbeddingElements}).", nameof(options));
        }

        var graph = new GraphEditor(source, cancellationToken);
        var (candidates, skipped) = MatMulCandidates.Find(graph, options, followTranspose: true,
            handledElsewhere: options.QuantizeEmbeddings ? Int8Embeddings.IsGather : null);
        List<EmbeddingTable> embeddings = options.QuantizeEmbeddings ? Int8Embeddings.Plan(graph, options, candidates, skipped) : [];
        var sharedTables = embeddings.Where(t => t.Shared).Select(t => t.Table.Name).ToHashSet(StringComparer.Ordinal);
        var shared = new Dictionary<string, (string Values, string Scales, string Projection)>(StringComparer.Ordinal);
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
                // A table shared with embedding lookups gets one scale per row of the table (per output column here): the
                // lookups scale the rows they gather by it.
                bool sharedTable = candidate.WeightTransposed && candidate.Alpha == 1f && sharedTables.Contains(candidate.Weight.Name);
                bool perChannel = options.PerChannel || sharedTable;
                Int8Weight weight = WeightQuantization.QuantizeInt8(candidate.ReadWeight(), candidate.K, candidate.N, perChannel, qmax);
                names = (graph.UniqueName(candidate.Weight.Name + "_int8"), graph.UniqueName(candidate.Weight.Name + "_scale"));
                graph.AddInitializer(TensorData.Int8(names.Values, weight.Values, candidate.K, candidate.N));
                graph.AddInitializer(perChannel ? TensorData.Floats(names.Scales, weight.Scales, candidate.N) : TensorData.Floats(names.Scales, weight.Scales));
                cache[key] = names;
                if (sharedTable)
                {
                    shared[candidate.Weight.Name] = (names.Values, names.Scales, GraphEditor.Label(node));
                }
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

        // Transposes of weights that nothing reads any more (the quantized weight is stored transposed instead).
        foreach (NodeProto transpose in candidates.Where(c => c.Transpose is not null).Select(c => c.Transpose!).Distinct(NodeIdentity.Instance).ToList())
        {
            if (graph.Consumers(transpose.Output[0]).Count == 0 && !graph.GraphOutputs.Contains(transpose.Output[0]))
            {
                graph.Remove(transpose);
            }
        }

        Int8Embeddings.Rewrite(graph, embeddings, shared, quantized, cancellationToken);
        if (candidates.Count > 0)
        {
            graph.EnsureOpset(GraphEditor.MicrosoftDomain, 1);
        }

        graph.Finish();
        return new QuantizationResult(OnnxModel.FromProto(graph.Proto), QuantizationMode.Int8Dynamic, quantized, skipped);
    }
}
