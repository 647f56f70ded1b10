using System.Globalization;
using System.Text.Json;

namespace MLNetTransformers.Generation;

/// <summary>
/// The facts of a Hugging Face <c>config.json</c> that running a model needs: architecture, sizes, special token ids. Names
/// differ between architectures (<c>hidden_size</c>/<c>n_embd</c>/<c>d_model</c>, <c>num_hidden_layers</c>/<c>n_layer</c>, ...);
/// each property reads the usual aliases. Anything else is in <see cref="Raw"/>. Immutable.
/// </summary>
public sealed class ModelConfig
{
    private ModelConfig(JsonElement raw)
    {
        Raw = raw;
        ModelType = GetString("model_type");
        Architectures = raw.TryGetProperty("architectures", out JsonElement architectures) && architectures.ValueKind == JsonValueKind.Array
            ? architectures.EnumerateArray().Where(a => a.ValueKind == JsonValueKind.String).Select(a => a.GetString()!).ToArray()
            : [];
        VocabSize = GetInt("vocab_size");
        HiddenSize = GetInt("hidden_size", "n_embd", "d_model");
        IntermediateSize = GetInt("intermediate_size", "n_inner", "ffn_dim");
        NumHiddenLayers = GetInt("num_hidden_layers", "n_layer", "num_layers");
        NumAttentionHeads = GetInt("num_attention_heads", "n_head", "num_heads");
        NumKeyValueHeads = GetInt("num_key_value_heads", "num_kv_heads") ?? NumAttentionHeads;
        HeadDim = GetInt("head_dim") ?? (HiddenSize is { } hidden && NumAttentionHeads is > 0 and { } heads ? hidden / heads : null);
        MaxPositionEmbeddings = GetInt("max_position_embeddings", "n_positions", "n_ctx");
        TieWordEmbeddings = raw.TryGetProperty("tie_word_embeddings", out JsonElement tie) && tie.ValueKind is JsonValueKind.True or JsonValueKind.False ? tie.GetBoolean() : null;
        BosTokenId = GetInt("bos_token_id");
        EosTokenIds = GetIds("eos_token_id");
        PadTokenId = GetInt("pad_token_id");
    }

    /// <summary>The whole <c>config.json</c> object.</summary>
    public JsonElement Raw { get; }

    /// <summary><c>model_type</c> (e.g. <c>llama</c>, <c>gpt2</c>, <c>bert</c>).</summary>
    public string? ModelType { get; }

    /// <summary><c>architectures</c> (e.g. <c>LlamaForCausalLM</c>).</summary>
    public IReadOnlyList<string> Architectures { get; }

    /// <summary><c>vocab_size</c>.</summary>
    public int? VocabSize { get; }

    /// <summary><c>hidden_size</c> (<c>n_embd</c>, <c>d_model</c>).</summary>
    public int? HiddenSize { get; }

    /// <summary><c>intermediate_size</c> (<c>n_inner</c>, <c>ffn_dim</c>).</summary>
    public int? IntermediateSize { get; }

    /// <summary><c>num_hidden_layers</c> (<c>n_layer</c>, <c>num_layers</c>).</summary>
    public int? NumHiddenLayers { get; }

    /// <summary><c>num_attention_heads</c> (<c>n_head</c>, <c>num_heads</c>).</summary>
    public int? NumAttentionHeads { get; }

    /// <summary><c>num_key_value_heads</c>; the attention head count when absent (no grouped-query attention).</summary>
    public int? NumKeyValueHeads { get; }

    /// <summary><c>head_dim</c>, or <see cref="HiddenSize"/> / <see cref="NumAttentionHeads"/>.</summary>
    public int? HeadDim { get; }

    /// <summary><c>max_position_embeddings</c> (<c>n_positions</c>, <c>n_ctx</c>): the longest sequence the model was built for.</summary>
    public int? MaxPositionEmbeddings { get; }

    /// <summary><c>tie_word_embeddings</c>, when given.</summary>
    public bool? TieWordEmbeddings { get; }

    /// <summary><c>bos_token_id</c>.</summary>
    public int? BosTokenId { get; }

    /// <summary><c>eos_token_id</c> (a number or a list in config.json).</summary>
    public IReadOnlyList<int> EosTokenIds { get; }

    /// <summary><c>pad_token_id</c>.</summary>
    public int? PadTokenId { get; }

    /// <summary>Reads a <c>config.json</c> file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">It is not a JSON object (the message names the file).</exception>
    public static ModelConfig Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"Model configuration not found: {full}", full);
        }

        using FileStream stream = File.OpenRead(full);
        return Parse(stream, full);
    }

    /// <summary>Parses <c>config.json</c> content.</summary>
    /// <param name="json">The JSON stream.</param>
    /// <param name="name">A name for messages.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="InvalidDataException">It is not a JSON object.</exception>
    public static ModelConfig Parse(Stream json, string name = "config.json")
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using JsonDocument document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{name}: expected a JSON object, found {document.RootElement.ValueKind}.");
            }

            return new ModelConfig(document.RootElement.Clone());
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{name} is not valid JSON: {ex.Message}", ex);
        }
    }

    private string? GetString(string name) =>
        Raw.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private int? GetInt(params string[] names)
    {
        foreach (string name in names)
        {
            if (Raw.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int number))
            {
                return number;
            }
        }

        return null;
    }

    private int[] GetIds(string name)
    {
        if (!Raw.TryGetProperty(name, out JsonElement value))
        {
            return [];
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetInt32(out int id) => [id],
            JsonValueKind.Array => value.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out _)).Select(e => e.GetInt32()).ToArray(),
            _ => [],
        };
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{ModelType ?? "model"}: vocab {VocabSize}, hidden {HiddenSize}, layers {NumHiddenLayers}, heads {NumAttentionHeads} (kv {NumKeyValueHeads}), head_dim {HeadDim}");
}
