using System.Text;

namespace MLNetTransformers.Generation.Tests;

[TestClass]
public sealed class ModelFolderTests
{
    [TestMethod]
    public void TinyLlamaFolderReadsConfigAndPicksTheDefaultModel()
    {
        ModelFolder folder = ModelFolder.Open(TestSupport.TinyLlamaDirectory);
        Assert.AreEqual(Path.GetFullPath(TestSupport.TinyLlamaDirectory), folder.Directory);
        Assert.AreEqual(Path.GetFullPath(TestSupport.TinyLlamaModel), folder.ModelFile);
        ModelConfig config = folder.Config!;
        Assert.IsNotNull(config);
        Assert.AreEqual("llama", config.ModelType);
        CollectionAssert.AreEqual(new[] { "LlamaForCausalLM" }, config.Architectures.ToArray());
        Assert.AreEqual(4096, config.VocabSize);
        Assert.AreEqual(192, config.HiddenSize);
        Assert.AreEqual(512, config.IntermediateSize);
        Assert.AreEqual(4, config.NumHiddenLayers);
        Assert.AreEqual(6, config.NumAttentionHeads);
        Assert.AreEqual(2, config.NumKeyValueHeads);
        Assert.AreEqual(32, config.HeadDim);
        Assert.AreEqual(512, config.MaxPositionEmbeddings);
        Assert.IsFalse(config.TieWordEmbeddings);
        Assert.AreEqual(1, config.BosTokenId);
        CollectionAssert.AreEqual(new[] { 2 }, config.EosTokenIds.ToArray());
        Assert.IsNull(config.PadTokenId);
        Assert.IsTrue(folder.HasTokenizer);
        Assert.AreEqual(1, folder.LoadTokenizer().BosTokenId);
    }

    [TestMethod]
    public void OpeningTheOnnxFileFindsTheFolderAboveOnnxSubfolder()
    {
        ModelFolder folder = ModelFolder.Open(TestSupport.TinyLlamaModel);
        Assert.AreEqual(Path.GetFullPath(TestSupport.TinyLlamaDirectory), folder.Directory);
        Assert.AreEqual(Path.GetFullPath(TestSupport.TinyLlamaModel), folder.ModelFile);
        Assert.AreEqual(4, folder.Config!.NumHiddenLayers);
    }

    [TestMethod]
    public void DtypeChoosesTheVariantAsTransformersJsNamesIt()
    {
        string root = Directory.CreateTempSubdirectory("mlnt-gen-dtype").FullName;
        try
        {
            string onnx = Path.Combine(root, "onnx");
            Directory.CreateDirectory(onnx);
            foreach (string name in new[] { "model.onnx", "model_fp16.onnx", "model_quantized.onnx", "decoder_model_merged_int8.onnx", "decoder_model_q4.onnx", "decoder_with_past_model_q4.onnx", "decoder_model_bnb4.onnx" })
            {
                File.WriteAllBytes(Path.Combine(onnx, name), [1]);
            }

            Assert.AreEqual(Path.Combine(onnx, "model.onnx"), ModelFolder.Open(root).ModelFile);
            Assert.AreEqual(Path.Combine(onnx, "model.onnx"), ModelFolder.Open(root, "fp32").ModelFile);
            Assert.AreEqual(Path.Combine(onnx, "model_fp16.onnx"), ModelFolder.Open(root, "fp16").ModelFile);
            Assert.AreEqual(Path.Combine(onnx, "model_quantized.onnx"), ModelFolder.Open(root, "q8").ModelFile);
            Assert.AreEqual(Path.Combine(onnx, "model_quantized.onnx"), ModelFolder.Open(root, "Quantized").ModelFile);
            Assert.AreEqual(Path.Combine(onnx, "decoder_model_merged_int8.onnx"), ModelFolder.Open(root, "int8").ModelFile);
            Assert.IsNull(ModelFolder.Open(root, "int8").WithPastModelFile);

            ModelFolder pair = ModelFolder.Open(root, "q4");
            Assert.AreEqual(Path.Combine(onnx, "decoder_model_q4.onnx"), pair.ModelFile);
            Assert.AreEqual(Path.Combine(onnx, "decoder_with_past_model_q4.onnx"), pair.WithPastModelFile);
            Assert.AreEqual("q4", pair.Dtype);

            ModelFolder alone = ModelFolder.Open(root, "bnb4");
            Assert.AreEqual(Path.Combine(onnx, "decoder_model_bnb4.onnx"), alone.ModelFile);
            Assert.IsNull(alone.WithPastModelFile, "a decoder_model without its with-past partner runs alone");

            ModelFolder fromFile = ModelFolder.Open(Path.Combine(onnx, "decoder_model_q4.onnx"));
            Assert.AreEqual(Path.Combine(onnx, "decoder_with_past_model_q4.onnx"), fromFile.WithPastModelFile);

            var missing = Assert.ThrowsExactly<FileNotFoundException>(() => ModelFolder.Open(root, "uint8"));
            StringAssert.Contains(missing.Message, "model_uint8.onnx");
            StringAssert.Contains(missing.Message, "onnx/model_fp16.onnx");
            var unknown = Assert.ThrowsExactly<ArgumentException>(() => ModelFolder.Open(root, "fp8"));
            Assert.AreEqual("dtype", unknown.ParamName);
            StringAssert.Contains(unknown.Message, "q4f16");
            Assert.ThrowsExactly<ArgumentException>(() => ModelFolder.Open(Path.Combine(onnx, "model.onnx"), "fp16"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [TestMethod]
    public void APairAloneIsTheDefault()
    {
        string root = Directory.CreateTempSubdirectory("mlnt-gen-pair").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(root, "decoder_model.onnx"), [1]);
            File.WriteAllBytes(Path.Combine(root, "decoder_with_past_model.onnx"), [1]);
            ModelFolder folder = ModelFolder.Open(root);
            Assert.AreEqual(Path.Combine(root, "decoder_model.onnx"), folder.ModelFile);
            Assert.AreEqual(Path.Combine(root, "decoder_with_past_model.onnx"), folder.WithPastModelFile);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [TestMethod]
    public void VariantsResolveInsideTheFolderOnly()
    {
        string root = Directory.CreateTempSubdirectory("mlnt-gen-folder").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "onnx"));
            File.WriteAllBytes(Path.Combine(root, "onnx", "model.onnx"), [1]);
            File.WriteAllBytes(Path.Combine(root, "onnx", "model_quantized.onnx"), [1]);
            ModelFolder folder = ModelFolder.Open(root);
            Assert.IsNull(folder.Config);
            Assert.IsFalse(folder.HasTokenizer);
            Assert.AreEqual(Path.Combine(root, "onnx", "model.onnx"), folder.ModelFile);
            Assert.AreEqual(Path.Combine(root, "onnx", "model_quantized.onnx"), folder.ResolveOnnxFile("quantized"));
            Assert.AreEqual(Path.Combine(root, "onnx", "model_quantized.onnx"), folder.ResolveOnnxFile("model_quantized.onnx"));
            Assert.HasCount(2, folder.OnnxFiles());

            var missing = Assert.ThrowsExactly<FileNotFoundException>(() => folder.ResolveOnnxFile("fp16"));
            StringAssert.Contains(missing.Message, "model_fp16.onnx");
            StringAssert.Contains(missing.Message, "onnx/model_quantized.onnx");
            Assert.ThrowsExactly<ArgumentException>(() => folder.ResolveOnnxFile("../other.onnx"));
            Assert.ThrowsExactly<ArgumentException>(() => folder.ResolveOnnxFile("/etc/model.onnx"));

            File.Delete(Path.Combine(root, "onnx", "model.onnx"));
            Assert.AreEqual(Path.Combine(root, "onnx", "model_quantized.onnx"), ModelFolder.Open(root).ModelFile, "the only file is the default");
            File.WriteAllBytes(Path.Combine(root, "onnx", "model_fp16.onnx"), [1]);
            var several = Assert.ThrowsExactly<InvalidDataException>(() => ModelFolder.Open(root));
            StringAssert.Contains(several.Message, "several .onnx files");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [TestMethod]
    public void MissingFolderAndEmptyFolderAreReported()
    {
        string missing = Path.Combine(Path.GetTempPath(), "mlnt-no-such-model-" + Guid.NewGuid().ToString("N"));
        var notFound = Assert.ThrowsExactly<DirectoryNotFoundException>(() => ModelFolder.Open(missing));
        StringAssert.Contains(notFound.Message, missing);

        string empty = Directory.CreateTempSubdirectory("mlnt-gen-empty").FullName;
        try
        {
            var noModel = Assert.ThrowsExactly<FileNotFoundException>(() => ModelFolder.Open(empty));
            StringAssert.Contains(noModel.Message, "No .onnx file in " + empty);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [TestMethod]
    public void ConfigReadsGpt2AliasesAndEosLists()
    {
        const string json = """{"model_type":"gpt2","vocab_size":50257,"n_embd":768,"n_layer":6,"n_head":12,"n_positions":1024,"bos_token_id":50256,"eos_token_id":[50256,0]}""";
        ModelConfig config = ModelConfig.Parse(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json)));
        Assert.AreEqual(768, config.HiddenSize);
        Assert.AreEqual(6, config.NumHiddenLayers);
        Assert.AreEqual(12, config.NumAttentionHeads);
        Assert.AreEqual(12, config.NumKeyValueHeads, "no GQA: as many KV heads as heads");
        Assert.AreEqual(64, config.HeadDim);
        Assert.AreEqual(1024, config.MaxPositionEmbeddings);
        CollectionAssert.AreEqual(new[] { 50256, 0 }, config.EosTokenIds.ToArray());
    }

    [TestMethod]
    public void MalformedConfigNamesTheFile()
    {
        string root = Directory.CreateTempSubdirectory("mlnt-gen-config").FullName;
        try
        {
            string path = Path.Combine(root, "config.json");
            File.WriteAllText(path, "{ not json");
            var error = Assert.ThrowsExactly<InvalidDataException>(() => ModelConfig.Load(path));
            StringAssert.Contains(error.Message, path);
            File.WriteAllText(path, "[1, 2]");
            error = Assert.ThrowsExactly<InvalidDataException>(() => ModelConfig.Load(path));
            StringAssert.Contains(error.Message, "expected a JSON object");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
