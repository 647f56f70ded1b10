using System.Globalization;

namespace MLNetTransformers.Tokenizers.SentencePiece;

/// <summary><c>ModelProto.SentencePiece.Type</c>.</summary>
internal enum SentencePieceType
{
    /// <summary>A normal piece.</summary>
    Normal = 1,

    /// <summary>The unknown piece.</summary>
    Unknown = 2,

    /// <summary>A control symbol (<c>&lt;s&gt;</c>, <c>&lt;/s&gt;</c>, ...).</summary>
    Control = 3,

    /// <summary>A user-defined symbol, always one token.</summary>
    UserDefined = 4,

    /// <summary>An unused piece.</summary>
    Unused = 5,

    /// <summary>A byte piece <c>&lt;0xXX&gt;</c> (byte fallback).</summary>
    Byte = 6,
}

/// <summary><c>TrainerSpec.ModelType</c>.</summary>
internal enum SentencePieceModelType
{
    /// <summary>Unigram language model.</summary>
    Unigram = 1,

    /// <summary>Byte-pair encoding.</summary>
    Bpe = 2,

    /// <summary>Whitespace-delimited words.</summary>
    Word = 3,

    /// <summary>Characters.</summary>
    Char = 4,
}

/// <summary>One <c>ModelProto.SentencePiece</c>.</summary>
/// <param name="Piece">The piece (never empty).</param>
/// <param name="Score">Its score (log probability for Unigram, merge priority for BPE).</param>
/// <param name="Type">Its type.</param>
internal readonly record struct SentencePieceEntry(string Piece, float Score, SentencePieceType Type);

/// <summary>The <c>TrainerSpec</c> fields that decide tokenization, with the proto's defaults.</summary>
internal sealed class SentencePieceTrainerSpec
{
    /// <summary>model_type = 3, as read (1 UNIGRAM, 2 BPE, 3 WORD, 4 CHAR; other values are kept to be reported).</summary>
    public int ModelType { get; set; } = (int)SentencePieceModelType.Unigram;

    /// <summary>vocab_size = 4.</summary>
    public int VocabSize { get; set; } = 8000;

    /// <summary>treat_whitespace_as_suffix = 24.</summary>
    public bool TreatWhitespaceAsSuffix { get; set; }

    /// <summary>split_digits = 25.</summary>
    public bool SplitDigits { get; set; }

    /// <summary>byte_fallback = 35.</summary>
    public bool ByteFallback { get; set; }

    /// <summary>unk_id = 40.</summary>
    public int UnkId { get; set; }

    /// <summary>bos_id = 41.</summary>
    public int BosId { get; set; } = 1;

    /// <summary>eos_id = 42.</summary>
    public int EosId { get; set; } = 2;

    /// <summary>pad_id = 43.</summary>
    public int PadId { get; set; } = -1;

    /// <summary>unk_piece = 45.</summary>
    public string UnkPiece { get; set; } = "<unk>";

    /// <summary>bos_piece = 46.</summary>
    public string BosPiece { get; set; } = "<s>";

    /// <summary>eos_piece = 47.</summary>
    public string EosPiece { get; set; } = "</s>";

    /// <summary>pad_piece = 48.</summary>
    public string PadPiece { get; set; } = "<pad>";
}

/// <summary>The <c>NormalizerSpec</c>, with the proto's defaults.</summary>
internal sealed class SentencePieceNormalizerSpec
{
    /// <summary>name = 1 (e.g. <c>nmt_nfkc</c>, <c>identity</c>).</summary>
    public string? Name { get; set; }

    /// <summary>precompiled_charsmap = 2 (empty: no character normalization).</summary>
    public byte[] PrecompiledCharsmap { get; set; } = [];

    /// <summary>add_dummy_prefix = 3.</summary>
    public bool AddDummyPrefix { get; set; } = true;

    /// <summary>remove_extra_whitespaces = 4.</summary>
    public bool RemoveExtraWhitespaces { get; set; } = true;

    /// <summary>escape_whitespaces = 5.</summary>
    public bool EscapeWhitespaces { get; set; } = true;
}

/// <summary>
/// A parsed <c>sentencepiece.ModelProto</c> (field numbers from sentencepiece_model.proto): pieces = 1, trainer_spec = 2,
/// normalizer_spec = 3, self_test_data = 4 (skipped), denormalizer_spec = 5. Unknown fields are skipped as protobuf requires;
/// embedded messages that occur more than once are merged, and the last value of a scalar wins.
/// </summary>
internal sealed class SentencePieceModelProto
{
    public List<SentencePieceEntry> Pieces { get; } = [];

    public SentencePieceTrainerSpec Trainer { get; } = new();

    public SentencePieceNormalizerSpec Normalizer { get; } = new();

    public SentencePieceNormalizerSpec? Denormalizer { get; private set; }

    /// <summary>Parses the model's bytes.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a well-formed ModelProto (the message says where and why).</exception>
    public static SentencePieceModelProto Parse(ReadOnlySpan<byte> bytes)
    {
        var model = new SentencePieceModelProto();
        var reader = new ProtobufReader(bytes, 0, "ModelProto");
        while (reader.TryReadTag(out int field, out WireType wire))
        {
            switch (field)
            {
                case 1:
                {
                    reader.Expect(field, "pieces", wire, WireType.LengthDelimited);
                    ReadOnlySpan<byte> piece = reader.ReadLengthDelimited(out int origin);
                    model.Pieces.Add(ReadPiece(new ProtobufReader(piece, origin, $"ModelProto.pieces[{model.Pieces.Count}]")));
                    break;
                }

                case 2:
                {
                    reader.Expect(field, "trainer_spec", wire, WireType.LengthDelimited);
                    ReadOnlySpan<byte> spec = reader.ReadLengthDelimited(out int origin);
                    ReadTrainerSpec(new ProtobufReader(spec, origin, "ModelProto.trainer_spec"), model.Trainer);
                    break;
                }

                case 3:
                {
                    reader.Expect(field, "normalizer_spec", wire, WireType.LengthDelimited);
                    ReadOnlySpan<byte> spec = reader.ReadLengthDelimited(out int origin);
                    ReadNormalizerSpec(new ProtobufReader(spec, origin, "ModelProto.normalizer_spec"), model.Normalizer);
                    break;
                }

                case 5:
                {
                    reader.Expect(field, "denormalizer_spec", wire, WireType.LengthDelimited);
                    ReadOnlySpan<byte> spec = reader.ReadLengthDelimited(out int origin);
                    model.Denormalizer ??= new SentencePieceNormalizerSpec();
                    ReadNormalizerSpec(new ProtobufReader(spec, origin, "ModelProto.denormalizer_spec"), model.Denormalizer);
                    break;
                }

                default:
                    reader.Skip(field, wire);
                    break;
            }
        }

        return model;
    }

    private static SentencePieceEntry ReadPiece(ProtobufReader reader)
    {
        int start = reader.Offset;
        string? piece = null;
        float score = 0;
        var type = SentencePieceType.Normal;
        while (reader.TryReadTag(out int field, out WireType wire))
        {
            switch (field)
            {
                case 1:
                    reader.Expect(field, "piece", wire, WireType.LengthDelimited);
                    piece = reader.ReadString("piece");
                    break;
                case 2:
                    reader.Expect(field, "score", wire, WireType.Fixed32);
                    score = reader.ReadFloat();
                    break;
                case 3:
                    reader.Expect(field, "type", wire, WireType.Varint);
                    ulong value = reader.ReadVarint();

                    // proto2 keeps an unknown enum value as an unknown field: the type stays at its default, NORMAL.
                    type = value is >= 1 and <= 6 ? (SentencePieceType)value : SentencePieceType.Normal;
                    break;
                default:
                    reader.Skip(field, wire);
                    break;
            }
        }

        if (string.IsNullOrEmpty(piece))
        {
            throw reader.Error(start, "the piece is missing or empty");
        }

        return new SentencePieceEntry(piece, score, type);
    }

    private static void ReadTrainerSpec(ProtobufReader reader, SentencePieceTrainerSpec spec)
    {
        while (reader.TryReadTag(out int field, out WireType wire))
        {
            switch (field)
            {
                case 3:
                    reader.Expect(field, "model_type", wire, WireType.Varint);
                    ulong type = reader.ReadVarint();
                    spec.ModelType = type <= int.MaxValue ? (int)type : -1;
                    break;
                case 4:
                    reader.Expect(field, "vocab_size", wire, WireType.Varint);
                    spec.VocabSize = reader.ReadInt32();
                    break;
                case 24:
                    reader.Expect(field, "treat_whitespace_as_suffix", wire, WireType.Varint);
                    spec.TreatWhitespaceAsSuffix = reader.ReadBool();
                    break;
                case 25:
                    reader.Expect(field, "split_digits", wire, WireType.Varint);
                    spec.SplitDigits = reader.ReadBool();
                    break;
                case 35:
                    reader.Expect(field, "byte_fallback", wire, WireType.Varint);
                    spec.ByteFallback = reader.ReadBool();
                    break;
                case 40:
                    reader.Expect(field, "unk_id", wire, WireType.Varint);
                    spec.UnkId = reader.ReadInt32();
                    break;
                case 41:
                    reader.Expect(field, "bos_id", wire, WireType.Varint);
                    spec.BosId = reader.ReadInt32();
                    break;
                case 42:
                    reader.Expect(field, "eos_id", wire, WireType.Varint);
                    spec.EosId = reader.ReadInt32();
                    break;
                case 43:
                    reader.Expect(field, "pad_id", wire, WireType.Varint);
                    spec.PadId = reader.ReadInt32();
                    break;
                case 45:
                    reader.Expect(field, "unk_piece", wire, WireType.LengthDelimited);
                    spec.UnkPiece = reader.ReadString("unk_piece");
                    break;
                case 46:
                    reader.Expect(field, "bos_piece", wire, WireType.LengthDelimited);
                    spec.BosPiece = reader.ReadString("bos_piece");
                    break;
                case 47:
                    reader.Expect(field, "eos_piece", wire, WireType.LengthDelimited);
                    spec.EosPiece = reader.ReadString("eos_piece");
                    break;
                case 48:
                    reader.Expect(field, "pad_piece", wire, WireType.LengthDelimited);
                    spec.PadPiece = reader.ReadString("pad_piece");
                    break;
                default:
                    reader.Skip(field, wire);
                    break;
            }
        }
    }

    private static void ReadNormalizerSpec(ProtobufReader reader, SentencePieceNormalizerSpec spec)
    {
        while (reader.TryReadTag(out int field, out WireType wire))
        {
            switch (field)
            {
                case 1:
                    reader.Expect(field, "name", wire, WireType.LengthDelimited);
                    spec.Name = reader.ReadString("name");
                    break;
                case 2:
                    reader.Expect(field, "precompiled_charsmap", wire, WireType.LengthDelimited);
                    spec.PrecompiledCharsmap = reader.ReadLengthDelimited(out _).ToArray();
                    break;
                case 3:
                    reader.Expect(field, "add_dummy_prefix", wire, WireType.Varint);
                    spec.AddDummyPrefix = reader.ReadBool();
                    break;
                case 4:
                    reader.Expect(field, "remove_extra_whitespaces", wire, WireType.Varint);
                    spec.RemoveExtraWhitespaces = reader.ReadBool();
                    break;
                case 5:
                    reader.Expect(field, "escape_whitespaces", wire, WireType.Varint);
                    spec.EscapeWhitespaces = reader.ReadBool();
                    break;
                default:
                    reader.Skip(field, wire);
                    break;
            }
        }
    }

    /// <summary>The model type's name for messages, e.g. <c>WORD (3)</c>.</summary>
    public static string DescribeModelType(int modelType) => modelType switch
    {
        1 => "UNIGRAM (1)",
        2 => "BPE (2)",
        3 => "WORD (3)",
        4 => "CHAR (4)",
        _ => $"{modelType.ToString(CultureInfo.InvariantCulture)} (not a known ModelType)",
    };
}
