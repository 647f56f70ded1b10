using System.Text.Json;
using MLNetTransformers.Tokenizers.Json;

namespace MLNetTransformers.Tokenizers;

public sealed partial class Tokenizer
{
    private static readonly JsonDocumentOptions JsonOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 256 };

    /// <summary>
    /// Loads a tokenizer from a model folder: <c>tokenizer.json</c> (with <c>tokenizer_config.json</c> and
    /// <c>special_tokens_map.json</c> when present), or a SentencePiece <c>tokenizer.model</c> when there is no tokenizer.json.
    /// </summary>
    /// <param name="directory">The folder.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">The folder holds neither tokenizer.json nor tokenizer.model.</exception>
    /// <exception cref="InvalidDataException">A file is malformed (the message names the file, the JSON path and the value).</exception>
    /// <exception cref="NotSupportedException">A component type is unknown.</exception>
    public static Tokenizer FromDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string full = Path.GetFullPath(directory);
        if (!Directory.Exists(full))
        {
            throw new DirectoryNotFoundException($"Tokenizer folder not found: {full}");
        }

        string json = Path.Combine(full, "tokenizer.json");
        if (File.Exists(json))
        {
            return FromFile(json);
        }

        string sentencePiece = Path.Combine(full, "tokenizer.model");
        if (File.Exists(sentencePiece))
        {
            return FromSentencePiece(sentencePiece);
        }

        throw new FileNotFoundException($"No tokenizer.json or tokenizer.model in {full}.", json);
    }

    /// <summary>Loads a <c>tokenizer.json</c>, with <c>tokenizer_config.json</c> and <c>special_tokens_map.json</c> from the same folder when present.</summary>
    /// <param name="path">The tokenizer.json file.</param>
    /// <returns>The tokenizer.</returns>
    public static Tokenizer FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"Tokenizer file not found: {full}", full);
        }

        string directory = Path.GetDirectoryName(full)!;
        using var document = Parse(File.ReadAllBytes(full), full);
        TokenizerConfig config = ReadConfig(directory);
        return TokenizerJsonReader.Read(document, full, config);
    }

    /// <summary>Loads a tokenizer from <c>tokenizer.json</c> content (and optionally <c>tokenizer_config.json</c> content).</summary>
    /// <param name="tokenizerJson">The tokenizer.json stream.</param>
    /// <param name="tokenizerConfigJson">The tokenizer_config.json stream, or <see langword="null"/>.</param>
    /// <returns>The tokenizer.</returns>
    public static Tokenizer FromJson(Stream tokenizerJson, Stream? tokenizerConfigJson = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJson);
        using var document = Parse(ReadAll(tokenizerJson), "tokenizer.json");
        using JsonDocument? config = tokenizerConfigJson is null ? null : Parse(ReadAll(tokenizerConfigJson), "tokenizer_config.json");
        return TokenizerJsonReader.Read(document, "tokenizer.json", TokenizerJsonReader.ReadConfig(config, null, "tokenizer_config.json"));
    }

    private static TokenizerConfig ReadConfig(string directory)
    {
        string configPath = Path.Combine(directory, "tokenizer_config.json");
        string mapPath = Path.Combine(directory, "special_tokens_map.json");
        using JsonDocument? config = File.Exists(configPath) ? Parse(File.ReadAllBytes(configPath), configPath) : null;
        using JsonDocument? map = File.Exists(mapPath) ? Parse(File.ReadAllBytes(mapPath), mapPath) : null;
        return TokenizerJsonReader.ReadConfig(config, map, configPath);
    }

    private static JsonDocument Parse(byte[] bytes, string file)
    {
        try
        {
            return JsonDocument.Parse(bytes, JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{file}: not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}): {ex.Message}", ex);
        }
    }

    private static byte[] ReadAll(Stream stream)
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }
}
