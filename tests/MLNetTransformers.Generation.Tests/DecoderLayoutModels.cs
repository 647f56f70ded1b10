using MLNetTransformers.Onnx.Model;
using MLNetTransformers.Onnx.Protos;
using static MLNetTransformers.Onnx.Protos.TensorProto.Types;

namespace MLNetTransformers.Generation.Tests;

/// <summary>
/// Turns a decoder in the Optimum "with past" layout into the other layouts by editing its graph, so that every layout is tested
/// against the same weights and reference outputs: without past (empty pasts made inside the graph), Optimum's merged decoder
/// (a <c>use_cache_branch</c> input that must be false exactly when the past is empty: a wrong value corrupts the logits), and a
/// <c>decoder_model</c> + <c>decoder_with_past_model</c> pair (whose decode graph corrupts its logits when run with an empty past,
/// so that a prefill sent to the wrong graph shows).
/// </summary>
internal static class DecoderLayoutModels
{
    private const string Corruption = "layout_check_corruption";

    /// <summary>Writes a copy of <paramref name="source"/>'s folder (config, tokenizer) with the given ONNX files.</summary>
    public static string WriteFolder(string source, string target, params (string Name, ModelProto Model)[] files)
    {
        Directory.CreateDirectory(Path.Combine(target, "onnx"));
        foreach (string file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
        }

        foreach ((string name, ModelProto model) in files)
        {
            using OnnxModel onnx = OnnxModel.FromProto(model);
            onnx.Save(Path.Combine(target, "onnx", name));
        }

        return target;
    }

    public static ModelProto Load(string path)
    {
        using OnnxModel model = OnnxModel.Load(path);
        model.LoadExternalData();
        return model.Proto.Clone();
    }

    /// <summary>No past inputs: each past becomes an empty <c>[batch, kv_heads, 0, head_dim]</c> tensor built in the graph.</summary>
    public static ModelProto WithoutPast(ModelProto withPast, bool keepPresents)
    {
        ModelProto model = withPast.Clone();
        GraphProto graph = model.Graph;
        ValueInfoProto[] pasts = graph.Input.Where(i => i.Name.StartsWith("past_key_values.", StringComparison.Ordinal)).ToArray();
        Assert.IsNotEmpty(pasts);
        var dims = pasts[0].Type.TensorType.Shape.Dim;
        long heads = dims[1].DimValue;
        long headDim = dims[3].DimValue;
        Assert.IsTrue(heads > 0 && headDim > 0, "the past's head count and size are fixed");
        graph.Initializer.Add(OnnxTensors.Create("nopast_axis0", [0L], 1));
        graph.Initializer.Add(OnnxTensors.Create("nopast_rest", [heads, 0L, headDim], 3));
        graph.Node.Insert(0, Node("Shape", ["input_ids"], ["nopast_ids_shape"]));
        graph.Node.Insert(1, Node("Gather", ["nopast_ids_shape", "nopast_axis0"], ["nopast_batch"]));
        graph.Node.Insert(2, Node("Concat", ["nopast_batch", "nopast_rest"], ["nopast_shape"], ("axis", 0L)));
        var empty = Node("ConstantOfShape", ["nopast_shape"], ["nopast_empty"]);
        empty.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = OnnxTensors.Create("value", [0f], 1) });
        graph.Node.Insert(3, empty);
        int at = 4;
        foreach (ValueInfoProto past in pasts)
        {
            graph.Input.Remove(past);
            graph.Node.Insert(at++, Node("Identity", ["nopast_empty"], [past.Name]));
        }

        if (!keepPresents)
        {
            foreach (ValueInfoProto present in graph.Output.Where(o => o.Name.StartsWith("present.", StringComparison.Ordinal)).ToArray())
            {
                graph.Output.Remove(present);
            }
        }

        return model;
    }

    /// <summary>Adds Optimum's <c>use_cache_branch</c> input; the logits are corrupted unless it equals "the past is not empty".</summary>
    public static ModelProto Merged(ModelProto withPast)
    {
        ModelProto model = withPast.Clone();
        GraphProto graph = model.Graph;
        graph.Input.Add(new ValueInfoProto
        {
            Name = "use_cache_branch",
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Bool, Shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimValue = 1 } } } } },
        });
        string hasPast = AddPastIsNotEmpty(graph);
        graph.Node.Add(Node("Equal", ["use_cache_branch", hasPast], ["layout_check_ok"]));
        CorruptLogitsUnless(graph, "layout_check_ok");
        return model;
    }

    /// <summary>The decode graph of a pair: the logits are corrupted when the past is empty (a prefill belongs to the other graph).</summary>
    public static ModelProto DecodeOnly(ModelProto withPast)
    {
        ModelProto model = withPast.Clone();
        CorruptLogitsUnless(model.Graph, AddPastIsNotEmpty(model.Graph));
        return model;
    }

    private static string AddPastIsNotEmpty(GraphProto graph)
    {
        string first = graph.Input.First(i => i.Name.StartsWith("past_key_values.", StringComparison.Ordinal)).Name;
        graph.Initializer.Add(OnnxTensors.Create("layout_check_axis2", [2L], 1));
        graph.Initializer.Add(OnnxTensors.Create("layout_check_zero", [0L], 1));
        graph.Node.Add(Node("Shape", [first], ["layout_check_past_shape"]));
        graph.Node.Add(Node("Gather", ["layout_check_past_shape", "layout_check_axis2"], ["layout_check_past_length"]));
        graph.Node.Add(Node("Greater", ["layout_check_past_length", "layout_check_zero"], ["layout_check_has_past"]));
        return "layout_check_has_past";
    }

    /// <summary>Renames the node output <c>logits</c> and makes the graph output <c>logits</c> = Where(ok, logits, 1000).</summary>
    private static void CorruptLogitsUnless(GraphProto graph, string ok)
    {
        NodeProto producer = graph.Node.Single(n => n.Output.Contains("logits"));
        producer.Output[producer.Output.IndexOf("logits")] = "layout_check_logits";
        foreach (NodeProto consumer in graph.Node.Where(n => n.Input.Contains("logits")))
        {
            consumer.Input[consumer.Input.IndexOf("logits")] = "layout_check_logits";
        }

        // Corrupt to a constant: argmax falls to id 0 whatever the model predicts.
        graph.Initializer.Add(OnnxTensors.Create(Corruption, [1000f], 1));
        graph.Node.Add(Node("Mul", ["layout_check_logits", "layout_check_zero_f"], ["layout_check_zeros"]));
        graph.Initializer.Add(OnnxTensors.Create("layout_check_zero_f", [0f], 1));
        graph.Node.Add(Node("Add", ["layout_check_zeros", Corruption], ["layout_check_bad"]));
        graph.Node.Add(Node("Where", [ok, "layout_check_logits", "layout_check_bad"], ["logits"]));
    }

    private static NodeProto Node(string op, string[] inputs, string[] outputs, params (string Name, long Value)[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = $"{op}_{outputs[0]}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        foreach ((string name, long value) in attributes)
        {
            node.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value });
        }

        return node;
    }
}
