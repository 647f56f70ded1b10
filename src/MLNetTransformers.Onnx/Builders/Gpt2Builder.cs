using System.Globalization;
using System.Text.Json.Nodes;
using static MLNetTransformers.Onnx.Builders.TransformerOps;

namespace MLNetTransformers.Onnx.Builders;

/// <summary>Sizes and options of a GPT-2 style decoder (<see cref="Gpt2Builder"/>).</summary>
public sealed record Gpt2BuilderOptions : TransformerBuilderOptions
{
    /// <summary>distilgpt2's shape: 6 layers × 768 hidden, 12 heads, 50257 vocabulary, 1024 positions (81.9M parameters, tied lm_head).</summary>
    public static Gpt2BuilderOptions DistilGpt2 { get; } = new() { Layers = 6, Hidden = 768, Heads = 12, Vocab = 50257, MaxPositions = 1024 };

    /// <summary>GPT-2 small's shape: 12 layers × 768 hidden, 12 heads, 50257 vocabulary, 1024 positions (124M parameters).</summary>
    public static Gpt2BuilderOptions Gpt2Small { get; } = DistilGpt2 with { Layers = 12 };

    /// <summary>
    /// Tie the language-model head to the token embeddings (GPT-2's default): logits = <c>MatMul(x, Transpose(wte))</c>. When
    /// false the head is an independent <c>lm_head.weight</c> [hidden, vocab]. Default true.
    /// </summary>
    public bool TieWordEmbeddings { get; init; } = true;

    /// <summary>LayerNorm epsilon (<c>layer_norm_epsilon</c>). Default 1e-5.</summary>
    public float LayerNormEpsilon { get; init; } = 1e-5f;

    /// <inheritdoc/>
    protected override void Validate(int minimumVocab)
    {
        base.Validate(minimumVocab);
        Require(LayerNormEpsilon > 0, $"LayerNormEpsilon must be positive (got {LayerNormEpsilon}).");
    }
}

/// <summary>
/// A GPT-2 style decoder (<c>GPT2LMHeadModel</c>) in the Optimum "text-generation-with-past" signature: inputs <c>input_ids</c>,
/// <c>attention_mask</c> [batch, past + sequence], <c>position_ids</c>, <c>past_key_values.{i}.key|value</c>
/// [batch, heads, past, head_dim] (past may be 0); outputs <c>logits</c> and <c>present.{i}.key|value</c>.
/// </summary>
/// <remarks>
/// Graph: token (Gather wte) + learned position (Gather wpe) embeddings; per layer pre-LN (LayerNormalization) attention with a
/// combined QKV projection (Conv1D: MatMul + Add, Split into q/k/v), heads split by Reshape/Transpose, past concatenated with the
/// new keys/values (Concat → present.*), scores MatMul(q, kᵀ) / √head_dim, the mask (causal LessOrEqual over Range of absolute
/// positions And the padding mask, so left padding works) applied by Where with float32's minimum, Softmax, MatMul with v, output
/// projection and residual Add; then pre-LN MLP: c_fc, GELU (tanh approximation written out with Pow/Mul/Add/Tanh), c_proj,
/// residual. Final LayerNormalization and lm_head: MatMul(x, Transpose(wte)) when tied, else MatMul(x, lm_head.weight).
/// The tokenizer is byte-level BPE (bytes at ids 0–255, <c>&lt;|endoftext|&gt;</c> = vocab − 1 as bos/eos/pad) when the
/// vocabulary has room for the 256 bytes, else WordLevel over generated words.
/// </remarks>
/// <example><c>new Gpt2Builder(Gpt2BuilderOptions.DistilGpt2 with { Seed = 7 }).WriteFolder("models/distilgpt2-random")</c></example>
public sealed class Gpt2Builder : TransformerModelBuilder
{
    /// <summary>Creates the builder.</summary>
    /// <param name="options">Sizes and seed.</param>
    /// <exception cref="ArgumentException">A size is out of range.</exception>
    public Gpt2Builder(Gpt2BuilderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.CheckValid(minimumVocab: 2);
        Options = options;
    }

    /// <summary>The options.</summary>
    public Gpt2BuilderOptions Options { get; }

    /// <summary>The id of <c>&lt;|endoftext|&gt;</c> (bos, eos and pad): the last id, as in GPT-2.</summary>
    public int EndOfTextId => Options.Vocab - 1;

    private protected override long Seed => Options.Seed;

    private protected override float InitializerRange => Options.InitializerRange;

    private protected override string Description => string.Create(CultureInfo.InvariantCulture,
        $"GPT-2 style decoder with pseudo-random weights (seed {Options.Seed}): {Options.Layers} layers, hidden {Options.Hidden}, {Options.Heads} heads, vocab {Options.Vocab}.");

    private int IntermediateSize => Options.Intermediate ?? (4 * Options.Hidden);

    private protected override GraphBuilder BuildGraph()
    {
        Gpt2BuilderOptions o = Options;
        int hidden = o.Hidden, heads = o.Heads, headDim = o.HeadDim;
        var g = new GraphBuilder("gpt2");
        DecoderInputs(g, o.Layers, heads, headDim);
        DecoderOutputs(g, o.Layers, heads, headDim, o.Vocab);

        string wte = g.Weight("transformer.wte.weight", WeightInit.Normal, o.Vocab, hidden);
        string wpe = g.Weight("transformer.wpe.weight", WeightInit.Normal, o.MaxPositions, hidden);
        g.Scope = "/transformer";
        string x = g.Add(g.Gather(wte, "input_ids"), g.Gather(wpe, "position_ids"));
        string allowed = DecoderMask(g);

        for (int i = 0; i < o.Layers; i++)
        {
            string p = string.Create(CultureInfo.InvariantCulture, $"transformer.h.{i}.");
            string scope = string.Create(CultureInfo.InvariantCulture, $"/transformer/h.{i}");

            g.Scope = scope + "/attn";
            string h = LayerNorm(g, x, g.Weight(p + "ln_1.weight", WeightInit.NormGain, hidden), g.Weight(p + "ln_1.bias", WeightInit.Normal, hidden), o.LayerNormEpsilon);
            string qkv = Linear(g, h, g.Weight(p + "attn.c_attn.weight", WeightInit.Normal, hidden, 3L * hidden), g.Weight(p + "attn.c_attn.bias", WeightInit.Normal, 3L * hidden));
            string[] parts = g.Split(qkv, 2, hidden, hidden, hidden);
            string q = SplitHeads(g, parts[0], heads, headDim);
            string k = g.OpTo(PresentName(i, "key"), "Concat", [PastName(i, "key"), SplitHeads(g, parts[1], heads, headDim)], Attr.Int("axis", 2));
            string v = g.OpTo(PresentName(i, "value"), "Concat", [PastName(i, "value"), SplitHeads(g, parts[2], heads, headDim)], Attr.Int("axis", 2));
            string context = MergeHeads(g, CausalAttention(g, q, k, v, allowed, heads, heads, headDim, divideByScale: true), heads, headDim);
            string attention = Linear(g, context, g.Weight(p + "attn.c_proj.weight", WeightInit.Normal, hidden, hidden), g.Weight(p + "attn.c_proj.bias", WeightInit.Normal, hidden));
            x = g.Add(x, attention);

            g.Scope = scope + "/mlp";
            h = LayerNorm(g, x, g.Weight(p + "ln_2.weight", WeightInit.NormGain, hidden), g.Weight(p + "ln_2.bias", WeightInit.Normal, hidden), o.LayerNormEpsilon);
            string up = Linear(g, h, g.Weight(p + "mlp.c_fc.weight", WeightInit.Normal, hidden, IntermediateSize), g.Weight(p + "mlp.c_fc.bias", WeightInit.Normal, IntermediateSize));
            string down = Linear(g, GeluTanh(g, up), g.Weight(p + "mlp.c_proj.weight", WeightInit.Normal, IntermediateSize, hidden), g.Weight(p + "mlp.c_proj.bias", WeightInit.Normal, hidden));
            x = g.Add(x, down);
        }

        g.Scope = "/transformer/ln_f";
        x = LayerNorm(g, x, g.Weight("transformer.ln_f.weight", WeightInit.NormGain, hidden), g.Weight("transformer.ln_f.bias", WeightInit.Normal, hidden), o.LayerNormEpsilon);
        g.Scope = "/lm_head";
        string head = o.TieWordEmbeddings ? g.Transpose(wte, 1, 0) : g.Weight("lm_head.weight", WeightInit.Normal, hidden, o.Vocab);
        g.OpTo("logits", "MatMul", [x, head]);
        return g;
    }

    private protected override void WriteMetadata(string directory)
    {
        Gpt2BuilderOptions o = Options;
        TokenizerFiles.WriteJson(Path.Combine(directory, "config.json"), new JsonObject
        {
            ["architectures"] = new JsonArray("GPT2LMHeadModel"),
            ["model_type"] = "gpt2",
            ["vocab_size"] = o.Vocab,
            ["n_embd"] = o.Hidden,
            ["n_layer"] = o.Layers,
            ["n_head"] = o.Heads,
            ["n_inner"] = o.Intermediate,
            ["n_positions"] = o.MaxPositions,
            ["n_ctx"] = o.MaxPositions,
            ["hidden_size"] = o.Hidden,
            ["num_hidden_layers"] = o.Layers,
            ["num_attention_heads"] = o.Heads,
            ["num_key_value_heads"] = o.Heads,
            ["intermediate_size"] = IntermediateSize,
            ["max_position_embeddings"] = o.MaxPositions,
            ["activation_function"] = "gelu_new",
            ["layer_norm_epsilon"] = o.LayerNormEpsilon,
            ["initializer_range"] = o.InitializerRange,
            ["scale_attn_weights"] = true,
            ["tie_word_embeddings"] = o.TieWordEmbeddings,
            ["bos_token_id"] = EndOfTextId,
            ["eos_token_id"] = EndOfTextId,
            ["use_cache"] = true,
            ["torch_dtype"] = "float32",
        });
        TokenizerFiles.WriteJson(Path.Combine(directory, "generation_config.json"), new JsonObject
        {
            ["_from_model_config"] = true,
            ["bos_token_id"] = EndOfTextId,
            ["eos_token_id"] = EndOfTextId,
            ["pad_token_id"] = EndOfTextId,
        });
        const string EndOfText = "<|endoftext|>";
        TokenizerFiles.WriteDecoderTokenizer(directory, o.Vocab, [new SpecialToken(EndOfTextId, EndOfText)], byteOffset: 0,
            bos: null, eos: EndOfText, unk: EndOfText, tokenizerClass: "GPT2Tokenizer", o.MaxPositions);
    }
}
