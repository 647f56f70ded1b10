using System.Text.Json;
using MLNetTransformers.Tokenizers.Core;
using static MLNetTransformers.Tokenizers.Tests.SentencePiece.SentencePieceModelBuilder;

namespace MLNetTransformers.Tokenizers.Tests.SentencePiece;

/// <summary>
/// A T5-style Unigram <c>spiece.model</c>, rebuilt in protobuf wire format from the pieces, scores and precompiled charsmap of
/// flan-t5-small's tokenizer.json (T5's real spiece.model: 32000 pieces, &lt;pad&gt;=0 and &lt;/s&gt;=1 CONTROL,
/// &lt;unk&gt;=2 UNKNOWN, the rest NORMAL, bos_id −1, normalizer nmt_nfkc; the 100 &lt;extra_id_N&gt; tokens are not in it, T5's
/// tokenizer adds them from <c>extra_ids</c>). Loading it must give the tokenizer.json's tokenizer.
/// </summary>
[TestClass]
public sealed class SentencePieceUnigramTests
{
    private const int SpmPieces = 32000;

    private static readonly Lazy<Tokenizer> FromJson = new(() => Tokenizer.FromFile(Path.Combine(SentencePieceTestSupport.FlanT5, "tokenizer.json")));

    private static readonly Lazy<JsonDocument> Goldens = new(() => JsonDocument.Parse(File.ReadAllBytes(SentencePieceTestSupport.Golden("flan-t5-small"))));

    private static IEnumerable<JsonElement> Cases => Goldens.Value.RootElement.GetProperty("cases").EnumerateArray();

    /// <summary>The spiece.model bytes; with <paramref name="extraIdsAsUserDefined"/>, tokenizer.json's 100 extra ids are appended as USER_DEFINED pieces.</summary>
    private static byte[] BuildT5Model(bool extraIdsAsUserDefined = false)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(SentencePieceTestSupport.FlanT5, "tokenizer.json")));
        JsonElement root = json.RootElement;
        JsonElement[] vocabulary = root.GetProperty("model").GetProperty("vocab").EnumerateArray().ToArray();
        Assert.AreEqual(2, root.GetProperty("model").GetProperty("unk_id").GetInt32());
        string charsmap = root.GetProperty("normalizer").GetProperty("normalizers")[0].GetProperty("precompiled_charsmap").GetString()!;

        var pieces = new List<ProtoWriter>();
        int count = extraIdsAsUserDefined ? vocabulary.Length : SpmPieces;
        for (int id = 0; id < count; id++)
        {
            string piece = vocabulary[id][0].GetString()!;
            float score = (float)vocabulary[id][1].GetDouble();
            int type = id switch
            {
                0 or 1 => Control,
                2 => Unknown,
                >= SpmPieces => UserDefined,
                _ => Normal,
            };
            if (id >= SpmPieces)
            {
                Assert.StartsWith("<extra_id_", piece);
            }

            pieces.Add(Piece(piece, score, type));
        }

        return Model(pieces, Trainer(Unigram, SpmPieces, unkId: 2, bosId: -1, eosId: 1, padId: 0), Normalizer("nmt_nfkc", Convert.FromBase64String(charsmap)));
    }

    private static readonly Lazy<byte[]> T5Model = new(() => BuildT5Model());

    /// <summary>spiece.model next to flan-t5-small's tokenizer_config.json and special_tokens_map.json, loaded by folder.</summary>
    private static readonly Lazy<Tokenizer> FromModel = new(() =>
    {
        using var folder = new ScratchFolder();
        folder.Write("tokenizer.model", T5Model.Value);
        File.Copy(Path.Combine(SentencePieceTestSupport.FlanT5, "tokenizer_config.json"), folder.File("tokenizer_config.json"));
        File.Copy(Path.Combine(SentencePieceTestSupport.FlanT5, "special_tokens_map.json"), folder.File("special_tokens_map.json"));
        return Tokenizer.FromDirectory(folder.Path);
    });

    [TestMethod]
    public void AddedTokensAndSpecialIdsMatchTokenizerJson()
    {
        Tokenizer model = FromModel.Value;
        Tokenizer json = FromJson.Value;
        Assert.AreEqual(json.VocabularySize, model.VocabularySize);
        CollectionAssert.AreEqual(json.AddedTokens.ToArray(), model.AddedTokens.ToArray());
        Assert.AreEqual(32099, model.TokenToId("<extra_id_0>"));
        Assert.AreEqual(32000, model.TokenToId("<extra_id_99>"));
        Assert.AreEqual(1, model.EosTokenId);
        Assert.AreEqual(0, model.PadTokenId);
        Assert.AreEqual(2, model.UnkTokenId);
        Assert.IsNull(model.BosTokenId);
        for (int id = 0; id < json.VocabularySize; id++)
        {
            Assert.AreEqual(json.IdToToken(id), model.IdToToken(id), $"id {id}");
        }
    }

    [TestMethod]
    public void GoldenTextsEncodeAndDecodeLikeTokenizerJson()
    {
        Tokenizer model = FromModel.Value;
        Tokenizer json = FromJson.Value;
        var failures = new List<string>();
        int count = 0;
        foreach (JsonElement c in Cases)
        {
            string id = c.GetProperty("id").GetString()!;
            string text = c.GetProperty("text").GetString()!;
            Compare(failures, id, json, model, text);
            count++;
        }

        Assert.AreEqual(72, count);
        Assert.IsEmpty(failures, string.Join(Environment.NewLine, failures.Take(20)));
    }

    [TestMethod]
    public void GoldenIdsOfTransformersJsMatch()
    {
        Tokenizer model = FromModel.Value;
        var failures = new List<string>();
        int count = 0;
        foreach (JsonElement c in Cases)
        {
            string id = c.GetProperty("id").GetString()!;
            if (c.TryGetProperty("precompiled_divergence", out _))
            {
                continue; // transformers.js applies NFKC here instead of the precompiled charsmap; Python/Rust differ from it.
            }

            string text = c.GetProperty("text").GetString()!;
            int[] ids = c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            int[] noSpecial = c.GetProperty("ids_no_special").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            if (!ids.SequenceEqual(model.Encode(text).Ids))
            {
                failures.Add($"{id}: ids [{string.Join(' ', model.Encode(text).Ids)}] expected [{string.Join(' ', ids)}]");
            }

            if (!noSpecial.SequenceEqual(model.Encode(text, addSpecialTokens: false).Ids))
            {
                failures.Add($"{id}: ids_no_special differ");
            }

            if (!c.TryGetProperty("decoded_error", out _) && model.Decode(ids, skipSpecialTokens: true) != c.GetProperty("decoded_skip_special").GetString())
            {
                failures.Add($"{id}: decoded (skip special) {model.Decode(ids, skipSpecialTokens: true)} expected {c.GetProperty("decoded_skip_special").GetString()}");
            }

            count++;
        }

        Assert.IsGreaterThan(60, count);
        Assert.IsEmpty(failures, string.Join(Environment.NewLine, failures.Take(20)));
    }

    [TestMethod]
    public void PairsUseTheT5Template()
    {
        Tokenizer model = FromModel.Value;
        foreach (JsonElement pair in Goldens.Value.RootElement.GetProperty("pairs").EnumerateArray())
        {
            string id = pair.GetProperty("id").GetString()!;
            string text = pair.GetProperty("text").GetString()!;
            string second = pair.GetProperty("text_pair").GetString()!;
            var encoding = model.Encode(text, second);
            var expected = FromJson.Value.Encode(text, second);
            CollectionAssert.AreEqual(expected.Ids.ToArray(), encoding.Ids.ToArray(), id);
            CollectionAssert.AreEqual(expected.TypeIds.ToArray(), encoding.TypeIds.ToArray(), id);
            if (pair.TryGetProperty("note", out _))
            {
                continue; // transformers.js treats an empty pair as none: not ground truth.
            }

            CollectionAssert.AreEqual(pair.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(), encoding.Ids.ToArray(), id);
            CollectionAssert.AreEqual(pair.GetProperty("token_type_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(), encoding.TypeIds.ToArray(), id);
        }

        var single = model.Encode("Hello world");
        Assert.AreEqual(1, single.Ids[^1], "$A </s>");
    }

    [TestMethod]
    public void BareModelHasT5SpecialTokensButNoExtraIds()
    {
        using var folder = new ScratchFolder();
        Tokenizer bare = Tokenizer.FromSentencePiece(folder.Write("spiece.model", T5Model.Value));
        Tokenizer json = FromJson.Value;
        Assert.AreEqual(SpmPieces, bare.VocabularySize);
        CollectionAssert.AreEqual(new[] { "<pad>", "</s>", "<unk>" }, bare.AddedTokens.Select(t => t.Content).ToArray());
        Assert.IsTrue(bare.AddedTokens.All(t => t.Special && !t.Normalized));
        Assert.AreEqual(1, bare.EosTokenId, "eos_id from trainer_spec");
        Assert.AreEqual(0, bare.PadTokenId, "pad_id from trainer_spec");
        Assert.AreEqual(2, bare.UnkTokenId);
        Assert.IsNull(bare.BosTokenId, "bos_id −1");
        Assert.IsNull(bare.TokenToId("<extra_id_0>"));

        var failures = new List<string>();
        foreach (JsonElement c in Cases)
        {
            string text = c.GetProperty("text").GetString()!;
            if (!text.Contains("<extra_id_", StringComparison.Ordinal))
            {
                Compare(failures, c.GetProperty("id").GetString()!, json, bare, text, sameConfig: false);
            }
        }

        Assert.IsEmpty(failures, string.Join(Environment.NewLine, failures.Take(20)));
        Assert.IsGreaterThan(5, bare.Encode("<extra_id_0>").Count, "without extra_ids the text is ordinary pieces");
    }

    [TestMethod]
    public void UserDefinedPiecesBecomeNonSpecialAddedTokens()
    {
        using var folder = new ScratchFolder();
        Tokenizer model = Tokenizer.FromSentencePiece(folder.Write("spiece.model", BuildT5Model(extraIdsAsUserDefined: true)));
        Tokenizer json = FromJson.Value;
        Assert.AreEqual(32100, model.VocabularySize);
        AddedToken extra = model.AddedTokens.Single(t => t.Content == "<extra_id_0>");
        Assert.AreEqual(new AddedToken(32099, "<extra_id_0>", Normalized: false, Special: false), extra);
        Assert.IsFalse(model.IsSpecialToken(32099));

        var failures = new List<string>();
        foreach (JsonElement c in Cases)
        {
            string text = c.GetProperty("text").GetString()!;
            if (!json.Encode(text).Ids.SequenceEqual(model.Encode(text).Ids))
            {
                failures.Add(c.GetProperty("id").GetString()!);
            }
        }

        Assert.IsEmpty(failures, string.Join(", ", failures));
        int[] ids = model.Encode("fill <extra_id_0> here").Ids.ToArray();
        Assert.Contains(32099, ids);
        Assert.Contains("<extra_id_0>", model.Decode(ids, skipSpecialTokens: true), "a USER_DEFINED piece is not special");
    }

    [TestMethod]
    public void ByteFallbackUnigramDecodesBytes()
    {
        // A tiny Unigram model with byte pieces: characters no piece covers become their UTF-8 bytes.
        var pieces = new List<ProtoWriter> { Piece("<unk>", 0, Unknown), Piece("<s>", 0, Control), Piece("</s>", 0, Control) };
        for (int b = 0; b < 256; b++)
        {
            pieces.Add(Piece($"<0x{b:X2}>", 0, BytePiece));
        }

        pieces.Add(Piece("▁", -2, Normal));
        pieces.Add(Piece("a", -3, Normal));
        pieces.Add(Piece("b", -3, Normal));
        pieces.Add(Piece("▁ab", -1, Normal));
        using var folder = new ScratchFolder();
        byte[] bytes = Model(pieces, Trainer(Unigram, pieces.Count, byteFallback: true), Normalizer("identity", null));
        Tokenizer tokenizer = Tokenizer.FromSentencePiece(folder.Write("tokenizer.model", bytes));

        var encoding = tokenizer.Encode("ab€", addSpecialTokens: true);
        CollectionAssert.AreEqual(new[] { "▁ab", "<0xE2>", "<0x82>", "<0xAC>", "</s>" }, encoding.Tokens.ToArray());
        Assert.AreEqual("ab€", tokenizer.Decode(encoding.Ids, skipSpecialTokens: true));
        Assert.AreEqual("ab€</s>", tokenizer.Decode(encoding.Ids));
    }

    [TestMethod]
    public void NoDummyPrefixMeansNoPrependedMetaspace()
    {
        var pieces = new List<ProtoWriter> { Piece("<unk>", 0, Unknown), Piece("</s>", 0, Control), Piece("▁", -2, Normal), Piece("a", -3, Normal), Piece("▁a", -1, Normal) };
        using var folder = new ScratchFolder();
        byte[] bytes = Model(pieces, Trainer(Unigram, pieces.Count, unkId: 0, bosId: -1, eosId: 1), Normalizer("identity", null, addDummyPrefix: false));
        Tokenizer tokenizer = Tokenizer.FromSentencePiece(folder.Write("tokenizer.model", bytes));
        CollectionAssert.AreEqual(new[] { "a", "▁a", "</s>" }, tokenizer.Encode("a a").Tokens.ToArray());
        Assert.AreEqual("a a", tokenizer.Decode(tokenizer.Encode("a a").Ids, skipSpecialTokens: true));
        CollectionAssert.AreEqual(new[] { "<unk>", "▁a" }, tokenizer.Encode("xy a", addSpecialTokens: false).Tokens.ToArray(), "unknown characters fuse into one <unk>");
    }

    private static void Compare(List<string> failures, string id, Tokenizer expected, Tokenizer actual, string text, bool sameConfig = true)
    {
        TokenEncoding e = expected.Encode(text);
        TokenEncoding a = actual.Encode(text);
        if (!e.Ids.SequenceEqual(a.Ids))
        {
            failures.Add($"{id}: ids [{string.Join(' ', a.Ids)}] expected [{string.Join(' ', e.Ids)}]");
            return;
        }

        if (!e.Offsets.SequenceEqual(a.Offsets))
        {
            failures.Add($"{id}: offsets differ");
        }

        if (!expected.Encode(text, addSpecialTokens: false).Ids.SequenceEqual(actual.Encode(text, addSpecialTokens: false).Ids))
        {
            failures.Add($"{id}: ids without special tokens differ");
        }

        // The same config gives the same clean-up; a bare model has no config, so compare with clean-up fixed as well.
        if (sameConfig && (expected.Decode(e.Ids) != actual.Decode(a.Ids) || expected.Decode(e.Ids, skipSpecialTokens: true) != actual.Decode(a.Ids, skipSpecialTokens: true)))
        {
            failures.Add($"{id}: decoding differs");
        }

        foreach (bool cleanUp in new[] { false, true })
        {
            if (expected.Decode(e.Ids.ToArray(), skipSpecialTokens: true, cleanUp) != actual.Decode(a.Ids.ToArray(), skipSpecialTokens: true, cleanUp)
                || expected.Decode(e.Ids.ToArray(), skipSpecialTokens: false, cleanUp) != actual.Decode(a.Ids.ToArray(), skipSpecialTokens: false, cleanUp))
            {
                failures.Add($"{id}: decoding (clean-up {cleanUp}) differs");
            }
        }
    }
}
