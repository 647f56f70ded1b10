using System.Text;

namespace MLNetTransformers.Tokenizers.Tests.SentencePiece;

/// <summary>Paths for the SentencePiece tests, and a scratch folder that deletes itself.</summary>
internal static class SentencePieceTestSupport
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MLNetTransformers.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"MLNetTransformers.sln not found above {AppContext.BaseDirectory}.");
    });

    /// <summary>The repository root (the folder of MLNetTransformers.sln).</summary>
    public static string RepoRoot => Root.Value;

    /// <summary>A path under the repository root.</summary>
    public static string RepoPath(params string[] parts) => Path.Combine([RepoRoot, .. parts]);

    /// <summary>models/tiny-llama.</summary>
    public static string TinyLlama => RepoPath("models", "tiny-llama");

    /// <summary>The flan-t5-small tokenizer folder of the test data.</summary>
    public static string FlanT5 => RepoPath("tests", "MLNetTransformers.Tokenizers.Tests", "TestData", "tokenizers", "flan-t5-small");

    /// <summary>The transformers.js goldens of a tokenizer.</summary>
    public static string Golden(string name) => RepoPath("tests", "MLNetTransformers.Tokenizers.Tests", "TestData", "goldens", $"{name}.transformersjs-4.3.1.json");
}

/// <summary>A temporary folder, deleted on dispose.</summary>
internal sealed class ScratchFolder : IDisposable
{
    public ScratchFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mlnt-sentencepiece-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Write(string name, byte[] bytes)
    {
        string file = File(name);
        System.IO.File.WriteAllBytes(file, bytes);
        return file;
    }

    public string Write(string name, string text) => Write(name, Encoding.UTF8.GetBytes(text));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// Writes protobuf wire format (independently of the library's reader), to build <c>sentencepiece.ModelProto</c> files in tests.
/// Field numbers are those of sentencepiece_model.proto.
/// </summary>
internal sealed class ProtoWriter
{
    private readonly List<byte> _bytes = [];

    public ProtoWriter Varint(int field, long value)
    {
        Tag(field, 0);
        WriteVarint(unchecked((ulong)value));
        return this;
    }

    public ProtoWriter Float(int field, float value)
    {
        Tag(field, 5);
        Span<byte> bytes = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        _bytes.AddRange(bytes);
        return this;
    }

    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, 2);
        WriteVarint((ulong)value.Length);
        _bytes.AddRange(value);
        return this;
    }

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

    /// <summary>Raw bytes, for malformed input.</summary>
    public ProtoWriter Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public byte[] ToArray() => [.. _bytes];

    private void Tag(int field, int wireType) => WriteVarint(((ulong)field << 3) | (uint)wireType);

    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        _bytes.Add((byte)value);
    }
}

/// <summary>Builds <c>ModelProto</c> bytes: pieces (1), trainer_spec (2), normalizer_spec (3).</summary>
internal static class SentencePieceModelBuilder
{
    public const int Normal = 1;
    public const int Unknown = 2;
    public const int Control = 3;
    public const int UserDefined = 4;
    public const int Unused = 5;
    public const int BytePiece = 6;

    public const int Unigram = 1;
    public const int Bpe = 2;
    public const int WordModel = 3;
    public const int CharModel = 4;

    /// <summary>One <c>SentencePiece</c>: piece = 1, score = 2, type = 3 (NORMAL left at its default, as spm_train writes it).</summary>
    public static ProtoWriter Piece(string piece, float score, int type)
    {
        var writer = new ProtoWriter().String(1, piece).Float(2, score);
        return type == Normal ? writer : writer.Varint(3, type);
    }

    /// <summary>A <c>TrainerSpec</c>: model_type = 3, vocab_size = 4, byte_fallback = 35, unk/bos/eos/pad_id = 40..43, pieces 45..48.</summary>
    public static ProtoWriter Trainer(int modelType, int vocabSize, int unkId = 0, int bosId = 1, int eosId = 2, int padId = -1, bool byteFallback = false) =>
        new ProtoWriter()
            .Varint(3, modelType)
            .Varint(4, vocabSize)
            .Varint(35, byteFallback ? 1 : 0)
            .Varint(40, unkId)
            .Varint(41, bosId)
            .Varint(42, eosId)
            .Varint(43, padId)
            .String(45, "<unk>")
            .String(46, "<s>")
            .String(47, "</s>")
            .String(48, "<pad>");

    /// <summary>A <c>NormalizerSpec</c>: name = 1, precompiled_charsmap = 2, add_dummy_prefix = 3, remove_extra_whitespaces = 4, escape_whitespaces = 5.</summary>
    public static ProtoWriter Normalizer(string name, byte[]? charsmap, bool addDummyPrefix = true, bool removeExtraWhitespaces = true)
    {
        var writer = new ProtoWriter().String(1, name);
        if (charsmap is { Length: > 0 })
        {
            writer.Bytes(2, charsmap);
        }

        return writer.Varint(3, addDummyPrefix ? 1 : 0).Varint(4, removeExtraWhitespaces ? 1 : 0).Varint(5, 1);
    }

    public static byte[] Model(IEnumerable<ProtoWriter> pieces, ProtoWriter trainer, ProtoWriter normalizer)
    {
        var model = new ProtoWriter();
        foreach (ProtoWriter piece in pieces)
        {
            model.Message(1, piece);
        }

        return model.Message(2, trainer).Message(3, normalizer).ToArray();
    }
}
