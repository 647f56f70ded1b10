using MLNetTransformers.Onnx.Protos;

namespace MLNetTransformers.Onnx.Quantization;

/// <summary>
/// A MatMul/Gemm computing A × W (+ bias) with a constant float32 weight, in MatMul orientation W: [K, N]. <see cref="Weight"/>
/// is the stored initializer ([N, K] when <see cref="WeightTransposed"/>); <see cref="Transpose"/> is the <c>Transpose</c> node
/// it is read through, when the node's input is <c>Transpose(initializer)</c> (a tied output projection, <c>MatMul(x, Transpose(wte))</c>).
/// </summary>
internal sealed record MatMulCandidate(NodeProto Node, TensorProto Weight, int K, int N, bool WeightTransposed, float Alpha, float[]? Bias, NodeProto? Transpose = null)
{
    /// <summary>The weight as a row-major [K, N] matrix with Gemm's alpha folded in.</summary>
    public float[] ReadWeight()
    {
        float[] raw = TensorData.ReadFloats(Weight);
        float[] w = WeightTransposed ? WeightQuantization.Transpose(raw, N, K) : raw;
        if (Alpha != 1f)
        {
            for (int i = 0; i < w.Length; i++)
            {
                w[i] *= Alpha;
            }
        }

        return w;
    }
}

/// <summary>Finds the MatMul/Gemm nodes a weight quantization can rewrite, and says why the others cannot be.</summary>
internal static class MatMulCandidates
{
    /// <summary>Finds the candidates.</summary>
    /// <param name="graph">The graph.</param>
    /// <param name="options">Selection and operator types.</param>
    /// <param name="gemmNeedsUntransposedA">Gemm with transA=1 is not a candidate.</param>
    /// <param name="followTranspose">
    /// A weight input produced by a 2-D <c>Transpose</c> of a constant initializer counts as constant (the initializer, transposed).
    /// </param>
    /// <param name="handledElsewhere">Nodes the caller quantizes itself: neither candidates nor errors here.</param>
    public static (List<MatMulCandidate> Candidates, List<SkippedNode> Skipped) Find(GraphEditor graph, WeightQuantizationOptions options, bool gemmNeedsUntransposedA = true, bool followTranspose = false, Func<NodeProto, bool>? handledElsewhere = null)
    {
        NodeSelection selection = options.Selection;
        var candidates = new List<MatMulCandidate>();
        var skipped = new List<SkippedNode>();
        foreach (NodeProto node in graph.Graph.Node)
        {
            if (!GraphEditor.IsDefaultDomain(node) || node.OpType is not ("MatMul" or "Gemm"))
            {
                if (selection.IsExplicitlyIncluded(node) && handledElsewhere?.Invoke(node) != true)
                {
                    throw Unsupported(node, options, $"its operator {GraphEditor.QualifiedOp(node)} is not one {QuantizationModes.Name(options.Mode)} quantizes (MatMul, Gemm)");
                }

                continue;
            }

            string label = GraphEditor.Label(node);
            if (!options.OpTypes.Contains(node.OpType))
            {
                if (selection.IsExplicitlyIncluded(node))
                {
                    throw Unsupported(node, options, $"{node.OpType} is not in the operator types to quantize ({string.Join(", ", options.OpTypes)})");
                }

                skipped.Add(new SkippedNode(label, node.OpType, "operator type not selected"));
                continue;
            }

            if (selection.IsExcluded(node))
            {
                skipped.Add(new SkippedNode(label, node.OpType, "excluded by name"));
                continue;
            }

            if (options.KeepOutputProjection && !selection.IsExplicitlyIncluded(node) && node.Output.Any(graph.GraphOutputs.Contains))
            {
                skipped.Add(new SkippedNode(label, node.OpType, "produces a graph output (output projection kept float)"));
                continue;
            }

            (MatMulCandidate? candidate, string? reason) = Inspect(graph, node, gemmNeedsUntransposedA, followTranspose);
            if (candidate is not null)
            {
                candidates.Add(candidate);
            }
            else if (selection.IsExplicitlyIncluded(node))
            {
                throw Unsupported(node, options, reason!);
            }
            else
            {
                skipped.Add(new SkippedNode(label, node.OpType, reason!));
            }
        }

        return (candidates, skipped);
    }

    private static UnsupportedModelException Unsupported(NodeProto node, QuantizationOptions options, string reason) =>
        new(GraphEditor.Label(node), GraphEditor.QualifiedOp(node), $"Node '{GraphEditor.Label(node)}' ({GraphEditor.QualifiedOp(node)}) cannot be quantized to {QuantizationModes.Name(options.Mode)}: {reason}.");

    private static (MatMulCandidate?, string?) Inspect(GraphEditor graph, NodeProto node, bool gemmNeedsUntransposedA, bool followTranspose)
    {
        if (node.Input.Count < 2 || node.Output.Count < 1)
        {
            return (null, "it has fewer inputs than its operator needs");
        }

        TensorProto? weight = graph.ConstantInitializer(node.Input[1]);
        NodeProto? transpose = null;
        if (weight is null && followTranspose && TransposedInitializer(graph, node.Input[1]) is { } source)
        {
            (weight, transpose) = source;
        }

        if (weight is null)
        {
            return (null, graph.Initializers.ContainsKey(node.Input[1])
                ? "its weight is also a graph input, so it is not constant"
                : "its second input is not a constant initializer (an activation × activation product)");
        }

        if (weight.DataType != (int)TensorProto.Types.DataType.Float)
        {
            return (null, $"its weight is {Model.OnnxDataType.Name(weight.DataType)}, not float32");
        }

        if (weight.Dims.Count != 2 || weight.Dims[0] <= 0 || weight.Dims[1] <= 0 || weight.Dims[0] * weight.Dims[1] > int.MaxValue)
        {
            return (null, $"its weight has {weight.Dims.Count} dimensions, not 2");
        }

        int rows = (int)weight.Dims[0], cols = (int)weight.Dims[1];
        bool viaTranspose = transpose is not null;
        if (node.OpType == "MatMul")
        {
            return viaTranspose
                ? (new MatMulCandidate(node, weight, cols, rows, true, 1f, null, transpose), null)
                : (new MatMulCandidate(node, weight, rows, cols, false, 1f, null), null);
        }

        if (gemmNeedsUntransposedA && GraphEditor.GetInt(node, "transA") is 1)
        {
            return (null, "Gemm with transA=1 is not supported");
        }

        bool transB = (GraphEditor.GetInt(node, "transB") is 1) != viaTranspose;
        int k = transB ? cols : rows, n = transB ? rows : cols;
        float alpha = GraphEditor.GetFloat(node, "alpha") ?? 1f, beta = GraphEditor.GetFloat(node, "beta") ?? 1f;
        float[]? bias = null;
        if (node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            TensorProto? c = graph.ConstantInitializer(node.Input[2]);
            long count = c is null ? -1 : Model.OnnxDataType.ElementCount(c.Dims);
            bool perColumn = c is not null && c.DataType == (int)TensorProto.Types.DataType.Float
                && (count == 1 || (count == n && c.Dims.Count >= 1 && c.Dims[^1] == n));
            if (!perColumn)
            {
                return (null, "its bias C is not a constant float32 vector of N values");
            }

            float[] values = TensorData.ReadFloats(c!);
            bias = new float[n];
            for (int i = 0; i < n; i++)
            {
                bias[i] = beta * values[count == 1 ? 0 : i];
            }
        }

        return (new MatMulCandidate(node, weight, k, n, transB, alpha, bias, transpose), null);
    }

    /// <summary>
    /// The constant initializer behind <paramref name="tensor"/> when a main-graph <c>Transpose</c> with perm [1, 0] (or none:
    /// reversed axes) produces it from one, and that Transpose node.
    /// </summary>
    private static (TensorProto Weight, NodeProto Transpose)? TransposedInitializer(GraphEditor graph, string tensor)
    {
        if (graph.Producer(tensor) is not { OpType: "Transpose" } transpose || !GraphEditor.IsDefaultDomain(transpose) || transpose.Input.Count < 1)
        {
            return null;
        }

        TensorProto? source = graph.ConstantInitializer(transpose.Input[0]);
        IReadOnlyList<long>? perm = GraphEditor.GetInts(transpose, "perm");
        bool swaps = perm is null || perm.Count == 0 || (perm.Count == 2 && perm[0] == 1 && perm[1] == 0);
        return source is { Dims.Count: 2 } && swaps ? (source, transpose) : null;
    }
}
