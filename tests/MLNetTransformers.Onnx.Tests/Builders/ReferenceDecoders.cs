using System.Globalization;
using MLNetTransformers.Onnx.Builders;
using static MLNetTransformers.Onnx.Tests.Builders.ReferenceMath;

namespace MLNetTransformers.Onnx.Tests.Builders;

/// <summary>A reference decoder pass over one whole sequence (positions 0..n−1, no padding, no cache).</summary>
/// <param name="Logits">[t] → vocab logits.</param>
/// <param name="Keys">[layer][t][kv head] → head vector (after rotary for Llama): what present.{layer}.key holds.</param>
/// <param name="Values">[layer][t][kv head] → head vector.</param>
internal sealed record DecoderReferenceResult(float[][] Logits, float[][][][] Keys, float[][][][] Values);

/// <summary>GPT-2 (<c>GPT2LMHeadModel</c>) computed directly from the weights, the way modeling_gpt2.py does it.</summary>
internal static class Gpt2Reference
{
    public static DecoderReferenceResult Forward(ModelWeights w, Gpt2BuilderOptions o, long[] ids)
    {
        int n = ids.Length, hidden = o.Hidden, heads = o.Heads, headDim = o.HeadDim, inner = o.Intermediate ?? (4 * hidden);
        double eps = o.LayerNormEpsilon;
        float[][] x = ids.Select((id, t) => Add(Row(w["transformer.wte.weight"], id, hidden), Row(w["transformer.wpe.weight"], t, hidden))).ToArray();
        var keys = new float[o.Layers][][][];
        var values = new float[o.Layers][][][];
        for (int l = 0; l < o.Layers; l++)
        {
            string p = string.Create(CultureInfo.InvariantCulture, $"transformer.h.{l}.");
            var q = new float[n][][];
            var k = new float[n][][];
            var v = new float[n][][];
            for (int t = 0; t < n; t++)
            {
                float[] h = LayerNorm(x[t], w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps);
                float[] qkv = Linear(h, w[p + "attn.c_attn.weight"], 3 * hidden, w[p + "attn.c_attn.bias"]);
                q[t] = Heads(qkv[..hidden], heads, headDim);
                k[t] = Heads(qkv[hidden..(2 * hidden)], heads, headDim);
                v[t] = Heads(qkv[(2 * hidden)..], heads, headDim);
            }

            float[][] context = Attention(q, k, v, causal: true);
            for (int t = 0; t < n; t++)
            {
                x[t] = Add(x[t], Linear(context[t], w[p + "attn.c_proj.weight"], hidden, w[p + "attn.c_proj.bias"]));
                float[] h = LayerNorm(x[t], w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps);
                float[] m = GeluTanh(Linear(h, w[p + "mlp.c_fc.weight"], inner, w[p + "mlp.c_fc.bias"]));
                x[t] = Add(x[t], Linear(m, w[p + "mlp.c_proj.weight"], hidden, w[p + "mlp.c_proj.bias"]));
            }

            keys[l] = k;
            values[l] = v;
        }

        float[][] logits = x.Select(row =>
        {
            float[] h = LayerNorm(row, w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], eps);
            return o.TieWordEmbeddings ? TiedHead(h, w["transformer.wte.weight"], o.Vocab) : Linear(h, w["lm_head.weight"], o.Vocab);
        }).ToArray();
        return new DecoderReferenceResult(logits, keys, values);
    }
}

/// <summary>Llama (<c>LlamaForCausalLM</c>) computed directly from the weights, the way modeling_llama.py does it.</summary>
internal static class LlamaReference
{
    public static DecoderReferenceResult Forward(ModelWeights w, LlamaBuilderOptions o, long[] ids)
    {
        int n = ids.Length, hidden = o.Hidden, heads = o.Heads, kvHeads = o.KeyValueHeads, headDim = o.HeadDim;
        int inner = o.Intermediate ?? (4 * hidden);
        double eps = o.RmsNormEps;
        float[][] x = ids.Select(id => Row(w["model.embed_tokens.weight"], id, hidden)).ToArray();
        var keys = new float[o.Layers][][][];
        var values = new float[o.Layers][][][];
        for (int l = 0; l < o.Layers; l++)
        {
            string p = string.Create(CultureInfo.InvariantCulture, $"model.layers.{l}.");
            var q = new float[n][][];
            var k = new float[n][][];
            var v = new float[n][][];
            for (int t = 0; t < n; t++)
            {
                float[] h = RmsNorm(x[t], w[p + "input_layernorm.weight"], eps);
                q[t] = Heads(Linear(h, w[p + "self_attn.q_proj.weight"], heads * headDim), heads, headDim).Select(head => Rope(head, t, o.RopeTheta)).ToArray();
                k[t] = Heads(Linear(h, w[p + "self_attn.k_proj.weight"], kvHeads * headDim), kvHeads, headDim).Select(head => Rope(head, t, o.RopeTheta)).ToArray();
                v[t] = Heads(Linear(h, w[p + "self_attn.v_proj.weight"], kvHeads * headDim), kvHeads, headDim);
            }

            float[][] context = Attention(q, k, v, causal: true);
            for (int t = 0; t < n; t++)
            {
                x[t] = Add(x[t], Linear(context[t], w[p + "self_attn.o_proj.weight"], hidden));
                float[] h = RmsNorm(x[t], w[p + "post_attention_layernorm.weight"], eps);
                float[] gate = Silu(Linear(h, w[p + "mlp.gate_proj.weight"], inner));
                float[] up = Linear(h, w[p + "mlp.up_proj.weight"], inner);
                x[t] = Add(x[t], Linear(Mul(gate, up), w[p + "mlp.down_proj.weight"], hidden));
            }

            keys[l] = k;
            values[l] = v;
        }

        float[][] logits = x.Select(row =>
        {
            float[] h = RmsNorm(row, w["model.norm.weight"], eps);
            return o.TieWordEmbeddings ? TiedHead(h, w["model.embed_tokens.weight"], o.Vocab) : Linear(h, w["lm_head.weight"], o.Vocab);
        }).ToArray();
        return new DecoderReferenceResult(logits, keys, values);
    }

    /// <summary>HF rotary with rotate_half: out = x·cos + [−x₂, x₁]·sin, angle_j = position / θ^(2(j mod D/2)/D).</summary>
    public static float[] Rope(float[] x, int position, double theta)
    {
        int d = x.Length, half = d / 2;
        var output = new float[d];
        for (int j = 0; j < d; j++)
        {
            double angle = position / Math.Pow(theta, 2.0 * (j % half) / d);
            double rotated = j < half ? -x[j + half] : x[j - half];
            output[j] = (float)((x[j] * Math.Cos(angle)) + (rotated * Math.Sin(angle)));
        }

        return output;
    }
}
