using System.Globalization;
using System.Text.RegularExpressions;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Generation;

/// <summary>One <c>past_key_values.{layer}.key|value</c> input and the <c>present.{layer}.key|value</c> output that feeds it next step.</summary>
/// <param name="Name">The input name.</param>
/// <param name="PresentName">The matching output name, or <see langword="null"/> when the model has none.</param>
/// <param name="Layer">The layer index.</param>
/// <param name="IsKey">True for keys, false for values.</param>
/// <param name="ElementType">The element type (float32, float16 or bfloat16).</param>
/// <param name="KeyValueHeads">Dimension 1: the number of key/value heads.</param>
/// <param name="HeadDim">Dimension 3: the size of one head.</param>
public sealed record PastKeyValueInput(string Name, string? PresentName, int Layer, bool IsKey, TensorElementType ElementType, long KeyValueHeads, long HeadDim);

/// <summary>
/// The inputs and outputs of a causal decoder in the Optimum "text-generation-with-past" layout, read from a session: inputs
/// <c>input_ids</c>, <c>attention_mask</c> and <c>position_ids</c> (each optional except the first), <c>past_key_values.{i}.key|value</c>
/// <c>[batch, kv_heads, past, head_dim]</c>, <c>use_cache_branch</c> (merged decoders), <c>token_type_ids</c>; outputs
/// <c>logits</c> <c>[batch, sequence, vocab]</c> and <c>present.{i}.key|value</c>. Immutable.
/// </summary>
public sealed partial class DecoderSignature
{
    /// <summary>The name of the token ids input.</summary>
    public const string InputIdsName = "input_ids";

    /// <summary>The name of the attention mask input.</summary>
    public const string AttentionMaskName = "attention_mask";

    /// <summary>The name of the position ids input.</summary>
    public const string PositionIdsName = "position_ids";

    /// <summary>The name of the merged decoders' branch switch input.</summary>
    public const string UseCacheBranchName = "use_cache_branch";

    /// <summary>The name of the token type ids input (fed zeros).</summary>
    public const string TokenTypeIdsName = "token_type_ids";

    /// <summary>The name of the logits output.</summary>
    public const string LogitsName = "logits";

    private DecoderSignature(bool attentionMask, bool positionIds, bool useCacheBranch, bool tokenTypeIds, PastKeyValueInput[] past, TensorElementType logitsType, long vocabulary)
    {
        HasAttentionMask = attentionMask;
        HasPositionIds = positionIds;
        HasUseCacheBranch = useCacheBranch;
        HasTokenTypeIds = tokenTypeIds;
        PastInputs = past;
        LogitsElementType = logitsType;
        VocabularySize = vocabulary;
    }

    /// <summary>Whether the model takes <c>attention_mask</c>.</summary>
    public bool HasAttentionMask { get; }

    /// <summary>Whether the model takes <c>position_ids</c>.</summary>
    public bool HasPositionIds { get; }

    /// <summary>Whether the model takes <c>use_cache_branch</c> (an Optimum merged decoder).</summary>
    public bool HasUseCacheBranch { get; }

    /// <summary>Whether the model takes <c>token_type_ids</c>.</summary>
    public bool HasTokenTypeIds { get; }

    /// <summary>The past key/value inputs, by layer, key before value.</summary>
    public IReadOnlyList<PastKeyValueInput> PastInputs { get; }

    /// <summary>The number of layers with a key/value cache.</summary>
    public int LayerCount => PastInputs.Count / 2;

    /// <summary>The element type of <c>logits</c> (float32 or float16).</summary>
    public TensorElementType LogitsElementType { get; }

    /// <summary>The last dimension of <c>logits</c>, or -1 when it is symbolic.</summary>
    public long VocabularySize { get; }

    /// <summary>Reads the signature of a loaded decoder.</summary>
    /// <param name="session">The session.</param>
    /// <param name="config">The model's <c>config.json</c>, used for key/value dimensions the file leaves symbolic.</param>
    /// <returns>The signature.</returns>
    /// <exception cref="InvalidDataException">The model is not a decoder of this layout (the message names what is missing or unknown).</exception>
    public static DecoderSignature FromSession(InferenceSession session, ModelConfig? config = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        string model = session.ModelPath ?? "the model";
        var inputs = session.InputMetadata.ToDictionary(i => i.Name, StringComparer.Ordinal);
        if (!inputs.ContainsKey(InputIdsName))
        {
            throw new InvalidDataException($"{model} has no '{InputIdsName}' input; inputs: {string.Join(", ", inputs.Keys)}.");
        }

        NodeMetadata logits = session.OutputMetadata.FirstOrDefault(o => o.Name == LogitsName)
            ?? throw new InvalidDataException($"{model} has no '{LogitsName}' output; outputs: {string.Join(", ", session.OutputNames)}.");
        if (logits.ElementType is not (TensorElementType.Float32 or TensorElementType.Float16) || logits.Rank != 3)
        {
            throw new InvalidDataException($"{model}: '{LogitsName}' is {logits}; expected float32 or float16 [batch, sequence, vocab].");
        }

        var outputs = new HashSet<string>(session.OutputNames, StringComparer.Ordinal);
        var past = new List<PastKeyValueInput>();
        string[] unknown = session.InputMetadata
            .Where(i => i.Name is not (InputIdsName or AttentionMaskName or PositionIdsName or UseCacheBranchName or TokenTypeIdsName) && !PastPattern().IsMatch(i.Name))
            .Select(i => i.ToString())
            .ToArray();
        if (unknown.Length > 0)
        {
            throw new InvalidDataException(
                $"{model}: cannot map the decoder input{(unknown.Length == 1 ? string.Empty : "s")} {string.Join(", ", unknown)}; known inputs are " +
                $"{InputIdsName}, {AttentionMaskName}, {PositionIdsName}, {TokenTypeIdsName}, {UseCacheBranchName} and past_key_values.{{layer}}.key|value.");
        }

        foreach (NodeMetadata input in session.InputMetadata)
        {
            switch (input.Name)
            {
                case InputIdsName or AttentionMaskName or PositionIdsName or UseCacheBranchName or TokenTypeIdsName:
                    continue;
            }

            Match match = PastPattern().Match(input.Name);

            if (input.ElementType is not (TensorElementType.Float32 or TensorElementType.Float16 or TensorElementType.BFloat16) || input.Rank != 4)
            {
                throw new InvalidDataException($"{model}: past input {input}; expected float32, float16 or bfloat16 [batch, kv_heads, past, head_dim].");
            }

            int layer = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            bool isKey = match.Groups[2].Value == "key";
            string present = $"present.{layer}.{match.Groups[2].Value}";
            long heads = input.Dimensions[1] >= 0 ? input.Dimensions[1] : config?.NumKeyValueHeads
                ?? throw new InvalidDataException($"{model}: {input} leaves the key/value head count symbolic and there is no config.json num_key_value_heads.");
            long headDim = input.Dimensions[3] >= 0 ? input.Dimensions[3] : config?.HeadDim
                ?? throw new InvalidDataException($"{model}: {input} leaves the head size symbolic and there is no config.json head_dim.");
            past.Add(new PastKeyValueInput(input.Name, outputs.Contains(present) ? present : null, layer, isKey, input.ElementType, heads, headDim));
        }

        PastKeyValueInput[] ordered = past.OrderBy(p => p.Layer).ThenBy(p => p.IsKey ? 0 : 1).ToArray();
        return new DecoderSignature(
            inputs.ContainsKey(AttentionMaskName),
            inputs.ContainsKey(PositionIdsName),
            inputs.ContainsKey(UseCacheBranchName),
            inputs.ContainsKey(TokenTypeIdsName),
            ordered,
            logits.ElementType,
            logits.Dimensions[2]);
    }

    [GeneratedRegex(@"^past_key_values\.(\d+)\.(key|value)$", RegexOptions.CultureInvariant)]
    private static partial Regex PastPattern();
}
