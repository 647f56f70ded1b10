using System.Globalization;
using DataType = MLNetTransformers.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNetTransformers.Onnx.Builders;

/// <summary>The transformer pieces the builders share, written out in standard opset-17 operators.</summary>
internal static class TransformerOps
{
    public const string Batch = "batch_size";
    public const string Sequence = "sequence_length";
    public const string Past = "past_sequence_length";
    public const string Total = "past_sequence_length + sequence_length";

    /// <summary><c>x · W (+ b)</c> with W stored [in, out].</summary>
    public static string Linear(GraphBuilder g, string x, string weight, string? bias)
    {
        string y = g.MatMul(x, weight);
        return bias is null ? y : g.Add(y, bias);
    }

    /// <summary>LayerNormalization over the last axis.</summary>
    public static string LayerNorm(GraphBuilder g, string x, string scale, string bias, float epsilon) =>
        g.Op("LayerNormalization", [x, scale, bias], Attr.Int("axis", -1), Attr.Float("epsilon", epsilon));

    /// <summary>RMSNorm as exported from PyTorch: <c>w · x / sqrt(mean(x²) + eps)</c>.</summary>
    public static string RmsNorm(GraphBuilder g, string x, string weight, float epsilon)
    {
        string squared = g.Op("Pow", [x, g.Float(2f)]);
        string mean = g.Op("ReduceMean", [squared], Attr.Ints("axes", -1), Attr.Int("keepdims", 1));
        string root = g.Op("Sqrt", [g.Add(mean, g.Float(epsilon))]);
        return g.Mul(weight, g.Div(x, root));
    }

    /// <summary>GELU, tanh approximation (GPT-2's <c>gelu_new</c>): <c>0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))</c>.</summary>
    public static string GeluTanh(GraphBuilder g, string x)
    {
        string half = g.Mul(x, g.Float(0.5f));
        string cubic = g.Mul(g.Op("Pow", [x, g.Float(3f)]), g.Float(0.044715f));
        string inner = g.Mul(g.Add(x, cubic), g.Float(0.7978845608028654f));
        return g.Mul(half, g.Add(g.Op("Tanh", [inner]), g.Float(1f)));
    }

    /// <summary>GELU, exact (BERT's <c>gelu</c>): <c>0.5x(1 + erf(x/√2))</c>.</summary>
    public static string GeluErf(GraphBuilder g, string x)
    {
        string erf = g.Op("Erf", [g.Div(x, g.Float(1.4142135623730951f))]);
        return g.Mul(g.Mul(x, g.Float(0.5f)), g.Add(erf, g.Float(1f)));
    }

    /// <summary>SiLU: <c>x · sigmoid(x)</c>.</summary>
    public static string Silu(GraphBuilder g, string x) => g.Mul(x, g.Op("Sigmoid", [x]));

    /// <summary>[B, S, heads·D] → [B, heads, S, D].</summary>
    public static string SplitHeads(GraphBuilder g, string x, int heads, int headDim) => g.Transpose(g.Reshape(x, 0, 0, heads, headDim), 0, 2, 1, 3);

    /// <summary>[B, heads, S, D] → [B, S, heads·D].</summary>
    public static string MergeHeads(GraphBuilder g, string x, int heads, int headDim) => g.Reshape(g.Transpose(x, 0, 2, 1, 3), 0, 0, (long)heads * headDim);

    /// <summary>Declares the Optimum "text-generation-with-past" inputs of a decoder.</summary>
    public static void DecoderInputs(GraphBuilder g, int layers, int kvHeads, int headDim)
    {
        g.Input("input_ids", DataType.Int64, Batch, Sequence);
        g.Input("attention_mask", DataType.Int64, Batch, Total);
        g.Input("position_ids", DataType.Int64, Batch, Sequence);
        for (int i = 0; i < layers; i++)
        {
            foreach (string kind in new[] { "key", "value" })
            {
                g.Input(PastName(i, kind), DataType.Float, Batch, (long)kvHeads, Past, (long)headDim);
            }
        }
    }

    /// <summary>Declares the decoder outputs (<c>logits</c>, then <c>present.{i}.key|value</c>).</summary>
    public static void DecoderOutputs(GraphBuilder g, int layers, int kvHeads, int headDim, int vocab)
    {
        g.Output("logits", DataType.Float, Batch, Sequence, (long)vocab);
        for (int i = 0; i < layers; i++)
        {
            foreach (string kind in new[] { "key", "value" })
            {
                g.Output(PresentName(i, kind), DataType.Float, Batch, (long)kvHeads, Total, (long)headDim);
            }
        }
    }

    public static string PastName(int layer, string kind) => string.Create(CultureInfo.InvariantCulture, $"past_key_values.{layer}.{kind}");

    public static string PresentName(int layer, string kind) => string.Create(CultureInfo.InvariantCulture, $"present.{layer}.{kind}");

    /// <summary>
    /// The decoder's attention mask as a bool [B, 1, S, T] (T = past + S): query at absolute index <c>past + q</c> may attend key
    /// <c>k</c> iff <c>k ≤ past + q</c> and <c>attention_mask[b, k] == 1</c>.
    /// </summary>
    public static string DecoderMask(GraphBuilder g)
    {
        string previous = g.Scope;
        g.Scope = "/model/mask";
        string sequence = g.Dim("input_ids", 1);
        string total = g.Dim("attention_mask", 1);
        string past = g.Sub(total, sequence);
        string keys = g.Op("Range", [g.Int64(0), total, g.Int64(1)]);
        string queries = g.Unsqueeze(g.Op("Range", [past, total, g.Int64(1)]), 1);
        string causal = g.Op("LessOrEqual", [keys, queries]);
        string padding = g.Unsqueeze(g.Cast("attention_mask", DataType.Bool), 1, 2);
        string allowed = g.Op("And", [causal, padding]);
        g.Scope = previous;
        return allowed;
    }

    /// <summary>
    /// Scaled dot-product attention over the cache: <paramref name="query"/> [B, H, S, D], <paramref name="key"/> and
    /// <paramref name="value"/> [B, KV, T, D] (KV divides H; query head h uses key/value head h / (H/KV), as HF's repeat_kv),
    /// <paramref name="allowed"/> bool [B, 1, S, T]; masked scores become float32's minimum before the softmax (rows with
    /// nothing allowed become uniform, never NaN). Returns [B, H, S, D].
    /// </summary>
    public static string CausalAttention(GraphBuilder g, string query, string key, string value, string allowed, int heads, int kvHeads, int headDim, bool divideByScale)
    {
        int groups = heads / kvHeads;
        string q = query, k = key, v = value, mask = allowed;
        if (groups > 1)
        {
            // Grouped-query attention by broadcasting: [B, KV, groups, S, D] against [B, KV, 1, T, D].
            q = g.Reshape(query, 0, kvHeads, groups, -1, headDim);
            k = g.Unsqueeze(key, 2);
            v = g.Unsqueeze(value, 2);
            mask = g.Unsqueeze(allowed, 1);
        }

        string keyT = g.Transpose(k, groups > 1 ? [0, 1, 2, 4, 3] : [0, 1, 3, 2]);
        string scores = g.MatMul(q, keyT);
        scores = divideByScale ? g.Div(scores, g.Float(MathF.Sqrt(headDim))) : g.Mul(scores, g.Float(1f / MathF.Sqrt(headDim)));
        string masked = g.Op("Where", [mask, scores, g.Float(float.MinValue)]);
        string context = g.MatMul(g.Softmax(masked), v);
        return groups > 1 ? g.Reshape(context, 0, heads, -1, headDim) : context;
    }
}
