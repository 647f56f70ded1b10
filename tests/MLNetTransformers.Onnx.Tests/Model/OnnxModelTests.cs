using Google.Protobuf;
using MLNetTransformers.Onnx.Model;
using MLNetTransformers.Onnx.Protos;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Onnx.Tests.Model;

[TestClass]
public sealed class OnnxModelTests
{
    /// <summary>Last-position logits of the tiny Llama for a fixed prompt, through ONNX Runtime.</summary>
    internal static float[] LastLogits(string modelPath, long[] ids)
    {
        using var session = new InferenceSession(modelPath, TestSupport.SessionOptions());
        return LastLogits(session, ids);
    }

    internal static float[] LastLogits(InferenceSession session, long[] ids)
    {
        var feeds = new Dictionary<string, OrtValue>
        {
            ["input_ids"] = OrtValue.CreateTensor(ids, [1, ids.Length]),
            ["attention_mask"] = OrtValue.CreateTensor(Enumerable.Repeat(1L, ids.Length).ToArray(), [1, ids.Length]),
            ["position_ids"] = OrtValue.CreateTensor(Enumerable.Range(0, ids.Length).Select(i => (long)i).ToArray(), [1, ids.Length]),
        };
        foreach (NodeMetadata input in session.InputMetadata.Where(i => i.Name.StartsWith("past_key_values.", StringComparison.Ordinal)))
        {
            feeds[input.Name] = OrtValue.CreateAllocatedTensor(input.ElementType, [1, input.Dimensions[1], 0, input.Dimensions[3]]);
        }

        try
        {
            using var outputs = session.Run(feeds, ["logits"]);
            float[] logits = outputs[0].ToArray<float>();
            int vocab = logits.Length / ids.Length;
            return logits[^vocab..];
        }
        finally
        {
            foreach (OrtValue value in feeds.Values)
            {
                value.Dispose();
            }
        }
    }

    private static readonly long[] Prompt = [1, 425, 4063, 4056, 4046, 4044, 4046, 4041, 4039, 4024, 266, 4027];

    [TestMethod]
    public void RealModelRoundTripsThroughOurProtoWithoutLosingAnything()
    {
        using OnnxModel model = OnnxModel.Load(TestSupport.TinyLlamaModel);
        byte[] original = File.ReadAllBytes(TestSupport.TinyLlamaModel);
        byte[] written = model.ToBytes();
        // Re-parsing what we wrote gives the same message as parsing the original file, and the file size is the same.
        Assert.AreEqual(ModelProto.Parser.ParseFrom(original), ModelProto.Parser.ParseFrom(written));
        Assert.AreEqual(original.Length, written.Length);
        Assert.AreEqual(14, model.Proto.OpsetImport.Single(o => o.Domain == string.Empty).Version);
    }

    [TestMethod]
    public void ExternalDataIsWrittenReadLazilyAndRunsInOnnxRuntime()
    {
        string directory = TestSupport.TempDirectory("external");
        string path = Path.Combine(directory, "model.onnx");
        using (OnnxModel model = OnnxModel.Load(TestSupport.TinyLlamaModel))
        {
            model.Save(path, new OnnxSaveOptions { ExternalData = ExternalDataMode.Always });
        }

        Assert.IsTrue(File.Exists(path + "_data"));
        Assert.IsLessThan(200_000L, new FileInfo(path).Length, "the weights left the .onnx file");
        Assert.IsGreaterThan(12_000_000L, new FileInfo(path + "_data").Length);

        using OnnxModel reloaded = OnnxModel.Load(path);
        CollectionAssert.AreEqual(new[] { "model.onnx_data" }, reloaded.ExternalDataFiles().ToArray());
        TensorProto embedding = reloaded.Graph.Initializer.OrderByDescending(t => OnnxDataType.ElementCount(t.Dims)).First();
        Assert.AreEqual(TensorProto.Types.DataLocation.External, embedding.DataLocation);
        using OnnxModel original = OnnxModel.Load(TestSupport.TinyLlamaModel);
        TensorProto same = original.Graph.Initializer.Single(t => t.Name == embedding.Name);
        CollectionAssert.AreEqual(original.GetFloats(same), reloaded.GetFloats(embedding));

        // ONNX Runtime reads the external file itself and computes the same logits.
        CollectionAssert.AreEqual(LastLogits(TestSupport.TinyLlamaModel, Prompt), LastLogits(path, Prompt));

        // Saving again inline brings every byte back.
        string inline = Path.Combine(directory, "inline.onnx");
        reloaded.Save(inline, new OnnxSaveOptions { ExternalData = ExternalDataMode.Never });
        Assert.AreEqual(ModelProto.Parser.ParseFrom(File.ReadAllBytes(TestSupport.TinyLlamaModel)).Graph.Initializer.Count, OnnxModel.Load(inline).Graph.Initializer.Count);
        CollectionAssert.AreEqual(LastLogits(TestSupport.TinyLlamaModel, Prompt), LastLogits(inline, Prompt));
    }

    [TestMethod]
    public void ExternalLocationsThatEscapeTheFolderAreRejected()
    {
        foreach (string location in new[] { "../secret.bin", "/etc/passwd", "sub/../../x.bin", "..\\x.bin", "C:\\x.bin" })
        {
            var tensor = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
            tensor.Dims.Add(4);
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
            var model = new ModelProto { IrVersion = 8, Graph = new GraphProto { Name = "g" } };
            model.Graph.Initializer.Add(tensor);
            string path = Path.Combine(TestSupport.TempDirectory("escape"), "model.onnx");
            File.WriteAllBytes(path, model.ToByteArray());
            var ex = Assert.ThrowsExactly<InvalidDataException>(() => OnnxModel.Load(path), location);
            StringAssert.Contains(ex.Message, $"external data location '{location}' must be a relative path inside the model's folder");
        }
    }

    [TestMethod]
    public void NotAnOnnxFileAndTruncatedFilesAreNamed()
    {
        string directory = TestSupport.TempDirectory("bad");
        string text = Path.Combine(directory, "notes.onnx");
        File.WriteAllText(text, "this is not a model");
        var notOnnx = Assert.ThrowsExactly<InvalidDataException>(() => OnnxModel.Load(text));
        StringAssert.Contains(notOnnx.Message, text);

        string truncated = Path.Combine(directory, "truncated.onnx");
        byte[] bytes = File.ReadAllBytes(TestSupport.TinyLlamaModel);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        var cut = Assert.ThrowsExactly<InvalidDataException>(() => OnnxModel.Load(truncated));
        StringAssert.Contains(cut.Message, truncated);
        StringAssert.Contains(cut.Message, "truncated");

        Assert.ThrowsExactly<FileNotFoundException>(() => OnnxModel.Load(Path.Combine(directory, "missing.onnx")));
    }

    [TestMethod]
    public void SavingOverTheSourceIsRefused()
    {
        string directory = TestSupport.TempDirectory("clobber");
        string path = Path.Combine(directory, "model.onnx");
        File.Copy(TestSupport.TinyLlamaModel, path);
        using OnnxModel model = OnnxModel.Load(path);
        var ex = Assert.ThrowsExactly<ArgumentException>(() => model.Save(path));
        StringAssert.Contains(ex.Message, "Refusing to overwrite the source model");
        Assert.AreEqual(new FileInfo(TestSupport.TinyLlamaModel).Length, new FileInfo(path).Length, "the source is untouched");
    }

    [TestMethod]
    public void SummaryCountsTheTinyLlamasParametersFromItsConfig()
    {
        using OnnxModel model = OnnxModel.Load(TestSupport.TinyLlamaModel);
        OnnxModelSummary summary = OnnxModelSummary.Create(model);
        // config.json: vocab 4096, hidden 192, 4 layers, 6 heads x 32, 2 KV heads, SwiGLU 512, RMSNorm weights, untied head.
        const long vocab = 4096, hidden = 192, layers = 4, kv = 2 * 32, intermediate = 512;
        long perLayer = (hidden * hidden) + (2 * hidden * kv) + (hidden * hidden) + (3 * hidden * intermediate) + (2 * hidden);
        long expectedWeights = (2 * vocab * hidden) + (layers * perLayer) + hidden;
        OnnxParameterGroup floats = summary.Parameters.Single(p => p.DataType == "float32");
        Assert.IsTrue(floats.Elements >= expectedWeights && floats.Elements < expectedWeights + 100_000,
            $"float32 parameters {floats.Elements}, weights by config {expectedWeights} (the export adds rotary tables and constants)");
        Assert.AreEqual(floats.Elements * 4, floats.Bytes);
        Assert.AreEqual(11, summary.Inputs.Count);
        CollectionAssert.AreEqual(new[] { "batch_size", "sequence_length" }, summary.Inputs[0].Dims.ToArray());
        Assert.IsTrue(summary.Operators.Any(o => o.Key == "MatMul" && o.Value >= layers * 7));
        Assert.AreEqual(14L, summary.Opsets[string.Empty]);
        Assert.AreEqual(0, summary.ExternalDataFiles.Count);
    }
}
