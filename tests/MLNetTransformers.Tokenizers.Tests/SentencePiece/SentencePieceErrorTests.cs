using MLNetTransformers.Tokenizers.SentencePiece;
using static MLNetTransformers.Tokenizers.Tests.SentencePiece.SentencePieceModelBuilder;

namespace MLNetTransformers.Tokenizers.Tests.SentencePiece;

/// <summary>Malformed and unsupported .model files fail with an exception that names the file and what is wrong.</summary>
[TestClass]
public sealed class SentencePieceErrorTests
{
    private static byte[] TinyLlamaModel() => File.ReadAllBytes(Path.Combine(SentencePieceTestSupport.TinyLlama, "tokenizer.model"));

    private static ProtoWriter[] SmallPieces() =>
        [Piece("<unk>", 0, Unknown), Piece("<s>", 0, Control), Piece("</s>", 0, Control), Piece("▁", -1, Normal), Piece("a", -2, Normal)];

    private static T Load<T>(byte[] bytes, out string file)
        where T : Exception
    {
        using var folder = new ScratchFolder();
        string path = folder.Write("tokenizer.model", bytes);
        file = path;
        return Assert.ThrowsExactly<T>(() => Tokenizer.FromSentencePiece(path));
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(100)]
    [DataRow(31_000)]
    [DataRow(62_000)]
    public void TruncatedModelNamesTheFileAndTheTruncation(int length)
    {
        byte[] bytes = TinyLlamaModel();
        Assert.IsLessThan(bytes.Length, length);
        var ex = Load<InvalidDataException>(bytes[..length], out string file);
        StringAssert.Contains(ex.Message, file);
        StringAssert.Contains(ex.Message, "not a valid SentencePiece model");
        StringAssert.Contains(ex.Message, "truncated");
        StringAssert.Contains(ex.Message, "ModelProto");
    }

    [TestMethod]
    public void EmptyFileHasNoPieces()
    {
        var ex = Load<InvalidDataException>([], out string file);
        StringAssert.Contains(ex.Message, file);
        StringAssert.Contains(ex.Message, "no pieces");
    }

    [TestMethod]
    public void JsonGivenAsModelIsRejected()
    {
        byte[] json = File.ReadAllBytes(Path.Combine(SentencePieceTestSupport.TinyLlama, "tokenizer.json"));
        var ex = Load<InvalidDataException>(json, out string file);
        StringAssert.Contains(ex.Message, file);
        StringAssert.Contains(ex.Message, "not a valid SentencePiece model");
    }

    [TestMethod]
    public void WrongWireTypeForPiecesIsNamed()
    {
        byte[] bytes = new ProtoWriter().Varint(1, 5).ToArray();
        var ex = Load<InvalidDataException>(bytes, out string file);
        StringAssert.Contains(ex.Message, file);
        StringAssert.Contains(ex.Message, "field 1 (pieces) has wire type 0");
        StringAssert.Contains(ex.Message, "at byte 1");
    }

    [TestMethod]
    public void CorruptPieceIsNamedWithItsIndex()
    {
        // pieces[1] declares a 3-byte string but its message holds 1 byte.
        var corrupt = new ProtoWriter().Raw(0x0A, 0x03, 0x61);
        byte[] bytes = new ProtoWriter().Message(1, Piece("<unk>", 0, Unknown)).Message(1, corrupt).ToArray();
        var ex = Load<InvalidDataException>(bytes, out string file);
        StringAssert.Contains(ex.Message, file);
        StringAssert.Contains(ex.Message, "ModelProto.pieces[1]");
        StringAssert.Contains(ex.Message, "truncated");
    }

    [TestMethod]
    public void InvalidWireTypeIsRejected()
    {
        var ex = Load<InvalidDataException>([0x0F], out string file);
        StringAssert.Contains(ex.Message, file);
        StringAssert.Contains(ex.Message, "invalid wire type 7");
    }

    [TestMethod]
    public void InvalidUtf8PieceIsRejected()
    {
        var piece = new ProtoWriter().Bytes(1, [0xC3, 0x28]);
        byte[] bytes = Model([Piece("<unk>", 0, Unknown), piece], Trainer(Bpe, 2), Normalizer("identity", null));
        var ex = Load<InvalidDataException>(bytes, out string file);
        StringAssert.Contains(ex.Message, file);
        StringAssert.Contains(ex.Message, "pieces[1]");
        StringAssert.Contains(ex.Message, "UTF-8");
    }

    [TestMethod]
    public void EmptyPieceIsRejected()
    {
        byte[] bytes = Model([Piece("<unk>", 0, Unknown), new ProtoWriter().Float(2, -1)], Trainer(Bpe, 2), Normalizer("identity", null));
        var ex = Load<InvalidDataException>(bytes, out string file);
        StringAssert.Contains(ex.Message, file);
        StringAssert.Contains(ex.Message, "pieces[1]");
        StringAssert.Contains(ex.Message, "missing or empty");
    }

    [TestMethod]
    public void DuplicatePieceIsRejected()
    {
        byte[] bytes = Model([.. SmallPieces(), Piece("a", -3, Normal)], Trainer(Bpe, 6), Normalizer("identity", null));
        var ex = Load<InvalidDataException>(bytes, out string file);
        StringAssert.Contains(ex.Message, file);
        StringAssert.Contains(ex.Message, "pieces[5] \"a\" is already defined as pieces[4]");
    }

    [TestMethod]
    public void UnkIdOutsideTheVocabularyIsRejected()
    {
        byte[] bytes = Model(SmallPieces(), Trainer(Unigram, 5, unkId: 9), Normalizer("identity", null));
        var ex = Load<InvalidDataException>(bytes, out string file);
        StringAssert.Contains(ex.Message, file);
        StringAssert.Contains(ex.Message, "unk_id 9");
    }

    [TestMethod]
    public void CorruptPrecompiledCharsmapIsNamed()
    {
        byte[] bytes = Model(SmallPieces(), Trainer(Unigram, 5), Normalizer("nmt_nfkc", [0xFF, 0xFF, 0x00, 0x00, 0x01]));
        var ex = Load<InvalidDataException>(bytes, out string file);
        StringAssert.Contains(ex.Message, file);
        StringAssert.Contains(ex.Message, "precompiled_charsmap");
    }

    [TestMethod]
    [DataRow(WordModel, "WORD (3)")]
    [DataRow(CharModel, "CHAR (4)")]
    [DataRow(7, "7 (not a known ModelType)")]
    public void UnsupportedModelTypeIsNamed(int modelType, string name)
    {
        byte[] bytes = Model(SmallPieces(), Trainer(modelType, 5), Normalizer("identity", null));
        var ex = Load<NotSupportedException>(bytes, out string file);
        StringAssert.Contains(ex.Message, file);
        StringAssert.Contains(ex.Message, $"model_type {name}");
    }

    [TestMethod]
    public void WhitespaceAsSuffixIsNotSupported()
    {
        var trainer = Trainer(Bpe, 5).Varint(24, 1);
        var ex = Load<NotSupportedException>(Model(SmallPieces(), trainer, Normalizer("identity", null)), out string file);
        StringAssert.Contains(ex.Message, file);
        StringAssert.Contains(ex.Message, "treat_whitespace_as_suffix");
    }

    [TestMethod]
    public void ExplicitAddBosWithoutBosTokenIsAnError()
    {
        using var folder = new ScratchFolder();
        string model = folder.Write("tokenizer.model", Model(SmallPieces(), Trainer(Bpe, 5, bosId: -1), Normalizer("identity", null)));
        folder.Write("tokenizer_config.json", """{ "add_bos_token": true }""");
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => Tokenizer.FromSentencePiece(model));
        StringAssert.Contains(ex.Message, "add_bos_token");

        // Left to its default, a missing BOS simply adds nothing.
        File.Delete(folder.File("tokenizer_config.json"));
        Tokenizer tokenizer = Tokenizer.FromSentencePiece(model);
        CollectionAssert.AreEqual(new[] { "▁", "a" }, tokenizer.Encode("a").Tokens.ToArray());
    }

    [TestMethod]
    public void UnknownFieldsAndNegativeInt32AreRead()
    {
        // Unknown fields of every wire type (including a group) are skipped; int32 −1 is a 10-byte varint.
        var trainer = new ProtoWriter()
            .Raw(0xF8, 0x06, 0x07)                                      // field 111, varint 7
            .Raw(0x99, 0x07, 1, 2, 3, 4, 5, 6, 7, 8)                    // field 115, fixed64
            .Raw(0xA3, 0x07, 0x08, 0x01, 0xA4, 0x07)                    // field 116 group { field 1 varint 1 }
            .Varint(3, Unigram).Varint(40, 0).Varint(41, -1).Varint(42, -1).Varint(43, -1);
        byte[] bytes = new ProtoWriter()
            .Message(1, Piece("<unk>", 0, Unknown))
            .Message(1, Piece("▁a", -1, Normal).Raw(0xC5, 0x3E, 1, 2, 3, 4)) // extension field 1000, fixed32
            .Message(2, trainer)
            .Message(3, Normalizer("identity", null))
            .Message(4, new ProtoWriter().String(1, "self test"))
            .ToArray();
        var proto = SentencePieceModelProto.Parse(bytes);
        Assert.HasCount(2, proto.Pieces);
        Assert.AreEqual(-1, proto.Trainer.BosId);
        Assert.AreEqual(-1, proto.Trainer.EosId);
        Assert.AreEqual(-1, proto.Trainer.PadId);
        Assert.AreEqual(new SentencePieceEntry("▁a", -1, SentencePieceType.Normal), proto.Pieces[1]);

        using var folder = new ScratchFolder();
        Tokenizer tokenizer = Tokenizer.FromSentencePiece(folder.Write("tokenizer.model", bytes));
        CollectionAssert.AreEqual(new[] { 1, 1 }, tokenizer.Encode("a a").Ids.ToArray(), "no EOS (eos_id −1), no BOS");
    }
}
