using MLNetTransformers.Onnx.Model;
using MLNetTransformers.Onnx.Protos;

namespace MLNetTransformers.Onnx.Quantization;

/// <summary>An embedding table to quantize: the Gathers that read it, and whether it is shared with a quantized output projection.</summary>
/// <param name="Table">The float32 [rows, columns] initializer.</param>
/// <param name="Gathers">The Gather nodes (axis 0) reading it.</param>
/// <param name="Shared">
/// True when a quantized MatMul/Gemm reads it transposed (a tied output projection): the Gathers then read the projection's int8
/// [columns, rows] weight and its per-row scales.
/// </param>
internal sealed record EmbeddingTable(TensorProto Table, IReadOnlyList<NodeProto> Gathers, bool Shared)
{
    public int Rows => (int)Table.Dims[0];

    public int Columns => (int)Table.Dims[1];
}

/// <summary>
/// Embedding tables in dynamic int8 (<see cref="Int8DynamicOptions.QuantizeEmbeddings"/>): which Gather nodes can read an int8
/// table with per-row scales, and the rewrite. For a table of its own, [rows, columns] int8 and scales [rows, 1]:
/// <c>Mul(Cast(Gather(q, ids)), Gather(scales, ids))</c>. For a table shared with a tied output projection, whose
/// <c>DynamicQuantizeMatMul</c> weight is the int8 transpose [columns, rows] with one scale per row of the table (per output
/// column of the projection, [rows]): <c>Transpose(Mul(Cast(Gather(qᵀ, ids, axis=1)), Gather(scales, ids)), perm=[1, …, r, 0])</c>
/// where r is the rank of the indices; when that rank is not declared, the indices are flattened first and the result
/// reshaped to <c>shape(ids) + [columns]</c>. Either way only the gathered rows are converted to float32, and the result is
/// exactly <c>q · scale</c> of each gathered row.
/// </summary>
internal static class Int8Embeddings
{
    public static bool IsGather(NodeProto node) => node.OpType == "Gather" && GraphEditor.IsDefaultDomain(node);

    /// <summary>
    /// The tables to quantize. Gathers of constant float32 2-D tables that cannot be are added to <paramref name="skipped"/> with
    /// the reason (an error when the include list names them); other Gathers (of shapes, of activations) are not embedding
    /// lookups and are not reported.
    /// </summary>
    public static List<EmbeddingTable> Plan(GraphEditor graph, Int8DynamicOptions options, IReadOnlyList<MatMulCandidate> candidates, List<SkippedNode> skipped)
    {
        NodeSelection selection = options.Selection;
        var byTable = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        foreach (NodeProto node in graph.Graph.Node)
        {
            if (!IsGather(node))
            {
                continue;
            }

            TensorProto? table = node.Input.Count >= 2 && node.Output.Count >= 1 ? graph.ConstantInitializer(node.Input[0]) : null;
            if (table is null || table.DataType != (int)TensorProto.Types.DataType.Float || table.Dims.Count != 2
                || table.Dims[0] <= 0 || table.Dims[1] <= 0 || table.Dims[0] * table.Dims[1] > int.MaxValue)
            {
                if (selection.IsExplicitlyIncluded(node))
                {
                    throw Unsupported(node, "its data is not a constant float32 [rows, columns] table (an embedding)");
                }

                continue;
            }

            if (selection.IsExcluded(node))
            {
                skipped.Add(new SkippedNode(GraphEditor.Label(node), node.OpType, "excluded by name"));
                continue;
            }

            long axis = GraphEditor.GetInt(node, "axis") ?? 0;
            if (axis is not (0 or -2))
            {
                Skip(node, $"it gathers along axis {axis}, not rows of its table");
                continue;
            }

            if (graph.DefaultOpset < 7)
            {
                Skip(node, $"the model imports opset {graph.DefaultOpset}; the int8 lookup needs opset 7 (broadcasting Mul)");
                continue;
            }

            if (!byTable.TryGetValue(table.Name, out var gathers))
            {
                byTable[table.Name] = gathers = [];
            }

            gathers.Add(node);
        }

        var quantizedNodes = candidates.Select(c => c.Node).ToHashSet(NodeIdentity.Instance);
        var transposes = candidates.Where(c => c.Transpose is not null).Select(c => c.Transpose!).ToHashSet(NodeIdentity.Instance);
        var plan = new List<EmbeddingTable>();
        foreach (var (name, gathers) in byTable)
        {
            TensorProto table = graph.Initializers[name];
            var lookups = gathers.ToHashSet(NodeIdentity.Instance);
            string? floatReader = graph.GraphOutputs.Contains(name) ? "a graph output" : null;
            foreach (NodeProto reader in graph.Consumers(name))
            {
                if (floatReader is not null)
                {
                    break;
                }

                // Subgraph readers (If/Loop bodies) are none of these, so they keep the table float.
                bool rewritten = lookups.Contains(reader) ? reader.Input.Skip(1).All(i => i != name)
                    : quantizedNodes.Contains(reader) ? reader.Input[0] != name && reader.Input.Skip(2).All(i => i != name)
                    : transposes.Contains(reader) && TransposeDisappears(graph, reader, quantizedNodes);
                if (!rewritten)
                {
                    floatReader = $"'{GraphEditor.Label(reader)}'";
                }
            }

            if (floatReader is not null)
            {
                foreach (NodeProto gather in gathers)
                {
                    Skip(gather, $"its table '{name}' is also read as float32 by {floatReader} (kept float), so an int8 copy would only add bytes");
                }

                continue;
            }

            bool shared = candidates.Any(c => c.Weight.Name == name && c.WeightTransposed && c.Alpha == 1f);
            long elements = table.Dims[0] * table.Dims[1];
            if (!shared && elements < options.MinimumEmbeddingElements)
            {
                foreach (NodeProto gather in gathers)
                {
                    Skip(gather, $"its table '{name}' has {elements} values, fewer than MinimumEmbeddingElements ({options.MinimumEmbeddingElements})");
                }

                continue;
            }

            plan.Add(new EmbeddingTable(table, gathers, shared));
        }

        return plan;

        void Skip(NodeProto node, string reason)
        {
            if (selection.IsExplicitlyIncluded(node))
            {
                throw Unsupported(node, reason);
            }

            skipped.Add(new SkippedNode(GraphEditor.Label(node), node.OpType, reason));
        }

        UnsupportedModelException Unsupported(NodeProto node, string reason) =>
            new(GraphEditor.Label(node), GraphEditor.QualifiedOp(node), $"Node '{GraphEditor.Label(node)}' ({GraphEditor.QualifiedOp(node)}) cannot be quantized to {QuantizationModes.Name(options.Mode)}: {reason}.");
    }

    /// <summary>True when every reader of the Transpose's output is a quantized node reading it as its weight (so the Transpose goes).</summary>
    private static bool TransposeDisappears(GraphEditor graph, NodeProto transpose, HashSet<NodeProto> quantizedNodes)
    {
        string output = transpose.Output.FirstOrDefault() ?? string.Empty;
        return output.Length > 0 && !graph.GraphOutputs.Contains(output)
            && graph.Consumers(output).All(c => quantizedNodes.Contains(c) && c.Input[1] == output && c.Input[0] != output && c.Input.Skip(2).All(i => i != output));
    }

    /// <summary>
    /// Rewrites the Gathers of the planned tables. <paramref name="sharedWeights"/> gives, for each shared table, the names of
    /// the projection's int8 [columns, rows] weight and its [rows] scales.
    /// </summary>
    public static void Rewrite(GraphEditor graph, IReadOnlyList<EmbeddingTable> plan, IReadOnlyDictionary<string, (string Values, string Scales, string Projection)> sharedWeights, List<QuantizedNode> quantized, CancellationToken cancellationToken)
    {
        foreach (EmbeddingTable table in plan)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string name = table.Table.Name;
            string values, scales, replacement;
            if (table.Shared)
            {
                (values, scales, string projection) = sharedWeights[name];
                replacement = $"Gather(int8) of the table shared with '{projection}' (com.microsoft.DynamicQuantizeMatMul)";
            }
            else
            {
                Int8Weight weight = WeightQuantization.QuantizeInt8Rows(TensorData.ReadFloats(table.Table), table.Rows, table.Columns, 127, cancellationToken);
                values = graph.UniqueName(name + "_int8");
                scales = graph.UniqueName(name + "_row_scale");
                graph.AddInitializer(TensorData.Int8(values, weight.Values, table.Rows, table.Columns));
                graph.AddInitializer(TensorData.Floats(scales, weight.Scales, table.Rows, 1));
                replacement = "Gather(int8)+Cast+Mul(row scale)";
            }

            foreach (NodeProto gather in table.Gathers)
            {
                var nodes = table.Shared ? SharedLookup(graph, gather, values, scales, table.Columns) : OwnLookup(graph, gather, values, scales);
                graph.Replace(gather, nodes);
                quantized.Add(new QuantizedNode(GraphEditor.Label(gather), gather.OpType, replacement, name));
            }
        }
    }

    /// <summary><c>Mul(Cast(Gather(q [rows, columns], ids)), Gather(scales [rows, 1], ids))</c>: [*ids, columns].</summary>
    private static List<NodeProto> OwnLookup(GraphEditor graph, NodeProto gather, string values, string scales)
    {
        var nodes = new Nodes(graph, gather);
        string ids = gather.Input[1];
        string rows = nodes.Add("Gather", "int8_rows", [values, ids], GraphEditor.IntAttribute("axis", 0));
        string floats = nodes.Add("Cast", "to_float", [rows], GraphEditor.IntAttribute("to", (long)TensorProto.Types.DataType.Float));
        string rowScales = nodes.Add("Gather", "row_scales", [scales, ids], GraphEditor.IntAttribute("axis", 0));
        nodes.Add("Mul", "scaled", [floats, rowScales], output: gather.Output[0]);
        return nodes.List;
    }

    /// <summary>
    /// The rows of the table from its int8 transpose qᵀ [columns, rows]: gather its columns (axis 1), scale, move the columns
    /// axis last.
    /// </summary>
    private static List<NodeProto> SharedLookup(GraphEditor graph, NodeProto gather, string values, string scales, int columns)
    {
        var nodes = new Nodes(graph, gather);
        string ids = gather.Input[1];
        int? rank = graph.DeclaredRank(ids);
        string lookup = ids;
        if (rank is null)
        {
            string flat = graph.UniqueName(ids + "_flat");
            graph.AddInitializer(TensorData.Int64s(flat, [-1], 1));
            lookup = nodes.Add("Reshape", "flatten_ids", [ids, flat]);
        }

        string gathered = nodes.Add("Gather", "int8_columns", [values, lookup], GraphEditor.IntAttribute("axis", 1));
        string floats = nodes.Add("Cast", "to_float", [gathered], GraphEditor.IntAttribute("to", (long)TensorProto.Types.DataType.Float));
        string rowScales = nodes.Add("Gather", "row_scales", [scales, lookup], GraphEditor.IntAttribute("axis", 0));
        if (rank == 0)
        {
            nodes.Add("Mul", "scaled", [floats, rowScales], output: gather.Output[0]);
            return nodes.List;
        }

        string scaled = nodes.Add("Mul", "scaled", [floats, rowScales]);
        int r = rank ?? 1;
        long[] perm = [.. Enumerable.Range(1, r).Select(i => (long)i), 0];
        if (rank is not null)
        {
            nodes.Add("Transpose", "columns_last", [scaled], GraphEditor.IntsAttribute("perm", perm), output: gather.Output[0]);
            return nodes.List;
        }

        string rows = nodes.Add("Transpose", "columns_last", [scaled], GraphEditor.IntsAttribute("perm", perm));
        string width = graph.UniqueName(gather.Output[0] + "_width");
        graph.AddInitializer(TensorData.Int64s(width, [columns], 1));
        string idsShape = nodes.Add("Shape", "ids_shape", [ids]);
        string shape = nodes.Add("Concat", "output_shape", [idsShape, width], GraphEditor.IntAttribute("axis", 0));
        nodes.Add("Reshape", "unflatten", [rows, shape], output: gather.Output[0]);
        return nodes.List;
    }

    /// <summary>Builds the nodes replacing one Gather, named after it.</summary>
    private sealed class Nodes(GraphEditor graph, NodeProto gather)
    {
        private readonly string _prefix = string.IsNullOrEmpty(gather.Name) ? gather.Output[0] : gather.Name;

        public List<NodeProto> List { get; } = [];

        public string Add(string opType, string step, string[] inputs, AttributeProto? attribute = null, string? output = null)
        {
            var node = new NodeProto { Name = graph.UniqueName($"{_prefix}/{step}"), OpType = opType };
            node.Input.AddRange(inputs);
            output ??= graph.UniqueName($"{gather.Output[0]}/{step}");
            node.Output.Add(output);
            if (attribute is not null)
            {
                node.Attribute.Add(attribute);
            }

            List.Add(node);
            return output;
        }
    }
}
