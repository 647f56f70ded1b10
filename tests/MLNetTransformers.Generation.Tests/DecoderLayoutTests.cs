using MLNetTransformers.Generation.Decoding;
using MLNetTransformers.Onnx.Model;
using MLNetTransformers.Onnx.Protos;
using MLNetTransformers.Onnx.Quantization;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Generation.Tests;

/// <summary>Every decoder layout, made from the real tiny-llama by graph edits (<see cref="DecoderLayoutModels"/>), is detected from
/// its graphs and generates the reference token for token.</summary>
[TestClass]
public sealed class DecoderLayoutTests
{
    private static string s_root = null!;
    private static ModelProto s_withPast = null!;
    private static readonly Dictionary<DecoderLayout, string> Folders = [];

    [ClassInitialize]
    public static void Build(TestContext context)
    {
        _ = context;
        s_root = Directory.CreateTempSubdirectory("mlnt-layouts").FullName;
        s_withPast = DecoderLayoutModels.Load(TestSupport.TinyLlamaModel);
        string source = TestSupport.TinyLlamaDirectory;
        Folders[DecoderLayout.WithPast] = DecoderLayoutModels.WriteFolder(source, Path.Combine(s_root, "with-past"), ("model.onnx", s_withPast));
        Folders[DecoderLayout.NoPast] = DecoderLayoutModels.WriteFolder(source, Path.Combine(s_root, "no-past"), ("model.onnx", DecoderLayoutModels.WithoutPast(s_withPast, keepPresents: false)));
        Folders[DecoderLayout.Merged] = DecoderLayoutModels.WriteFolder(source, Path.Combine(s_root, "merged"), ("decoder_model_merged.onnx", DecoderLayoutModels.Merged(s_withPast)));
        Folders[DecoderLayout.Pair] = DecoderLayoutModels.WriteFolder(
            source,
            Path.Combine(s_root, "pair"),
            ("decoder_model.onnx", DecoderLayoutModels.WithoutPast(s_withPast, keepPresents: true)),
            ("decoder_with_past_model.onnx", DecoderLayoutModels.DecodeOnly(s_withPast)));
    }

    [ClassCleanup]
    public static void Cleanup() => Directory.Delete(s_root, recursive: true);

    public static IEnumerable<object[]> Layouts => Enum.GetValues<DecoderLayout>().Select(l => new object[] { l });

    [TestMethod]
    [DynamicData(nameof(Layouts))]
    public void LayoutIsReadFromTheGraphsAndGreedyMatchesTheReference(DecoderLayout layout)
    {
        using var generator = new Generator(ModelFolder.Open(Folders[layout]), TestSupport.SessionOptions());
        Assert.AreEqual(layout, generator.Layout);
        Assert.AreEqual(layout == DecoderLayout.Merged, generator.Signature.HasUseCacheBranch);
        Assert.AreEqual(layout == DecoderLayout.NoPast ? 0 : 4, generator.Signature.LayerCount);
        Assert.AreEqual(layout == DecoderLayout.Pair ? 0 : generator.Signature.PastInputs.Count, generator.PrefillSignature.PastInputs.Count);
        Assert.AreEqual(layout == DecoderLayout.Pair, !ReferenceEquals(generator.Session, generator.PrefillSession));
        foreach ((int[] prompt, int[] expected) in Reference())
        {
            GenerationResult result = generator.Generate(prompt, new GenerationOptions { MaxNewTokens = 40 });
            CollectionAssert.AreEqual(expected, result.NewIds.ToArray(), layout.ToString());
        }
    }

    [TestMethod]
    [DataRow(DecoderLayout.Merged)]
    [DataRow(DecoderLayout.Pair)]
    [DataRow(DecoderLayout.NoPast)]
    public void BatchesAndBeamsMatchTheWithPastLayout(DecoderLayout layout)
    {
        using var expected = new Generator(ModelFolder.Open(Folders[DecoderLayout.WithPast]), TestSupport.SessionOptions());
        using var generator = new Generator(ModelFolder.Open(Folders[layout]), TestSupport.SessionOptions());
        IReadOnlyList<int>[] prompts = [.. Reference().Select(r => (IReadOnlyList<int>)r.Prompt)];
        var options = new GenerationOptions { MaxNewTokens = 12 };
        IReadOnlyList<GenerationResult> batch = generator.GenerateBatch(prompts, options);
        IReadOnlyList<GenerationResult> reference = expected.GenerateBatch(prompts, options);
        for (int i = 0; i < prompts.Length; i++)
        {
            CollectionAssert.AreEqual(reference[i].NewIds.ToArray(), batch[i].NewIds.ToArray(), $"{layout} row {i}");
        }

        var beams = new GenerationOptions { MaxNewTokens = 8, NumBeams = 3, NumReturnSequences = 3, EosTokenIds = [] };
        IReadOnlyList<GenerationResult> beamResults = generator.GenerateBeams(prompts[0], beams);
        IReadOnlyList<GenerationResult> beamReference = expected.GenerateBeams(prompts[0], beams);
        Assert.HasCount(3, beamResults);
        for (int i = 0; i < 3; i++)
        {
            CollectionAssert.AreEqual(beamReference[i].NewIds.ToArray(), beamResults[i].NewIds.ToArray(), $"{layout} beam {i}");
            Assert.AreEqual(beamReference[i].Score!.Value, beamResults[i].Score!.Value, 1e-4);
        }
    }

    [TestMethod]
    [DataRow(DecoderLayout.Merged)]
    [DataRow(DecoderLayout.Pair)]
    public async Task ContinuousBatchingWorksOnEveryCachedLayout(DecoderLayout layout)
    {
        using var generator = new Generator(ModelFolder.Open(Folders[layout]), TestSupport.SessionOptions());
        using var scheduler = new ContinuousBatchScheduler(generator);
        (int[] Prompt, int[] NewIds)[] reference = [.. Reference()];
        GenerationResult[] results = await Task.WhenAll(reference.Select(r => scheduler.GenerateResultAsync(r.Prompt, new GenerationOptions { MaxNewTokens = 40 })));
        for (int i = 0; i < reference.Length; i++)
        {
            CollectionAssert.AreEqual(reference[i].NewIds, results[i].NewIds.ToArray(), $"{layout} request {i}");
        }

        using var noPast = new Generator(ModelFolder.Open(Folders[DecoderLayout.NoPast]), TestSupport.SessionOptions());
        Assert.ThrowsExactly<NotSupportedException>(() => new ContinuousBatchScheduler(noPast));
    }

    [TestMethod]
    public void TheLayoutChecksOfTheTestModelsCatchAWrongFeed()
    {
        // The merged graph fed use_cache_branch = true with an empty past, and the pair's decode graph run as a prefill, give the
        // constant corruption instead of the model's logits: the layout tests above would fail if the generator did either.
        using var generator = new Generator(ModelFolder.Open(Folders[DecoderLayout.Merged]), TestSupport.SessionOptions());
        using (DecoderInputs inputs = DecoderInputs.CreateWithEmptyPast(generator.Signature, [1, 425, 4063]))
        {
            var feeds = inputs.Feeds.ToDictionary();
            using (SessionOutputs right = generator.Session.Run(feeds, ["logits"]))
            {
                Assert.AreNotEqual(1000f, right["logits"].GetTensorReadOnlySpan<float>()[0]);
            }

            feeds["use_cache_branch"] = OrtValue.CreateTensor(new[] { true }, [1]);
            using OrtValue wrongFlag = feeds["use_cache_branch"];
            using SessionOutputs wrong = generator.Session.Run(feeds, ["logits"]);
            Assert.IsTrue(wrong["logits"].GetTensorReadOnlySpan<float>().ToArray().All(v => v == 1000f));
        }

        using var pair = new Generator(ModelFolder.Open(Folders[DecoderLayout.Pair]), TestSupport.SessionOptions());
        using DecoderInputs prefill = DecoderInputs.CreateWithEmptyPast(pair.Signature, [1, 425, 4063]);
        using SessionOutputs misrouted = pair.Session.Run(prefill.Feeds, ["logits"]);
        Assert.IsTrue(misrouted["logits"].GetTensorReadOnlySpan<float>().ToArray().All(v => v == 1000f));
    }

    [TestMethod]
    public void UnmappableInputsAreAllListed()
    {
        ModelProto model = s_withPast.Clone();
        foreach (string name in new[] { "pixel_values", "encoder_hidden_states" })
        {
            model.Graph.Input.Add(new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimValue = 1 } } } } },
            });
        }

        string folder = DecoderLayoutModels.WriteFolder(TestSupport.TinyLlamaDirectory, Path.Combine(s_root, "unmappable"), ("model.onnx", model));
        var error = Assert.ThrowsExactly<InvalidDataException>(() => new Generator(ModelFolder.Open(folder), TestSupport.SessionOptions()));
        StringAssert.Contains(error.Message, "pixel_values");
        StringAssert.Contains(error.Message, "encoder_hidden_states");
        StringAssert.Contains(error.Message, "model.onnx");
    }

    [TestMethod]
    public void APairWhosePrefillLacksPresentsIsRejectedByName()
    {
        string folder = DecoderLayoutModels.WriteFolder(
            TestSupport.TinyLlamaDirectory,
            Path.Combine(s_root, "bad-pair"),
            ("decoder_model.onnx", DecoderLayoutModels.WithoutPast(s_withPast, keepPresents: false)),
            ("decoder_with_past_model.onnx", s_withPast));
        var error = Assert.ThrowsExactly<InvalidDataException>(() => new Generator(ModelFolder.Open(folder), TestSupport.SessionOptions()));
        StringAssert.Contains(error.Message, "present.0.key");
        StringAssert.Contains(error.Message, "decoder_model.onnx");
    }

    [TestMethod]
    public void Fp16VariantIsChosenByDtypeAndStaysCloseToFloat32()
    {
        string folder = Path.Combine(s_root, "dtypes");
        DecoderLayoutModels.WriteFolder(TestSupport.TinyLlamaDirectory, folder, ("model.onnx", s_withPast));
        using (OnnxModel model = OnnxModel.FromProto(s_withPast.Clone()))
        using (QuantizationResult fp16 = OnnxQuantizer.ConvertToFloat16(model))
        {
            fp16.Save(Path.Combine(folder, "onnx", "model_fp16.onnx"));
        }

        ModelFolder half = ModelFolder.Open(folder, "fp16");
        Assert.AreEqual(Path.Combine(folder, "onnx", "model_fp16.onnx"), half.ModelFile);
        using var generator = new Generator(half, TestSupport.SessionOptions());
        using var full = new Generator(ModelFolder.Open(folder, "fp32"), TestSupport.SessionOptions());
        (int[] prompt, int[] expected) = Reference().First();
        GenerationResult result = generator.Generate(prompt, new GenerationOptions { MaxNewTokens = 8, EosTokenIds = [] });
        CollectionAssert.AreEqual(expected.Take(8).ToArray(), result.NewIds.ToArray(), "float16 weights keep the first greedy tokens");
        Assert.AreEqual(DecoderLayout.WithPast, full.Layout);
    }

    private static IEnumerable<(int[] Prompt, int[] NewIds)> Reference() => TestSupport.GreedyReference();
}
