using System.Text.Json;
using MLNetTransformers.Onnx.Builders;
using MLNetTransformers.Onnx.Model;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Onnx.Tests.Builders;

/// <summary>The Hugging Face / Optimum folders the builders write: configs, tokenizer files, model (inline or external data).</summary>
[TestClass]
public sealed class BuilderFolderTests
{
    private static readonly string[] DecoderInputs =
        ["input_ids", "attention_mask", "position_ids", "past_key_values.0.key", "past_key_values.0.value", "past_key_values.1.key", "past_key_values.1.value"];

    [TestMethod]
    public void Gpt2FolderHasConfigsByteLevelTokenizerAndLoadableModel()
    {
        string directory = TestSupport.TempDirectory("gpt2-folder");
        try
        {
            string modelPath = new Gpt2Builder(Gpt2BuilderTests.Tiny).WriteFolder(directory);
            Assert.AreEqual(Path.Combine(directory, "onnx", "model.onnx"), modelPath);
            foreach (string file in new[] { "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json" })
            {
                Assert.IsTrue(File.Exists(Path.Combine(directory, file)), file);
            }

            Assert.IsFalse(File.Exists(modelPath + "_data"), "small models keep their weights inline");
            using JsonDocument config = Read(directory, "config.json");
            JsonElement c = config.RootElement;
            Assert.AreEqual("gpt2", c.GetProperty("model_type").GetString());
            Assert.AreEqual(300, c.GetProperty("vocab_size").GetInt32());
            Assert.AreEqual(32, c.GetProperty("n_embd").GetInt32());
            Assert.AreEqual(32, c.GetProperty("hidden_size").GetInt32());
            Assert.AreEqual(2, c.GetProperty("n_layer").GetInt32());
            Assert.AreEqual(4, c.GetProperty("n_head").GetInt32());
            Assert.AreEqual(4, c.GetProperty("num_key_value_heads").GetInt32());
            Assert.AreEqual(128, c.GetProperty("intermediate_size").GetInt32());
            Assert.AreEqual(32, c.GetProperty("n_positions").GetInt32());
            Assert.AreEqual(299, c.GetProperty("eos_token_id").GetInt32());
            Assert.IsTrue(c.GetProperty("tie_word_embeddings").GetBoolean());
            Assert.AreEqual(1e-5, c.GetProperty("layer_norm_epsilon").GetDouble(), 1e-12);

            using JsonDocument tokenizer = Read(directory, "tokenizer.json");
            Dictionary<string, int> vocab = CheckVocabulary(tokenizer.RootElement, "BPE", 300);
            Assert.AreEqual(299, vocab["<|endoftext|>"]);
            Assert.AreEqual(32, vocab["\u0120"], "the space byte is Ġ");
            Assert.AreEqual(72, vocab["H"]);
            CheckMerges(tokenizer.RootElement, vocab, expected: 300 - 257);
            Assert.AreEqual(299, tokenizer.RootElement.GetProperty("added_tokens")[0].GetProperty("id").GetInt32());
            Assert.AreEqual("ByteLevel", tokenizer.RootElement.GetProperty("decoder").GetProperty("type").GetString());

            using JsonDocument tokenizerConfig = Read(directory, "tokenizer_config.json");
            Assert.AreEqual("<|endoftext|>", tokenizerConfig.RootElement.GetProperty("eos_token").GetString());
            Assert.AreEqual("<|endoftext|>", tokenizerConfig.RootElement.GetProperty("pad_token").GetString());
            Assert.AreEqual("left", tokenizerConfig.RootElement.GetProperty("padding_side").GetString());
            using JsonDocument generation = Read(directory, "generation_config.json");
            Assert.AreEqual(299, generation.RootElement.GetProperty("eos_token_id").GetInt32());

            using var session = new InferenceSession(modelPath, TestSupport.SessionOptions());
            CollectionAssert.AreEqual(DecoderInputs, session.InputNames.ToArray());
            Assert.AreEqual("past_key_values.0.key: float32[batch_size, 4, past_sequence_length, 8]", session.InputMetadata[3].ToString());
            Assert.AreEqual("present.1.value: float32[batch_size, 4, past_sequence_length + sequence_length, 8]", session.OutputMetadata[4].ToString());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void LlamaFolderHasGqaConfigBosTemplateAndWordLevelForSmallVocabularies()
    {
        string directory = TestSupport.TempDirectory("llama-folder");
        try
        {
            new LlamaBuilder(LlamaBuilderTests.Tiny).WriteFolder(directory);
            using JsonDocument config = Read(directory, "config.json");
            JsonElement c = config.RootElement;
            Assert.AreEqual("llama", c.GetProperty("model_type").GetString());
            Assert.AreEqual(4, c.GetProperty("num_attention_heads").GetInt32());
            Assert.AreEqual(2, c.GetProperty("num_key_value_heads").GetInt32());
            Assert.AreEqual(16, c.GetProperty("head_dim").GetInt32());
            Assert.AreEqual(96, c.GetProperty("intermediate_size").GetInt32());
            Assert.AreEqual(64, c.GetProperty("max_position_embeddings").GetInt32());
            Assert.AreEqual(500.0, c.GetProperty("rope_theta").GetDouble());
            Assert.AreEqual(1e-5, c.GetProperty("rms_norm_eps").GetDouble(), 1e-12);
            Assert.AreEqual(1, c.GetProperty("bos_token_id").GetInt32());
            Assert.AreEqual(2, c.GetProperty("eos_token_id").GetInt32());
            Assert.IsFalse(c.GetProperty("tie_word_embeddings").GetBoolean());

            using JsonDocument tokenizer = Read(directory, "tokenizer.json");
            Dictionary<string, int> vocab = CheckVocabulary(tokenizer.RootElement, "BPE", 300);
            Assert.AreEqual(1, vocab["<s>"]);
            Assert.AreEqual(3 + 32, vocab["\u0120"]);
            JsonElement template = tokenizer.RootElement.GetProperty("post_processor");
            Assert.AreEqual("TemplateProcessing", template.GetProperty("type").GetString());
            Assert.AreEqual(1, template.GetProperty("special_tokens").GetProperty("<s>").GetProperty("ids")[0].GetInt32());
            using JsonDocument tokenizerConfig = Read(directory, "tokenizer_config.json");
            Assert.IsTrue(tokenizerConfig.RootElement.GetProperty("add_bos_token").GetBoolean());
            Assert.AreEqual("</s>", tokenizerConfig.RootElement.GetProperty("eos_token").GetString());

            string small = Path.Combine(directory, "small");
            new LlamaBuilder(new LlamaBuilderOptions { Vocab = 50 }).WriteFolder(small);
            using JsonDocument wordLevel = Read(small, "tokenizer.json");
            Dictionary<string, int> words = CheckVocabulary(wordLevel.RootElement, "WordLevel", 50);
            Assert.AreEqual(0, words["<unk>"]);
            Assert.AreEqual("<unk>", wordLevel.RootElement.GetProperty("model").GetProperty("unk_token").GetString());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void BertFolderHasLabelsAndWordPieceTokenizer()
    {
        string directory = TestSupport.TempDirectory("bert-folder");
        try
        {
            string modelPath = new BertBuilder(BertBuilderTests.Tiny with { LabelNames = ["neg", "neutral", "pos"] }).WriteFolder(directory);
            Assert.IsFalse(File.Exists(Path.Combine(directory, "generation_config.json")));
            using JsonDocument config = Read(directory, "config.json");
            JsonElement c = config.RootElement;
            Assert.AreEqual("bert", c.GetProperty("model_type").GetString());
            Assert.AreEqual("BertForSequenceClassification", c.GetProperty("architectures")[0].GetString());
            Assert.AreEqual("neutral", c.GetProperty("id2label").GetProperty("1").GetString());
            Assert.AreEqual(2, c.GetProperty("label2id").GetProperty("pos").GetInt32());
            Assert.AreEqual(2, c.GetProperty("type_vocab_size").GetInt32());

            using JsonDocument tokenizer = Read(directory, "tokenizer.json");
            Dictionary<string, int> vocab = CheckVocabulary(tokenizer.RootElement, "WordPiece", 200);
            Assert.AreEqual(0, vocab["[PAD]"]);
            Assert.AreEqual(2, vocab["[CLS]"]);
            Assert.AreEqual(3, vocab["[SEP]"]);
            Assert.IsTrue(vocab.ContainsKey("##a") && vocab.ContainsKey("a"));
            Assert.AreEqual("BertNormalizer", tokenizer.RootElement.GetProperty("normalizer").GetProperty("type").GetString());
            using var session = new InferenceSession(modelPath, TestSupport.SessionOptions());
            CollectionAssert.AreEqual(new[] { "last_hidden_state", "pooler_output", "logits" }, session.OutputNames.ToArray());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void ExternalDataFolderRunsLikeTheInMemoryModel()
    {
        string directory = TestSupport.TempDirectory("llama-external");
        try
        {
            var builder = new LlamaBuilder(LlamaBuilderTests.Tiny);
            string modelPath = builder.WriteFolder(directory, new OnnxSaveOptions { ExternalData = ExternalDataMode.Always });
            Assert.IsTrue(new FileInfo(modelPath + "_data").Length > 0.9 * 4 * builder.ParameterCount, "the weights are in model.onnx_data");
            Assert.IsTrue(new FileInfo(modelPath).Length < 64 * 1024);

            using OnnxModel model = builder.BuildModel();
            using var inMemory = new InferenceSession(model.ToBytes(), TestSupport.SessionOptions());
            using var fromFolder = new InferenceSession(modelPath, TestSupport.SessionOptions());
            var shape = new DecoderShape(2, 2, 16, 300);
            long[][] ids = [[1, 5, 9, 200]];
            long[][] mask = [[1, 1, 1, 1]];
            using SessionOutputs expected = DecoderChecks.Run(inMemory, shape, ids, mask, null);
            using SessionOutputs actual = DecoderChecks.Run(fromFolder, shape, ids, mask, null);
            CollectionAssert.AreEqual(expected["logits"].ToArray<float>(), actual["logits"].ToArray<float>());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void AutomaticSaveOptionsChooseExternalDataAboveTheLimitIn64Bits()
    {
        using OnnxModel model = new Gpt2Builder(Gpt2BuilderTests.Tiny).BuildModel();
        long bytes = model.AllInitializers().Sum(t => (long)t.RawData.Length);
        var custom = new OnnxSaveOptions { ExternalDataFileName = "weights.bin", ExternalDataThreshold = 16 };
        OnnxSaveOptions over = TransformerModelBuilder.ResolveSaveOptions(model, custom, limit: bytes - 1);
        Assert.AreEqual(ExternalDataMode.Always, over.ExternalData);
        Assert.AreEqual("weights.bin", over.ExternalDataFileName);
        Assert.AreEqual(16, over.ExternalDataThreshold);
        Assert.AreEqual(ExternalDataMode.Never, TransformerModelBuilder.ResolveSaveOptions(model, null, limit: bytes).ExternalData);
        var never = new OnnxSaveOptions { ExternalData = ExternalDataMode.Never };
        Assert.AreSame(never, TransformerModelBuilder.ResolveSaveOptions(model, never, limit: 0));
    }

    [TestMethod]
    public void FoldersAreByteForByteReproducible()
    {
        string first = TestSupport.TempDirectory("repro-a"), second = TestSupport.TempDirectory("repro-b");
        try
        {
            new Gpt2Builder(Gpt2BuilderTests.Tiny).WriteFolder(first);
            new Gpt2Builder(Gpt2BuilderTests.Tiny).WriteFolder(second);
            foreach (string file in Directory.GetFiles(first, "*", SearchOption.AllDirectories))
            {
                string other = Path.Combine(second, Path.GetRelativePath(first, file));
                CollectionAssert.AreEqual(File.ReadAllBytes(file), File.ReadAllBytes(other), file);
            }
        }
        finally
        {
            Directory.Delete(first, recursive: true);
            Directory.Delete(second, recursive: true);
        }
    }

    private static JsonDocument Read(string directory, string file) => JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, file)));

    /// <summary>The model type, and a vocabulary with exactly the ids 0..size−1.</summary>
    private static Dictionary<string, int> CheckVocabulary(JsonElement tokenizer, string type, int size)
    {
        JsonElement model = tokenizer.GetProperty("model");
        Assert.AreEqual(type, model.GetProperty("type").GetString());
        var vocab = model.GetProperty("vocab").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32(), StringComparer.Ordinal);
        CollectionAssert.AreEqual(Enumerable.Range(0, size).ToArray(), vocab.Values.Order().ToArray());
        foreach (JsonElement added in tokenizer.GetProperty("added_tokens").EnumerateArray())
        {
            Assert.AreEqual(vocab[added.GetProperty("content").GetString()!], added.GetProperty("id").GetInt32());
        }

        return vocab;
    }

    /// <summary>Every merge "a b" joins two vocabulary tokens into a third.</summary>
    private static void CheckMerges(JsonElement tokenizer, Dictionary<string, int> vocab, int expected)
    {
        var merges = tokenizer.GetProperty("model").GetProperty("merges").EnumerateArray().Select(m => m.GetString()!).ToList();
        Assert.AreEqual(expected, merges.Count);
        foreach (string merge in merges)
        {
            string[] parts = merge.Split(' ');
            Assert.AreEqual(2, parts.Length, merge);
            Assert.IsTrue(vocab.ContainsKey(parts[0]) && vocab.ContainsKey(parts[1]) && vocab.ContainsKey(parts[0] + parts[1]), merge);
        }
    }
}
