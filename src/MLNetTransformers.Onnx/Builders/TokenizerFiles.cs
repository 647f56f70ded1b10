using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MLNetTransformers.Onnx.Builders;

/// <summary>A special token at a fixed id.</summary>
internal sealed record SpecialToken(int Id, string Content);

/// <summary>
/// Writes valid Hugging Face tokenizer files for generated vocabularies: a byte-level BPE (the 256 byte tokens, then two-character
/// tokens with their merges, then reserved tokens) when the vocabulary has room for the bytes, otherwise a WordLevel tokenizer
/// over generated syllable words; for encoders a BERT WordPiece tokenizer. Every id of the model's vocabulary has a token.
/// </summary>
internal static class TokenizerFiles
{
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly JsonSerializerOptions SerializerOptions = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes <paramref name="node"/> as indented UTF-8 JSON.</summary>
    public static void WriteJson(string path, JsonNode node) => File.WriteAllText(path, node.ToJsonString(SerializerOptions) + "\n", new UTF8Encoding(false));

    /// <summary>
    /// A decoder tokenizer: byte-level BPE when the vocabulary holds the 256 bytes (placed from <paramref name="byteOffset"/>),
    /// else WordLevel. <paramref name="bos"/>, when given, is prepended by the post-processor.
    /// </summary>
    public static void WriteDecoderTokenizer(string directory, int vocab, IReadOnlyList<SpecialToken> specials, int byteOffset, string? bos, string eos, string unk, string tokenizerClass, int maxLength)
    {
        bool byteLevel = vocab >= byteOffset + 256 && specials.All(s => s.Id < byteOffset || s.Id >= byteOffset + 256);
        string?[] tokens = new string?[vocab];
        foreach (SpecialToken special in specials)
        {
            tokens[special.Id] = special.Content;
        }

        var merges = new List<string>();
        if (byteLevel)
        {
            string[] alphabet = ByteLevelAlphabet();
            for (int b = 0; b < 256; b++)
            {
                tokens[byteOffset + b] = alphabet[b];
            }

            using IEnumerator<(string Left, string Right)> pairs = BytePairs(alphabet).GetEnumerator();
            int reserved = 0;
            for (int id = 0; id < vocab; id++)
            {
                if (tokens[id] is not null)
                {
                    continue;
                }

                if (pairs.MoveNext())
                {
                    tokens[id] = pairs.Current.Left + pairs.Current.Right;
                    merges.Add(pairs.Current.Left + " " + pairs.Current.Right);
                }
                else
                {
                    tokens[id] = string.Create(CultureInfo.InvariantCulture, $"<|reserved_{reserved++}|>");
                }
            }
        }
        else
        {
            Fill(tokens, Words());
        }

        var addedTokens = specials.OrderBy(s => s.Id).ToList();
        using (var stream = File.Create(Path.Combine(directory, "tokenizer.json")))
        using (var writer = new Utf8JsonWriter(stream, WriterOptions))
        {
            writer.WriteStartObject();
            WriteHeader(writer, addedTokens);
            writer.WriteNull("normalizer");
            writer.WritePropertyName("pre_tokenizer");
            if (byteLevel)
            {
                WriteByteLevel(writer, addPrefixSpace: false, trimOffsets: true);
            }
            else
            {
                writer.WriteStartObject();
                writer.WriteString("type", "Whitespace");
                writer.WriteEndObject();
            }

            writer.WritePropertyName("post_processor");
            if (bos is not null)
            {
                WriteBosTemplate(writer, bos, Array.IndexOf(tokens, bos));
            }
            else if (byteLevel)
            {
                WriteByteLevel(writer, addPrefixSpace: true, trimOffsets: false);
            }
            else
            {
                writer.WriteNullValue();
            }

            writer.WritePropertyName("decoder");
            if (byteLevel)
            {
                WriteByteLevel(writer, addPrefixSpace: true, trimOffsets: true);
            }
            else
            {
                writer.WriteNullValue();
            }

            writer.WriteStartObject("model");
            if (byteLevel)
            {
                writer.WriteString("type", "BPE");
                writer.WriteNull("dropout");
                writer.WriteNull("unk_token");
                writer.WriteString("continuing_subword_prefix", string.Empty);
                writer.WriteString("end_of_word_suffix", string.Empty);
                writer.WriteBoolean("fuse_unk", false);
                writer.WriteBoolean("byte_fallback", false);
                writer.WriteBoolean("ignore_merges", false);
                WriteVocab(writer, tokens);
                writer.WriteStartArray("merges");
                foreach (string merge in merges)
                {
                    writer.WriteStringValue(merge);
                }

                writer.WriteEndArray();
            }
            else
            {
                writer.WriteString("type", "WordLevel");
                WriteVocab(writer, tokens);
                writer.WriteString("unk_token", unk);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        var config = new JsonObject
        {
            ["tokenizer_class"] = tokenizerClass,
            ["add_bos_token"] = bos is not null,
            ["add_eos_token"] = false,
            ["bos_token"] = bos ?? eos,
            ["eos_token"] = eos,
            ["unk_token"] = unk,
            ["pad_token"] = eos,
            ["padding_side"] = "left",
            ["model_max_length"] = maxLength,
            ["clean_up_tokenization_spaces"] = false,
            ["added_tokens_decoder"] = AddedTokensDecoder(addedTokens),
            ["chat_template"] = "{% for message in messages %}{{ message['role'] + ': ' + message['content'] + '\\n' }}{% endfor %}"
                + "{% if add_generation_prompt %}{{ 'assistant: ' }}{% endif %}",
        };
        WriteJson(Path.Combine(directory, "tokenizer_config.json"), config);
        WriteJson(Path.Combine(directory, "special_tokens_map.json"), new JsonObject
        {
            ["bos_token"] = bos ?? eos,
            ["eos_token"] = eos,
            ["unk_token"] = unk,
            ["pad_token"] = eos,
        });
    }

    /// <summary>
    /// A BERT (uncased) WordPiece tokenizer: [PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4, then characters, <c>##</c>
    /// continuations and generated words; <c>[CLS] A [SEP]</c> / <c>[CLS] A [SEP] B [SEP]</c> with type ids.
    /// </summary>
    public static void WriteBertTokenizer(string directory, int vocab, int maxLength)
    {
        string[] specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
        string?[] tokens = new string?[vocab];
        const string Characters = "abcdefghijklmnopqrstuvwxyz0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
        IEnumerable<string> candidates = specials
            .Concat(Characters.Select(c => c.ToString()))
            .Concat(Characters.Select(c => "##" + c))
            .Concat(Words().SelectMany(w => new[] { w, "##" + w }));
        Fill(tokens, candidates);
        var addedTokens = specials.Take(Math.Min(specials.Length, vocab)).Select((s, i) => new SpecialToken(i, s)).ToList();

        using (var stream = File.Create(Path.Combine(directory, "tokenizer.json")))
        using (var writer = new Utf8JsonWriter(stream, WriterOptions))
        {
            writer.WriteStartObject();
            WriteHeader(writer, addedTokens);
            writer.WriteStartObject("normalizer");
            writer.WriteString("type", "BertNormalizer");
            writer.WriteBoolean("clean_text", true);
            writer.WriteBoolean("handle_chinese_chars", true);
            writer.WriteBoolean("strip_accents", false);
            writer.WriteBoolean("lowercase", true);
            writer.WriteEndObject();
            writer.WriteStartObject("pre_tokenizer");
            writer.WriteString("type", "BertPreTokenizer");
            writer.WriteEndObject();
            writer.WriteStartObject("post_processor");
            writer.WriteString("type", "TemplateProcessing");
            writer.WriteStartArray("single");
            WritePiece(writer, "SpecialToken", "[CLS]", 0);
            WritePiece(writer, "Sequence", "A", 0);
            WritePiece(writer, "SpecialToken", "[SEP]", 0);
            writer.WriteEndArray();
            writer.WriteStartArray("pair");
            WritePiece(writer, "SpecialToken", "[CLS]", 0);
            WritePiece(writer, "Sequence", "A", 0);
            WritePiece(writer, "SpecialToken", "[SEP]", 0);
            WritePiece(writer, "Sequence", "B", 1);
            WritePiece(writer, "SpecialToken", "[SEP]", 1);
            writer.WriteEndArray();
            writer.WriteStartObject("special_tokens");
            WriteSpecialTokenEntry(writer, "[CLS]", 2);
            WriteSpecialTokenEntry(writer, "[SEP]", 3);
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteStartObject("decoder");
            writer.WriteString("type", "WordPiece");
            writer.WriteString("prefix", "##");
            writer.WriteBoolean("cleanup", true);
            writer.WriteEndObject();
            writer.WriteStartObject("model");
            writer.WriteString("type", "WordPiece");
            writer.WriteString("unk_token", "[UNK]");
            writer.WriteString("continuing_subword_prefix", "##");
            writer.WriteNumber("max_input_chars_per_word", 100);
            WriteVocab(writer, tokens);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        WriteJson(Path.Combine(directory, "tokenizer_config.json"), new JsonObject
        {
            ["tokenizer_class"] = "BertTokenizer",
            ["do_lower_case"] = true,
            ["strip_accents"] = false,
            ["cls_token"] = "[CLS]",
            ["sep_token"] = "[SEP]",
            ["pad_token"] = "[PAD]",
            ["unk_token"] = "[UNK]",
            ["mask_token"] = "[MASK]",
            ["padding_side"] = "right",
            ["model_max_length"] = maxLength,
            ["clean_up_tokenization_spaces"] = true,
            ["added_tokens_decoder"] = AddedTokensDecoder(addedTokens),
        });
        WriteJson(Path.Combine(directory, "special_tokens_map.json"), new JsonObject
        {
            ["cls_token"] = "[CLS]",
            ["sep_token"] = "[SEP]",
            ["pad_token"] = "[PAD]",
            ["unk_token"] = "[UNK]",
            ["mask_token"] = "[MASK]",
        });
    }

    /// <summary>GPT-2's byte → printable character map (<c>bytes_to_unicode</c>).</summary>
    public static string[] ByteLevelAlphabet()
    {
        var map = new string[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is (>= '!' and <= '~') or (>= 0xA1 and <= 0xAC) or (>= 0xAE and <= 0xFF);
            map[b] = ((char)(printable ? b : next++)).ToString();
        }

        return map;
    }

    /// <summary>Distinct lowercase words made of syllables (V or CV), shortest first.</summary>
    public static IEnumerable<string> Words()
    {
        const string Consonants = "bcdfghjklmnprstvwz";
        const string Vowels = "aeiou";
        var syllables = new List<string>();
        foreach (char c in Consonants)
        {
            foreach (char v in Vowels)
            {
                syllables.Add(string.Concat(c, v));
            }
        }

        syllables.AddRange(Vowels.Select(v => v.ToString()));
        for (int length = 1; ; length++)
        {
            foreach (string word in Level(syllables, length))
            {
                yield return word;
            }
        }

        static IEnumerable<string> Level(List<string> syllables, int length) =>
            length == 1 ? syllables : Level(syllables, length - 1).SelectMany(prefix => syllables.Select(s => prefix + s));
    }

    /// <summary>Pairs of byte-level characters, letters and the space marker first, all pairs among the first k characters before the (k+1)th.</summary>
    private static IEnumerable<(string Left, string Right)> BytePairs(string[] alphabet)
    {
        var order = new List<int>();
        order.AddRange(Enumerable.Range('a', 26));
        order.Add(' ');
        order.AddRange(Enumerable.Range('A', 26));
        order.AddRange(Enumerable.Range('0', 10));
        order.AddRange(".,'-!?:;\"()\n".Select(c => (int)c));
        order.AddRange(Enumerable.Range(0, 256).Where(b => !order.Contains(b)));
        for (int k = 0; k < order.Count; k++)
        {
            for (int i = 0; i < k; i++)
            {
                yield return (alphabet[order[i]], alphabet[order[k]]);
                yield return (alphabet[order[k]], alphabet[order[i]]);
            }

            yield return (alphabet[order[k]], alphabet[order[k]]);
        }
    }

    private static void Fill(string?[] tokens, IEnumerable<string> candidates)
    {
        var used = new HashSet<string>(tokens.OfType<string>(), StringComparer.Ordinal);
        using IEnumerator<string> source = candidates.GetEnumerator();
        for (int id = 0; id < tokens.Length; id++)
        {
            while (tokens[id] is null && source.MoveNext())
            {
                if (used.Add(source.Current))
                {
                    tokens[id] = source.Current;
                }
            }
        }
    }

    private static void WriteHeader(Utf8JsonWriter writer, IReadOnlyList<SpecialToken> addedTokens)
    {
        writer.WriteString("version", "1.0");
        writer.WriteNull("truncation");
        writer.WriteNull("padding");
        writer.WriteStartArray("added_tokens");
        foreach (SpecialToken token in addedTokens)
        {
            writer.WriteStartObject();
            writer.WriteNumber("id", token.Id);
            writer.WriteString("content", token.Content);
            writer.WriteBoolean("single_word", false);
            writer.WriteBoolean("lstrip", false);
            writer.WriteBoolean("rstrip", false);
            writer.WriteBoolean("normalized", false);
            writer.WriteBoolean("special", true);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteByteLevel(Utf8JsonWriter writer, bool addPrefixSpace, bool trimOffsets)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "ByteLevel");
        writer.WriteBoolean("add_prefix_space", addPrefixSpace);
        writer.WriteBoolean("trim_offsets", trimOffsets);
        writer.WriteBoolean("use_regex", true);
        writer.WriteEndObject();
    }

    private static void WriteBosTemplate(Utf8JsonWriter writer, string bos, int bosId)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "TemplateProcessing");
        writer.WriteStartArray("single");
        WritePiece(writer, "SpecialToken", bos, 0);
        WritePiece(writer, "Sequence", "A", 0);
        writer.WriteEndArray();
        writer.WriteStartArray("pair");
        WritePiece(writer, "SpecialToken", bos, 0);
        WritePiece(writer, "Sequence", "A", 0);
        WritePiece(writer, "SpecialToken", bos, 1);
        WritePiece(writer, "Sequence", "B", 1);
        writer.WriteEndArray();
        writer.WriteStartObject("special_tokens");
        WriteSpecialTokenEntry(writer, bos, bosId);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WritePiece(Utf8JsonWriter writer, string kind, string id, int typeId)
    {
        writer.WriteStartObject();
        writer.WriteStartObject(kind);
        writer.WriteString("id", id);
        writer.WriteNumber("type_id", typeId);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteSpecialTokenEntry(Utf8JsonWriter writer, string token, int id)
    {
        writer.WriteStartObject(token);
        writer.WriteString("id", token);
        writer.WriteStartArray("ids");
        writer.WriteNumberValue(id);
        writer.WriteEndArray();
        writer.WriteStartArray("tokens");
        writer.WriteStringValue(token);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteVocab(Utf8JsonWriter writer, string?[] tokens)
    {
        writer.WriteStartObject("vocab");
        for (int id = 0; id < tokens.Length; id++)
        {
            writer.WriteNumber(tokens[id] ?? throw new InvalidOperationException($"No token for id {id}."), id);
        }

        writer.WriteEndObject();
    }

    private static JsonObject AddedTokensDecoder(IEnumerable<SpecialToken> tokens)
    {
        var decoder = new JsonObject();
        foreach (SpecialToken token in tokens)
        {
            decoder[token.Id.ToString(CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["content"] = token.Content,
                ["lstrip"] = false,
                ["normalized"] = false,
                ["rstrip"] = false,
                ["single_word"] = false,
                ["special"] = true,
            };
        }

        return decoder;
    }
}
