using System.Globalization;
using System.Text.Json.Nodes;
using DataType = MLNetTransformers.Onnx.Protos.TensorProto.Types.DataType;
using static MLNetTransformers.Onnx.Builders.TransformerOps;

namespace MLNetTransformers.Onnx.Builders;

/// <summary>Sizes and heads of a BERT style encoder (<see cref="BertBuilder"/>).</summary>
public sealed record BertBuilderOptions : TransformerBuilderOptions
{
    /// <summary>bert-base-uncased's shape: 12 layers × 768 hidden, 12 heads, 3072 intermediate, 30522 vocabulary, 512 positions.</summary>
    public static BertBuilderOptions BertBase { get; } = new() { Layers = 12, Hidden = 768, Heads = 12, Vocab = 30522, MaxPositions = 512 };

    /// <summary>Token type vocabulary (<c>type_vocab_size</c>). Default 2.</summary>
    public int TypeVocab { get; init; } = 2;

    /// <summary>LayerNorm epsilon (<c>layer_norm_eps</c>). Default 1e-12.</summary>
    public float LayerNormEpsilon { get; init; } = 1e-12f;

    /// <summary>Add the pooler output <c>pooler_output</c> [batch, hidden] (tanh(dense(first token))). Default false.</summary>
    public bool PoolerOutput { get; init; }

    /// <summary>Classification labels: when above 0, a sequence-classification head on the pooler gives <c>logits</c> [batch, num_labels]. Default 0.</summary>
    public int NumLabels { get; init; }

    /// <summary>Label names for <c>id2label</c>; null = <c>LABEL_0</c>, <c>LABEL_1</c>, …</summary>
    public IReadOnlyList<string>? LabelNames { get; init; }

    /// <inheritdoc/>
    protected override void Validate(int minimumVocab)
    {
        base.Validate(minimumVocab);
        Require(TypeVocab >= 1, $"TypeVocab must be at least 1 (got {TypeVocab}).");
        Require(LayerNormEpsilon > 0, $"LayerNormEpsilon must be positive (got {LayerNormEpsilon}).");
        Require(NumLabels >= 0, $"NumLabels must not be negative (got {NumLabels}).");
        Require(LabelNames is null || (LabelNames.Count == NumLabels && LabelNames.Distinct(StringComparer.Ordinal).Count() == NumLabels),
            $"LabelNames must hold NumLabels ({NumLabels}) distinct names.");
    }
}

/// <summary>
/// A BERT style encoder (<c>BertModel</c>, or <c>BertForSequenceClassification</c> with labels): inputs <c>input_ids</c>,
/// <c>attention_mask</c>, <c>token_type_ids</c> [batch, sequence] (int64); outputs <c>last_hidden_state</c> [batch, sequence, hidden],
/// optionally <c>pooler_output</c> [batch, hidden] and <c>logits</c> [batch, num_labels].
/// </summary>
/// <remarks>
/// Graph: word + position (Gather over Range(0, S)) + token-type embeddings, LayerNormalization; per layer self-attention with
/// biased q/k/v projections (MatMul + Add), scores MatMul(q, kᵀ) / √D plus the extended mask (1 − mask) · float32 minimum, Softmax,
/// MatMul v, output dense + residual + LayerNormalization (post-LN), intermediate dense, exact GELU (Erf), output dense + residual +
/// LayerNormalization. Pooler: Gather of the first token, dense, Tanh; classifier: dense on the pooled output. Tokenizer: BERT
/// uncased WordPiece over a generated vocabulary ([PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4).
/// </remarks>
public sealed class BertBuilder : TransformerModelBuilder
{
    /// <summary>Creates the builder.</summary>
    /// <param name="options">Sizes, heads and seed.</param>
    /// <exception cref="ArgumentException">A size is out of range.</exception>
    public BertBuilder(BertBuilderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.CheckValid(minimumVocab: 8);
        Options = options;
    }

    /// <summary>The options.</summary>
    public BertBuilderOptions Options { get; }

    private protected override long Seed => Options.Seed;

    private protected override float InitializerRange => Options.InitializerRange;

    private protected override string Description => string.Create(CultureInfo.InvariantCulture,
        $"BERT style encoder with pseudo-random weights (seed {Options.Seed}): {Options.Layers} layers, hidden {Options.Hidden}, {Options.Heads} heads, vocab {Options.Vocab}, {Options.NumLabels} labels.");

    private int IntermediateSize => Options.Intermediate ?? (4 * Options.Hidden);

    private IReadOnlyList<string> Labels => Options.LabelNames
        ?? Enumerable.Range(0, Options.NumLabels).Select(i => string.Create(CultureInfo.InvariantCulture, $"LABEL_{i}")).ToArray();

    private protected override GraphBuilder BuildGraph()
    {
        BertBuilderOptions o = Options;
        int hidden = o.Hidden, heads = o.Heads, headDim = o.HeadDim, intermediate = IntermediateSize;
        float eps = o.LayerNormEpsilon;
        var g = new GraphBuilder("bert");
        g.Input("input_ids", DataType.Int64, Batch, Sequence);
        g.Input("attention_mask", DataType.Int64, Batch, Sequence);
        g.Input("token_type_ids", DataType.Int64, Batch, Sequence);
        g.Output("last_hidden_state", DataType.Float, Batch, Sequence, (long)hidden);
        if (o.PoolerOutput)
        {
            g.Output("pooler_output", DataType.Float, Batch, (long)hidden);
        }

        if (o.NumLabels > 0)
        {
            g.Output("logits", DataType.Float, Batch, (long)o.NumLabels);
        }

        const string E = "bert.embeddings.";
        g.Scope = "/bert/embeddings";
        string words = g.Gather(g.Weight(E + "word_embeddings.weight", WeightInit.Normal, o.Vocab, hidden), "input_ids");
        string positionIds = g.Op("Range", [g.Int64(0), g.Dim("input_ids", 1), g.Int64(1)]);
        string positions = g.Gather(g.Weight(E + "position_embeddings.weight", WeightInit.Normal, o.MaxPositions, hidden), positionIds);
        string types = g.Gather(g.Weight(E + "token_type_embeddings.weight", WeightInit.Normal, o.TypeVocab, hidden), "token_type_ids");
        string x = LayerNorm(g, g.Add(g.Add(words, types), positions), g.Weight(E + "LayerNorm.weight", WeightInit.NormGain, hidden), g.Weight(E + "LayerNorm.bias", WeightInit.Normal, hidden), eps);

        // HF's extended attention mask: (1 − mask) · float32 minimum, [B, 1, 1, S], added to the scores.
        g.Scope = "/bert/mask";
        string keep = g.Unsqueeze(g.Cast("attention_mask", DataType.Float), 1, 2);
        string additive = g.Mul(g.Sub(g.Float(1f), keep), g.Float(float.MinValue));

        for (int i = 0; i < o.Layers; i++)
        {
            string p = string.Create(CultureInfo.InvariantCulture, $"bert.encoder.layer.{i}.");
            string scope = string.Create(CultureInfo.InvariantCulture, $"/bert/encoder/layer.{i}");

            g.Scope = scope + "/attention";
            string q = SplitHeads(g, Dense(g, x, p + "attention.self.query", hidden, hidden), heads, headDim);
            string k = SplitHeads(g, Dense(g, x, p + "attention.self.key", hidden, hidden), heads, headDim);
            string v = SplitHeads(g, Dense(g, x, p + "attention.self.value", hidden, hidden), heads, headDim);
            string scores = g.Div(g.MatMul(q, g.Transpose(k, 0, 1, 3, 2)), g.Float(MathF.Sqrt(headDim)));
            string context = MergeHeads(g, g.MatMul(g.Softmax(g.Add(scores, additive)), v), heads, headDim);
            string attention = Dense(g, context, p + "attention.output.dense", hidden, hidden);
            x = LayerNorm(g, g.Add(attention, x), g.Weight(p + "attention.output.LayerNorm.weight", WeightInit.NormGain, hidden), g.Weight(p + "attention.output.LayerNorm.bias", WeightInit.Normal, hidden), eps);

            g.Scope = scope + "/ffn";
            string inner = GeluErf(g, Dense(g, x, p + "intermediate.dense", hidden, intermediate));
            string output = Dense(g, inner, p + "output.dense", intermediate, hidden);
            x = LayerNorm(g, g.Add(output, x), g.Weight(p + "output.LayerNorm.weight", WeightInit.NormGain, hidden), g.Weight(p + "output.LayerNorm.bias", WeightInit.Normal, hidden), eps);
        }

        g.Scope = "/bert";
        g.OpTo("last_hidden_state", "Identity", [x]);
        if (o.PoolerOutput || o.NumLabels > 0)
        {
            g.Scope = "/bert/pooler";
            string first = g.Gather("last_hidden_state", g.Int64(0), axis: 1);
            string pooled = o.PoolerOutput
                ? g.OpTo("pooler_output", "Tanh", [Dense(g, first, "bert.pooler.dense", hidden, hidden)])
                : g.Op("Tanh", [Dense(g, first, "bert.pooler.dense", hidden, hidden)]);
            if (o.NumLabels > 0)
            {
                g.Scope = "/classifier";
                g.OpTo("logits", "Add", [g.MatMul(pooled, g.Weight("classifier.weight", WeightInit.Normal, hidden, o.NumLabels)), g.Weight("classifier.bias", WeightInit.Normal, o.NumLabels)]);
            }
        }

        return g;
    }

    private protected override void WriteMetadata(string directory)
    {
        BertBuilderOptions o = Options;
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray(o.NumLabels > 0 ? "BertForSequenceClassification" : "BertModel"),
            ["model_type"] = "bert",
            ["vocab_size"] = o.Vocab,
            ["hidden_size"] = o.Hidden,
            ["num_hidden_layers"] = o.Layers,
            ["num_attention_heads"] = o.Heads,
            ["num_key_value_heads"] = o.Heads,
            ["intermediate_size"] = IntermediateSize,
            ["hidden_act"] = "gelu",
            ["max_position_embeddings"] = o.MaxPositions,
            ["type_vocab_size"] = o.TypeVocab,
            ["layer_norm_eps"] = o.LayerNormEpsilon,
            ["initializer_range"] = o.InitializerRange,
            ["position_embedding_type"] = "absolute",
            ["pad_token_id"] = 0,
            ["torch_dtype"] = "float32",
        };
        if (o.NumLabels > 0)
        {
            var id2label = new JsonObject();
            var label2id = new JsonObject();
            for (int i = 0; i < Labels.Count; i++)
            {
                id2label[i.ToString(CultureInfo.InvariantCulture)] = Labels[i];
                label2id[Labels[i]] = i;
            }

            config["id2label"] = id2label;
            config["label2id"] = label2id;
            config["problem_type"] = "single_label_classification";
        }

        TokenizerFiles.WriteJson(Path.Combine(directory, "config.json"), config);
        TokenizerFiles.WriteBertTokenizer(directory, o.Vocab, o.MaxPositions);
    }

    /// <summary>A biased dense layer <c>x · W + b</c> with W [in, out] named <c>{name}.weight</c>, b <c>{name}.bias</c>.</summary>
    private static string Dense(GraphBuilder g, string x, string name, int inputs, int outputs) =>
        Linear(g, x, g.Weight(name + ".weight", WeightInit.Normal, inputs, outputs), g.Weight(name + ".bias", WeightInit.Normal, outputs));
}
