using System.Globalization;
using System.Text.Json.Nodes;
using DataType = MLNetTransformers.Onnx.Protos.TensorProto.Types.DataType;
using static MLNetTransformers.Onnx.Builders.TransformerOps;

namespace MLNetTransformers.Onnx.Builders;

/// <summary>Sizes and options of a Llama style decoder (<see cref="LlamaBuilder"/>).</summary>
public sealed record LlamaBuilderOptions : TransformerBuilderOptions
{
    /// <summary>
    /// TinyLlama-1.1B's shape: 22 layers × 2048 hidden, 32 heads, 4 key/value heads, 5632 intermediate, 32000 vocabulary, 2048
    /// positions (1.1B parameters, 4.4 GB in float32, saved with external data).
    /// </summary>
    public static LlamaBuilderOptions TinyLlama1B { get; } = new()
    {
        Layers = 22, Hidden = 2048, Heads = 32, KvHeads = 4, Intermediate = 5632, Vocab = 32000, MaxPositions = 2048,
    };

    /// <summary>Key/value heads for grouped-query attention; must divide <see cref="TransformerBuilderOptions.Heads"/>; null = Heads. Default null.</summary>
    public int? KvHeads { get; init; }

    /// <summary>RMSNorm epsilon (<c>rms_norm_eps</c>). Default 1e-5.</summary>
    public float RmsNormEps { get; init; } = 1e-5f;

    /// <summary>Rotary base (<c>rope_theta</c>). Default 10000.</summary>
    public double RopeTheta { get; init; } = 10000.0;

    /// <summary>Tie lm_head to the token embeddings (MatMul(x, Transpose(embed_tokens))). Default false (Llama's untied head).</summary>
    public bool TieWordEmbeddings { get; init; }

    /// <summary>The number of key/value heads in effect.</summary>
    public int KeyValueHeads => KvHeads ?? Heads;

    /// <inheritdoc/>
    protected override void Validate(int minimumVocab)
    {
        base.Validate(minimumVocab);
        Require(KeyValueHeads >= 1 && Heads % KeyValueHeads == 0, $"KvHeads ({KvHeads}) must be positive and divide Heads ({Heads}).");
        Require(HeadDim % 2 == 0, $"The head size Hidden / Heads ({HeadDim}) must be even for rotary embeddings.");
        Require(RmsNormEps > 0, $"RmsNormEps must be positive (got {RmsNormEps}).");
        Require(double.IsFinite(RopeTheta) && RopeTheta > 1, $"RopeTheta must be a number above 1 (got {RopeTheta}).");
    }
}

/// <summary>
/// A Llama style decoder (<c>LlamaForCausalLM</c>) in the Optimum "text-generation-with-past" signature, like
/// <c>models/tiny-llama</c>: inputs <c>input_ids</c>, <c>attention_mask</c> [batch, past + sequence], <c>position_ids</c>,
/// <c>past_key_values.{i}.key|value</c> [batch, kv_heads, past, head_dim] (past may be 0); outputs <c>logits</c> and
/// <c>present.{i}.key|value</c>.
/// </summary>
/// <remarks>
/// Graph: Gather embeddings; per layer RMSNorm (Pow, ReduceMean, Add ε, Sqrt, Div, Mul gain), q/k/v projections without bias
/// (MatMul), heads split by Reshape/Transpose, rotary embeddings in Hugging Face's <c>rotate_half</c> convention over the full
/// head (cos/sin computed once from <c>position_ids</c> × inv_freq with Cos/Sin; Split, Neg, Concat for rotate_half), past
/// concatenated with the new keys/values (→ present.*), grouped-query attention by broadcasting (q reshaped to
/// [B, kv_heads, heads/kv_heads, S, D] against k/v unsqueezed to [B, kv_heads, 1, T, D], which is HF's repeat_kv), scores × 1/√D,
/// the causal + padding mask applied with Where (float32 minimum), Softmax, o_proj and residual; then RMSNorm and the SwiGLU MLP
/// <c>down(silu(gate(x)) · up(x))</c> (Sigmoid, Mul), residual. Final RMSNorm and an untied lm_head MatMul. The tokenizer is a
/// Llama-3-like byte-level BPE (<c>&lt;unk&gt;</c>=0, <c>&lt;s&gt;</c>=1 prepended, <c>&lt;/s&gt;</c>=2, bytes from id 3) when the
/// vocabulary has room, else WordLevel over generated words.
/// </remarks>
/// <example><c>new LlamaBuilder(new LlamaBuilderOptions { Layers = 2, Hidden = 64, Heads = 4, KvHeads = 2, Intermediate = 128, Vocab = 300, Seed = 1 }).WriteFolder(dir)</c></example>
public sealed class LlamaBuilder : TransformerModelBuilder
{
    /// <summary>The unknown token's id.</summary>
    public const int UnkId = 0;

    /// <summary>The beginning-of-sequence id.</summary>
    public const int BosId = 1;

    /// <summary>The end-of-sequence id.</summary>
    public const int EosId = 2;

    /// <summary>Creates the builder.</summary>
    /// <param name="options">Sizes and seed.</param>
    /// <exception cref="ArgumentException">A size is out of range.</exception>
    public LlamaBuilder(LlamaBuilderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.CheckValid(minimumVocab: 4);
        Options = options;
    }

    /// <summary>The options.</summary>
    public LlamaBuilderOptions Options { get; }

    private protected override long Seed => Options.Seed;

    private protected override float InitializerRange => Options.InitializerRange;

    private protected override string Description => string.Create(CultureInfo.InvariantCulture,
        $"Llama style decoder with pseudo-random weights (seed {Options.Seed}): {Options.Layers} layers, hidden {Options.Hidden}, {Options.Heads} heads, {Options.KeyValueHeads} kv heads, vocab {Options.Vocab}.");

    private int IntermediateSize => Options.Intermediate ?? (4 * Options.Hidden);

    /// <summary>Rotary inverse frequencies <c>1 / θ^(2i/D)</c>, i = 0 … D/2 − 1, as Hugging Face computes them.</summary>
    /// <param name="headDim">The head size.</param>
    /// <param name="theta">The rotary base.</param>
    /// <returns>The D/2 frequencies.</returns>
    public static float[] InverseFrequencies(int headDim, double theta)
    {
        var values = new float[headDim / 2];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(1.0 / Math.Pow(theta, (float)(2 * i) / headDim));
        }

        return values;
    }

    private protected override GraphBuilder BuildGraph()
    {
        LlamaBuilderOptions o = Options;
        int hidden = o.Hidden, heads = o.Heads, kvHeads = o.KeyValueHeads, headDim = o.HeadDim, intermediate = IntermediateSize;
        var g = new GraphBuilder("llama");
        DecoderInputs(g, o.Layers, kvHeads, headDim);
        DecoderOutputs(g, o.Layers, kvHeads, headDim, o.Vocab);

        string embed = g.Weight("model.embed_tokens.weight", WeightInit.Normal, o.Vocab, hidden);
        g.Scope = "/model/embed_tokens";
        string x = g.Gather(embed, "input_ids");
        string allowed = DecoderMask(g);

        // cos/sin [B, 1, S, D] from position_ids, shared by every layer.
        g.Scope = "/model/rotary_emb";
        string inverse = g.Buffer("model.rotary_emb.inv_freq", InverseFrequencies(headDim, o.RopeTheta), headDim / 2);
        string freqs = g.Mul(g.Unsqueeze(g.Cast("position_ids", DataType.Float), 2), inverse);
        string angles = g.Concat(-1, freqs, freqs);
        string cos = g.Unsqueeze(g.Op("Cos", [angles]), 1);
        string sin = g.Unsqueeze(g.Op("Sin", [angles]), 1);

        for (int i = 0; i < o.Layers; i++)
        {
            string p = string.Create(CultureInfo.InvariantCulture, $"model.layers.{i}.");
            string scope = string.Create(CultureInfo.InvariantCulture, $"/model/layers.{i}");

            g.Scope = scope + "/self_attn";
            string h = RmsNorm(g, x, g.Weight(p + "input_layernorm.weight", WeightInit.NormGain, hidden), o.RmsNormEps);
            string q = SplitHeads(g, g.MatMul(h, g.Weight(p + "self_attn.q_proj.weight", WeightInit.Normal, hidden, (long)heads * headDim)), heads, headDim);
            string k = SplitHeads(g, g.MatMul(h, g.Weight(p + "self_attn.k_proj.weight", WeightInit.Normal, hidden, (long)kvHeads * headDim)), kvHeads, headDim);
            string v = SplitHeads(g, g.MatMul(h, g.Weight(p + "self_attn.v_proj.weight", WeightInit.Normal, hidden, (long)kvHeads * headDim)), kvHeads, headDim);
            q = Rotate(g, q, cos, sin, headDim);
            k = g.OpTo(PresentName(i, "key"), "Concat", [PastName(i, "key"), Rotate(g, k, cos, sin, headDim)], Attr.Int("axis", 2));
            v = g.OpTo(PresentName(i, "value"), "Concat", [PastName(i, "value"), v], Attr.Int("axis", 2));
            string context = MergeHeads(g, CausalAttention(g, q, k, v, allowed, heads, kvHeads, headDim, divideByScale: false), heads, headDim);
            x = g.Add(x, g.MatMul(context, g.Weight(p + "self_attn.o_proj.weight", WeightInit.Normal, (long)heads * headDim, hidden)));

            g.Scope = scope + "/mlp";
            h = RmsNorm(g, x, g.Weight(p + "post_attention_layernorm.weight", WeightInit.NormGain, hidden), o.RmsNormEps);
            string gate = Silu(g, g.MatMul(h, g.Weight(p + "mlp.gate_proj.weight", WeightInit.Normal, hidden, intermediate)));
            string up = g.MatMul(h, g.Weight(p + "mlp.up_proj.weight", WeightInit.Normal, hidden, intermediate));
            x = g.Add(x, g.MatMul(g.Mul(gate, up), g.Weight(p + "mlp.down_proj.weight", WeightInit.Normal, intermediate, hidden)));
        }

        g.Scope = "/model/norm";
        x = RmsNorm(g, x, g.Weight("model.norm.weight", WeightInit.NormGain, hidden), o.RmsNormEps);
        g.Scope = "/lm_head";
        string head = o.TieWordEmbeddings ? g.Transpose(embed, 1, 0) : g.Weight("lm_head.weight", WeightInit.Normal, hidden, o.Vocab);
        g.OpTo("logits", "MatMul", [x, head]);
        return g;
    }

    private protected override void WriteMetadata(string directory)
    {
        LlamaBuilderOptions o = Options;
        TokenizerFiles.WriteJson(Path.Combine(directory, "config.json"), new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["vocab_size"] = o.Vocab,
            ["hidden_size"] = o.Hidden,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = o.Layers,
            ["num_attention_heads"] = o.Heads,
            ["num_key_value_heads"] = o.KeyValueHeads,
            ["head_dim"] = o.HeadDim,
            ["max_position_embeddings"] = o.MaxPositions,
            ["hidden_act"] = "silu",
            ["rms_norm_eps"] = o.RmsNormEps,
            ["rope_theta"] = o.RopeTheta,
            ["rope_scaling"] = null,
            ["attention_bias"] = false,
            ["mlp_bias"] = false,
            ["initializer_range"] = o.InitializerRange,
            ["tie_word_embeddings"] = o.TieWordEmbeddings,
            ["bos_token_id"] = BosId,
            ["eos_token_id"] = EosId,
            ["use_cache"] = true,
            ["torch_dtype"] = "float32",
        });
        TokenizerFiles.WriteJson(Path.Combine(directory, "generation_config.json"), new JsonObject
        {
            ["_from_model_config"] = true,
            ["bos_token_id"] = BosId,
            ["eos_token_id"] = EosId,
        });
        TokenizerFiles.WriteDecoderTokenizer(directory, o.Vocab,
            [new SpecialToken(UnkId, "<unk>"), new SpecialToken(BosId, "<s>"), new SpecialToken(EosId, "</s>")], byteOffset: 3,
            bos: "<s>", eos: "</s>", unk: "<unk>", tokenizerClass: "PreTrainedTokenizerFast", o.MaxPositions);
    }

    /// <summary>HF <c>apply_rotary_pos_emb</c>: <c>x · cos + rotate_half(x) · sin</c>, rotate_half(x) = [−x₂, x₁].</summary>
    private static string Rotate(GraphBuilder g, string x, string cos, string sin, int headDim)
    {
        string[] halves = g.Split(x, -1, headDim / 2, headDim / 2);
        string rotated = g.Concat(-1, g.Op("Neg", [halves[1]]), halves[0]);
        return g.Add(g.Mul(x, cos), g.Mul(rotated, sin));
    }
}
