using System.Text.Json;
using MLNetTransformers.Tokenizers.SentencePiece;

namespace MLNetTransformers.Tokenizers.Tests.SentencePiece;

/// <summary>
/// models/tiny-llama ships both its SentencePiece BPE model (byte fallback, Llama-2 layout) and the equivalent Hugging Face
/// tokenizer.json; loading the .model directly must give the same tokenizer.
/// </summary>
[TestClass]
public sealed class SentencePieceBpeTests
{
    private static readonly Lazy<Tokenizer> FromModel = new(() => Tokenizer.FromSentencePiece(Path.Combine(SentencePieceTestSupport.TinyLlama, "tokenizer.model")));
    private static readonly Lazy<Tokenizer> FromJson = new(() => Tokenizer.FromFile(Path.Combine(SentencePieceTestSupport.TinyLlama, "tokenizer.json")));

    private static readonly string[] EdgeCases =
    [
        "",
        " ",
        "  ",
        "   leading and trailing   ",
        "a  b   c    d",
        "\t",
        "tab\tseparated\t\tvalues\t",
        "line1\nline2\n\nline4\n",
        "windows\r\nline\r\n",
        "   \t\n  \r\n ",
        "Hello world!",
        "I ❤️ NLP 😀😂🤖 👍🏽 🤗",
        "Family: 👩\u200d👩\u200d👧\u200d👦",
        "你好，世界！我爱自然语言处理。",
        "こんにちは世界。ｶﾀｶﾅ",
        "안녕하세요, 세계!",
        "Привет, мир!",
        "Héllo wörld — naïve café",
        "é vs e\u0301",
        "ﬁnance ﬂow ㎏ ™ ①",
        "null\0char bell\u0007 esc\u001b[0m del\u007f",
        "replacement\uFFFDchar",
        "zero\u200bwidth \uFEFFbom",
        "The ▁ metaspace char ▁▁ literal▁",
        "▁",
        "0123456789 3.14159 1,000,000",
        "<s>Hello</s>world<unk>",
        "</s> <s> <unk> <pad>",
        "<0x41> <0x0A>",
        "\uD83E",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ];

    [TestMethod]
    public void ModelFileParsesWithTheDocumentedTrainerSpec()
    {
        // The folder's README documents the spm_train flags; the reader must see the same values.
        var proto = SentencePieceModelProto.Parse(File.ReadAllBytes(Path.Combine(SentencePieceTestSupport.TinyLlama, "tokenizer.model")));
        Assert.HasCount(4096, proto.Pieces);
        Assert.AreEqual((int)SentencePieceModelType.Bpe, proto.Trainer.ModelType);
        Assert.AreEqual(4096, proto.Trainer.VocabSize);
        Assert.IsTrue(proto.Trainer.ByteFallback);
        Assert.IsTrue(proto.Trainer.SplitDigits);
        Assert.AreEqual(0, proto.Trainer.UnkId);
        Assert.AreEqual(1, proto.Trainer.BosId);
        Assert.AreEqual(2, proto.Trainer.EosId);
        Assert.AreEqual(-1, proto.Trainer.PadId);
        Assert.AreEqual("<unk>", proto.Trainer.UnkPiece);
        Assert.AreEqual("identity", proto.Normalizer.Name);
        Assert.IsTrue(proto.Normalizer.AddDummyPrefix);
        Assert.IsFalse(proto.Normalizer.RemoveExtraWhitespaces);
        Assert.IsEmpty(proto.Normalizer.PrecompiledCharsmap);
        Assert.AreEqual(new SentencePieceEntry("<unk>", 0, SentencePieceType.Unknown), proto.Pieces[0]);
        Assert.AreEqual(new SentencePieceEntry("<s>", 0, SentencePieceType.Control), proto.Pieces[1]);
        Assert.AreEqual(new SentencePieceEntry("</s>", 0, SentencePieceType.Control), proto.Pieces[2]);
        Assert.AreEqual(new SentencePieceEntry("<0x00>", 0, SentencePieceType.Byte), proto.Pieces[3]);
        Assert.AreEqual(new SentencePieceEntry("<0xFF>", 0, SentencePieceType.Byte), proto.Pieces[258]);
        Assert.AreEqual(SentencePieceType.Normal, proto.Pieces[259].Type);
        Assert.AreEqual(-1f, proto.Pieces[260].Score);
    }

    [TestMethod]
    public void DerivedMergesAndVocabularyEqualTokenizerJson()
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(SentencePieceTestSupport.TinyLlama, "tokenizer.json")));
        JsonElement model = json.RootElement.GetProperty("model");
        var expectedMerges = model.GetProperty("merges").EnumerateArray().Select(m => m.GetString()!).ToArray();
        var vocabulary = model.GetProperty("vocab").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32(), StringComparer.Ordinal);

        var proto = SentencePieceModelProto.Parse(File.ReadAllBytes(Path.Combine(SentencePieceTestSupport.TinyLlama, "tokenizer.model")));
        var pieces = proto.Pieces.Select(p => p.Piece).ToArray();
        var scores = proto.Pieces.Select((p, i) => i < 3 ? 0f : p.Score).ToArray();
        CollectionAssert.AreEqual(vocabulary.OrderBy(p => p.Value).Select(p => p.Key).ToArray(), pieces);

        var merges = SentencePieceMerges.Derive(pieces, scores, vocabulary).Select(m => $"{m.Left} {m.Right}").ToArray();
        Assert.HasCount(expectedMerges.Length, merges);
        int firstDifference = Enumerable.Range(0, merges.Length).FirstOrDefault(i => merges[i] != expectedMerges[i], -1);
        Assert.AreEqual(-1, firstDifference, firstDifference < 0 ? "" : $"merge #{firstDifference}: '{merges[firstDifference]}' expected '{expectedMerges[firstDifference]}'");

        Tokenizer tokenizer = FromModel.Value;
        Assert.AreEqual(4096, tokenizer.VocabularySize);
        foreach (var (piece, id) in vocabulary)
        {
            Assert.AreEqual(id, tokenizer.TokenToId(piece), piece);
            Assert.AreEqual(piece, tokenizer.IdToToken(id));
        }
    }

    [TestMethod]
    public void SpecialTokensAndConfigMatchTokenizerJson()
    {
        Tokenizer model = FromModel.Value;
        Tokenizer json = FromJson.Value;
        CollectionAssert.AreEqual(json.AddedTokens.ToArray(), model.AddedTokens.ToArray());
        Assert.AreEqual(1, model.BosTokenId);
        Assert.AreEqual(2, model.EosTokenId);
        Assert.AreEqual(0, model.UnkTokenId);
        Assert.IsNull(model.PadTokenId);
        Assert.IsTrue(model.IsSpecialToken(1));
        Assert.IsFalse(model.IsSpecialToken(3), "byte pieces are not added tokens");
    }

    [TestMethod]
    public void EveryValidationLineEncodesAndDecodesLikeTokenizerJson()
    {
        string[] lines = File.ReadAllLines(Path.Combine(SentencePieceTestSupport.TinyLlama, "reference", "validation.txt"));
        Assert.IsGreaterThan(5000, lines.Length);
        AssertSame(lines, nameof(lines));
    }

    [TestMethod]
    public void EdgeCasesEncodeAndDecodeLikeTokenizerJson() => AssertSame(EdgeCases, "edge case");

    [TestMethod]
    public void EdgeCasesMatchKnownIds()
    {
        // Hand-checked against the pipeline: Prepend('▁') + Replace(' ' → '▁'), BPE with byte fallback, then <s>.
        Tokenizer tokenizer = FromModel.Value;
        CollectionAssert.AreEqual(new[] { 1 }, tokenizer.Encode("").Ids.ToArray(), "empty: only <s> (Prepend does nothing to empty text)");
        Assert.AreEqual("▁▁", string.Concat(tokenizer.Encode(" ", addSpecialTokens: false).Tokens), "' ' → Prepend('▁') + Replace → '▁▁'");
        var bytes = tokenizer.Encode("🤗", addSpecialTokens: false).Tokens;
        CollectionAssert.AreEqual(new[] { "▁", "<0xF0>", "<0x9F>", "<0xA4>", "<0x97>" }, bytes.ToArray());
        Assert.AreEqual("🤗", tokenizer.Decode(tokenizer.Encode("🤗").Ids, skipSpecialTokens: true));
        var special = tokenizer.Encode("<s>Hello</s>", addSpecialTokens: false);
        Assert.AreEqual(1, special.Ids[0]);
        Assert.AreEqual(2, special.Ids[^1]);
    }

    [TestMethod]
    public void GoldensOfTransformersJsMatch()
    {
        using var golden = JsonDocument.Parse(File.ReadAllBytes(SentencePieceTestSupport.Golden("tiny-llama")));
        Tokenizer tokenizer = FromModel.Value;
        var failures = new List<string>();
        int count = 0;
        foreach (JsonElement c in golden.RootElement.GetProperty("cases").EnumerateArray())
        {
            string id = c.GetProperty("id").GetString()!;
            string text = c.GetProperty("text").GetString()!;
            int[] ids = c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            int[] noSpecial = c.GetProperty("ids_no_special").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            if (!ids.SequenceEqual(tokenizer.Encode(text).Ids))
            {
                failures.Add($"{id}: ids [{string.Join(' ', tokenizer.Encode(text).Ids)}] expected [{string.Join(' ', ids)}]");
            }

            if (!noSpecial.SequenceEqual(tokenizer.Encode(text, addSpecialTokens: false).Ids))
            {
                failures.Add($"{id}: ids_no_special differ");
            }

            // transformers.js cannot decode an empty list, and its ByteFallback drops a leading U+FEFF of a byte run.
            if (!c.TryGetProperty("decoded_error", out _) && id != "zero_width" && tokenizer.Decode(ids, skipSpecialTokens: true) != c.GetProperty("decoded_skip_special").GetString())
            {
                failures.Add($"{id}: decoded differs");
            }

            count++;
        }

        Assert.IsGreaterThan(60, count);
        Assert.IsEmpty(failures, string.Join(Environment.NewLine, failures.Take(20)));
    }

    [TestMethod]
    public void PairsUseTheLlamaTemplate()
    {
        Tokenizer model = FromModel.Value;
        Tokenizer json = FromJson.Value;
        var a = model.Encode("first part", "second part");
        var b = json.Encode("first part", "second part");
        CollectionAssert.AreEqual(b.Ids.ToArray(), a.Ids.ToArray());
        CollectionAssert.AreEqual(b.TypeIds.ToArray(), a.TypeIds.ToArray());
        Assert.AreEqual(2, a.Ids.Count(id => id == 1), "<s> A <s> B");
        Assert.AreEqual(1, a.TypeIds[^1]);
    }

    [TestMethod]
    public void ConfigFlagsChangeThePipelineAsInTransformers()
    {
        using var folder = new ScratchFolder();
        File.Copy(Path.Combine(SentencePieceTestSupport.TinyLlama, "tokenizer.model"), folder.File("tokenizer.model"));
        string model = folder.File("tokenizer.model");

        // No tokenizer_config.json: special tokens come from the model's trainer_spec, BOS is added (LlamaTokenizer's default).
        Tokenizer bare = Tokenizer.FromSentencePiece(model);
        Assert.AreEqual(1, bare.BosTokenId);
        Assert.AreEqual(2, bare.EosTokenId);
        Assert.AreEqual(0, bare.UnkTokenId);
        CollectionAssert.AreEqual(FromJson.Value.Encode("Hello world").Ids.ToArray(), bare.Encode("Hello world").Ids.ToArray());

        // add_eos_token appends </s>; add_bos_token false drops <s>.
        folder.Write("tokenizer_config.json", """{ "add_bos_token": false, "add_eos_token": true }""");
        Tokenizer eos = Tokenizer.FromSentencePiece(model);
        var ids = eos.Encode("Hello world").Ids;
        Assert.AreNotEqual(1, ids[0]);
        Assert.AreEqual(2, ids[^1]);
        CollectionAssert.AreEqual(FromJson.Value.Encode("Hello world", addSpecialTokens: false).Ids.ToArray(), ids.Take(ids.Count - 1).ToArray());

        // legacy false: no '▁' is prepended to text that follows a special token (Metaspace prepend_scheme "first").
        folder.Write("tokenizer_config.json", """{ "legacy": false }""");
        Tokenizer nonLegacy = Tokenizer.FromSentencePiece(model);
        var tokens = nonLegacy.Encode("<s>Hello", addSpecialTokens: false).Tokens;
        Assert.AreEqual("<s>", tokens[0]);
        Assert.IsFalse(tokens[1].StartsWith('▁'), string.Join(" ", tokens));
        Assert.IsTrue(FromModel.Value.Encode("<s>Hello", addSpecialTokens: false).Tokens[1].StartsWith('▁'));
        CollectionAssert.AreEqual(FromJson.Value.Encode("Hello world").Ids.ToArray(), nonLegacy.Encode("Hello world").Ids.ToArray());

        // add_prefix_space false: nothing prepended, and decoding strips nothing.
        folder.Write("tokenizer_config.json", """{ "add_prefix_space": false }""");
        Tokenizer noPrefix = Tokenizer.FromSentencePiece(model);
        Assert.IsFalse(noPrefix.Encode("Hello", addSpecialTokens: false).Tokens[0].StartsWith('▁'));
        Assert.AreEqual(" Hello", noPrefix.Decode(noPrefix.Encode(" Hello", addSpecialTokens: false).Ids));
    }

    [TestMethod]
    public void ConfigAddedTokensExtendTheVocabulary()
    {
        using var folder = new ScratchFolder();
        File.Copy(Path.Combine(SentencePieceTestSupport.TinyLlama, "tokenizer.model"), folder.File("tokenizer.model"));
        folder.Write("tokenizer_config.json", """
            {
              "added_tokens_decoder": {
                "1": { "content": "<s>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true },
                "4096": { "content": "<|im_start|>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true },
                "4097": { "content": "<tool>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": false }
              },
              "additional_special_tokens": ["<|im_start|>", "<custom>", "▁the"],
              "bos_token": "<s>",
              "eos_token": "</s>",
              "unk_token": "<unk>"
            }
            """);
        Tokenizer tokenizer = Tokenizer.FromSentencePiece(folder.File("tokenizer.model"));

        Assert.AreEqual(4096, tokenizer.TokenToId("<|im_start|>"));
        Assert.IsTrue(tokenizer.IsSpecialToken(4096));
        Assert.AreEqual(4097, tokenizer.TokenToId("<tool>"));
        Assert.IsFalse(tokenizer.IsSpecialToken(4097), "added_tokens_decoder's flags are kept");
        Assert.AreEqual(4098, tokenizer.TokenToId("<custom>"), "a special token the vocabulary lacks gets the next id");
        int the = FromJson.Value.TokenToId("▁the")!.Value;
        Assert.AreEqual(the, tokenizer.TokenToId("▁the"));
        Assert.IsTrue(tokenizer.IsSpecialToken(the), "an additional special token in the vocabulary keeps its id and becomes special");
        Assert.AreEqual(4099, tokenizer.VocabularySize);

        var ids = tokenizer.Encode("<|im_start|>Hi<tool>").Ids;
        Assert.AreEqual(1, ids[0]);
        Assert.AreEqual(4096, ids[1]);
        Assert.AreEqual(4097, ids[^1]);
        Assert.AreEqual("Hi<tool>", tokenizer.Decode(ids, skipSpecialTokens: true));
        Assert.AreEqual("<s><|im_start|> Hi<tool>", tokenizer.Decode(ids), "legacy Llama: the section after a special token gets its own '▁'");
    }

    [TestMethod]
    public void FromDirectoryFallsBackToTheModel()
    {
        using var folder = new ScratchFolder();
        foreach (string name in new[] { "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json" })
        {
            File.Copy(Path.Combine(SentencePieceTestSupport.TinyLlama, name), folder.File(name));
        }

        Tokenizer tokenizer = Tokenizer.FromDirectory(folder.Path);
        CollectionAssert.AreEqual(FromJson.Value.Encode("The quick brown fox.").Ids.ToArray(), tokenizer.Encode("The quick brown fox.").Ids.ToArray());
    }

    private static void AssertSame(string[] texts, string what)
    {
        Tokenizer model = FromModel.Value;
        Tokenizer json = FromJson.Value;
        var failures = new List<string>();
        for (int i = 0; i < texts.Length; i++)
        {
            string text = texts[i];
            TokenEncoding expected = json.Encode(text);
            TokenEncoding actual = model.Encode(text);
            if (!expected.Ids.SequenceEqual(actual.Ids))
            {
                failures.Add($"{what} #{i} {Show(text)}: ids [{string.Join(' ', actual.Ids)}] expected [{string.Join(' ', expected.Ids)}]");
                continue;
            }

            if (!expected.Offsets.SequenceEqual(actual.Offsets))
            {
                failures.Add($"{what} #{i} {Show(text)}: offsets differ");
            }

            if (json.Decode(expected.Ids) != model.Decode(actual.Ids) || json.Decode(expected.Ids, skipSpecialTokens: true) != model.Decode(actual.Ids, skipSpecialTokens: true))
            {
                failures.Add($"{what} #{i} {Show(text)}: decoding differs");
            }
        }

        Assert.IsEmpty(failures, $"{failures.Count} of {texts.Length} differ:{Environment.NewLine}{string.Join(Environment.NewLine, failures.Take(20))}");
    }

    private static string Show(string text) => JsonSerializer.Serialize(text.Length > 60 ? text[..60] + "…" : text);
}
