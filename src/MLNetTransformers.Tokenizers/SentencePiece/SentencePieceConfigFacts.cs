using System.Globalization;
using System.Text.Json;
using MLNetTransformers.Tokenizers.Core;

namespace MLNetTransformers.Tokenizers.SentencePiece;

/// <summary>
/// The facts of <c>tokenizer_config.json</c> (and <c>special_tokens_map.json</c>) that Hugging Face's slow-to-fast conversion of a
/// SentencePiece model uses beyond <see cref="TokenizerConfig"/>: <c>legacy</c>, <c>add_prefix_space</c>, T5's
/// <c>extra_ids</c>, <c>added_tokens_decoder</c> and <c>additional_special_tokens</c>.
/// </summary>
internal sealed class SentencePieceConfigFacts
{
    private static readonly JsonDocumentOptions JsonOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 256 };

    public static SentencePieceConfigFacts Empty { get; } = new();

    /// <summary><c>legacy</c> (Llama/T5: whether the text is normalized as one piece with a prepended <c>▁</c>); null when absent.</summary>
    public bool? Legacy { get; private init; }

    /// <summary><c>add_prefix_space</c>; null when absent.</summary>
    public bool? AddPrefixSpace { get; private init; }

    /// <summary>T5's <c>extra_ids</c>; null when absent.</summary>
    public int? ExtraIds { get; private init; }

    /// <summary><c>added_tokens_decoder</c>: tokens with explicit ids and flags.</summary>
    public IReadOnlyList<AddedToken> AddedTokensDecoder { get; private init; } = [];

    /// <summary><c>additional_special_tokens</c> (from the config, else from special_tokens_map.json).</summary>
    public IReadOnlyList<string> AdditionalSpecialTokens { get; private init; } = [];

    /// <summary>Reads the facts from the folder of the model file; empty when the folder has neither file.</summary>
    /// <exception cref="InvalidDataException">A file is malformed (the message names it and the key).</exception>
    public static SentencePieceConfigFacts Read(string? directory)
    {
        if (directory is null)
        {
            return Empty;
        }

        string configPath = Path.Combine(directory, "tokenizer_config.json");
        string mapPath = Path.Combine(directory, "special_tokens_map.json");
        using JsonDocument? config = Load(configPath);
        using JsonDocument? map = Load(mapPath);
        if (config is null && map is null)
        {
            return Empty;
        }

        JsonElement root = config?.RootElement is { ValueKind: JsonValueKind.Object } r ? r : default;
        JsonElement mapRoot = map?.RootElement is { ValueKind: JsonValueKind.Object } m ? m : default;
        List<string> additional = ReadTokenList(root, configPath) ?? ReadTokenList(mapRoot, mapPath) ?? [];
        return new SentencePieceConfigFacts
        {
            Legacy = Bool(root, "legacy", configPath),
            AddPrefixSpace = Bool(root, "add_prefix_space", configPath),
            ExtraIds = Int(root, "extra_ids", configPath),
            AddedTokensDecoder = ReadAddedTokensDecoder(root, configPath),
            AdditionalSpecialTokens = additional,
        };
    }

    private static JsonDocument? Load(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path), JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}): {ex.Message}", ex);
        }
    }

    private static bool TryGet(JsonElement root, string name, out JsonElement value)
    {
        value = default;
        return root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;
    }

    private static bool? Bool(JsonElement root, string name, string file)
    {
        if (!TryGet(root, name, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new InvalidDataException($"{file}: $.{name}: expected true or false but found {value.GetRawText()}."),
        };
    }

    private static int? Int(JsonElement root, string name, string file)
    {
        if (!TryGet(root, name, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int number) && number >= 0
            ? number
            : throw new InvalidDataException($"{file}: $.{name}: expected a non-negative integer but found {value.GetRawText()}.");
    }

    private static List<AddedToken> ReadAddedTokensDecoder(JsonElement root, string file)
    {
        var tokens = new List<AddedToken>();
        if (!TryGet(root, "added_tokens_decoder", out JsonElement decoder))
        {
            return tokens;
        }

        if (decoder.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{file}: $.added_tokens_decoder: expected an object of id → token but found {decoder.ValueKind}.");
        }

        foreach (JsonProperty entry in decoder.EnumerateObject())
        {
            string at = $"{file}: $.added_tokens_decoder[\"{entry.Name}\"]";
            if (!int.TryParse(entry.Name, NumberStyles.None, CultureInfo.InvariantCulture, out int id))
            {
                throw new InvalidDataException($"{at}: the key is not a token id.");
            }

            JsonElement token = entry.Value;
            string? content = token.ValueKind == JsonValueKind.Object && token.TryGetProperty("content", out JsonElement c) && c.ValueKind == JsonValueKind.String
                ? c.GetString()
                : null;
            if (string.IsNullOrEmpty(content))
            {
                throw new InvalidDataException($"{at}: expected an object with a non-empty \"content\" string.");
            }

            bool Flag(string name, bool fallback) =>
                token.TryGetProperty(name, out JsonElement v) ? v.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    JsonValueKind.Null => fallback,
                    _ => throw new InvalidDataException($"{at}.{name}: expected true or false but found {v.GetRawText()}."),
                }
                : fallback;

            tokens.Add(new AddedToken(id, content, Flag("single_word", false), Flag("lstrip", false), Flag("rstrip", false), Flag("normalized", false), Flag("special", false)));
        }

        return tokens;
    }

    private static List<string>? ReadTokenList(JsonElement root, string file)
    {
        if (!TryGet(root, "additional_special_tokens", out JsonElement list))
        {
            return null;
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"{file}: $.additional_special_tokens: expected an array but found {list.ValueKind}.");
        }

        var tokens = new List<string>();
        int index = 0;
        foreach (JsonElement item in list.EnumerateArray())
        {
            string? content = item.ValueKind switch
            {
                JsonValueKind.String => item.GetString(),
                JsonValueKind.Object when item.TryGetProperty("content", out JsonElement c) && c.ValueKind == JsonValueKind.String => c.GetString(),
                _ => null,
            };
            if (string.IsNullOrEmpty(content))
            {
                throw new InvalidDataException($"{file}: $.additional_special_tokens[{index}]: expected a token string or {{\"content\": ...}}.");
            }

            tokens.Add(content);
            index++;
        }

        return tokens;
    }
}
