using System.Text.Json;
using MLNetTransformers.Onnx.Model;
using MLNetTransformers.Onnx.Quantization;
using MLNetTransformers.OnnxRuntime;
using static MLNetTransformers.Onnx.Tests.Quantization.QuantizationTestSupport;

namespace MLNetTransformers.Onnx.Tests.Quantization;

/// <summary>
/// Every mode on the real tiny Llama (4 layers, hidden 192, vocab 4096): the result loads in ONNX Runtime with the original
/// inputs and outputs, and its last-position logits agree with the float32 model's on the reference prompts.
/// </summary>
[TestClass]
public sealed class TinyLlamaQuantizationTests
{
    private static OnnxModel? s_model;
    private static long[][] s_prompts = [];
    private static float[][] s_reference = [];
    private static long[][] s_sequences = [];

    [ClassInitialize]
    public static void Load(TestContext context)
    {
        _ = context;
        s_model = OnnxModel.Load(TestSupport.TinyLlamaModel);
        string reference = Path.Combine(TestSupport.TinyLlamaDirectory, "reference");
        using var probes = JsonDocument.Parse(File.ReadAllText(Path.Combine(reference, "logits_probe.json")));
        var prompts = probes.RootElement.GetProperty("probes").EnumerateArray()
            .Select(p => p.GetProperty("input_ids").EnumerateArray().Select(i => i.GetInt64()).ToArray()).ToList();
        var sequences = new List<long[]>();
        foreach (string line in File.ReadLines(Path.Combine(reference, "greedy.jsonl")))
        {
            using var doc = JsonDocument.Parse(line);
            long[] prompt = doc.RootElement.GetProperty("prompt_ids").EnumerateArray().Select(i => i.GetInt64()).ToArray();
            prompts.Add(prompt);
            sequences.Add([.. prompt, .. doc.RootElement.GetProperty("new_ids").EnumerateArray().Select(i => i.GetInt64())]);
        }

        s_prompts = [.. prompts];
        s_sequences = [.. sequences];
        using var session = new InferenceSession(TestSupport.TinyLlamaModel, TestSupport.SessionOptions());
        s_reference = s_prompts.Select(p => Logits(session, p, lastOnly: true)).ToArray();
    }

    [ClassCleanup]
    public static void Unload() => s_model?.Dispose();

    private static OnnxModel Model => s_model!;

    public static IEnumerable<object[]> Modes =>
    [
        ["int8", 0.99],
        ["int8-per-channel", 0.99],
        ["int4-block32", 0.95],
        ["int4-block128-asymmetric", 0.95],
        ["fp16", 0.99],
        ["int8-static", 0.95],
    ];

    [TestMethod]
    [DynamicData(nameof(Modes))]
    public void QuantizedModelRunsWithTheSameSignatureAndAgreesWithFloat32(string mode, double minimumCosine)
    {
        using QuantizationResult result = Quantize(mode);
        if (mode == "fp16")
        {
            // Every MatMul computes in float16; the rotary position arithmetic and the RMSNorm reductions stay float32.
            Assert.AreEqual(37, result.Quantized.Count(n => n.OpType == "MatMul"));
            Assert.IsTrue(result.Skipped.Any(n => n.OpType == "Cos") && result.Skipped.Any(n => n.OpType == "ReduceMean"));
            Assert.IsTrue(result.Model.Graph.Initializer.Where(t => t.Dims.Count == 2).All(t => t.DataType == (int)Protos.TensorProto.Types.DataType.Float16));
        }
        else
        {
            Assert.HasCount(29, result.Quantized.Where(n => n.OpType != "Gather"), "the 28 layer projections and lm_head");
            // Dynamic int8 also stores the (untied) token embedding as int8 with per-row scales.
            Assert.HasCount(mode is "int8" or "int8-per-channel" ? 1 : 0, result.Quantized.Where(n => n.OpType == "Gather"));
        }
        OnnxQuantizer.Verify(Model, result.Model, TestSupport.SessionOptions());

        using var original = new InferenceSession(TestSupport.TinyLlamaModel, TestSupport.SessionOptions());
        using var session = new InferenceSession(result.Model.ToBytes(), TestSupport.SessionOptions());
        CollectionAssert.AreEqual(original.InputMetadata.Select(m => m.ToString()).ToArray(), session.InputMetadata.Select(m => m.ToString()).ToArray());
        CollectionAssert.AreEqual(original.OutputMetadata.Select(m => m.ToString()).ToArray(), session.OutputMetadata.Select(m => m.ToString()).ToArray());

        int agree = 0;
        double worst = 1;
        for (int p = 0; p < s_prompts.Length; p++)
        {
            float[] logits = Logits(session, s_prompts[p], lastOnly: true);
            double cosine = Cosine(s_reference[p], logits);
            worst = Math.Min(worst, cosine);
            Assert.IsGreaterThan(minimumCosine, cosine, $"{mode}: prompt {p} cosine {cosine:F5}");
            agree += ArgMax(logits) == ArgMax(s_reference[p]) ? 1 : 0;
        }

        Console.WriteLine($"{mode}: worst last-position cosine {worst:F5}, argmax agrees on {agree}/{s_prompts.Length} prompts, size {result.Model.ToBytes().Length:N0} bytes");
        Assert.IsGreaterThanOrEqualTo(s_prompts.Length - 1, agree, $"{mode}: argmax agrees on {agree}/{s_prompts.Length} prompts");
    }

    [TestMethod]
    public void PerplexityImpactOnTheReferenceSequencesIsSmall()
    {
        // A measurement (the full numbers are in the report): mean NLL of the greedy reference continuations, every position.
        double Nll(InferenceSession session)
        {
            double total = 0;
            long count = 0;
            foreach (long[] sequence in s_sequences)
            {
                float[] logits = Logits(session, sequence[..^1], lastOnly: false);
                for (int t = 0; t < sequence.Length - 1; t++)
                {
                    ReadOnlySpan<float> row = logits.AsSpan(t * 4096, 4096);
                    float max = float.NegativeInfinity;
                    foreach (float v in row)
                    {
                        max = MathF.Max(max, v);
                    }

                    double sum = 0;
                    foreach (float v in row)
                    {
                        sum += Math.Exp(v - max);
                    }

                    total += Math.Log(sum) + max - row[(int)sequence[t + 1]];
                    count++;
                }
            }

            return total / count;
        }

        using var original = new InferenceSession(TestSupport.TinyLlamaModel, TestSupport.SessionOptions());
        double baseline = Math.Exp(Nll(original));
        foreach (string mode in new[] { "int8", "int4-block32", "fp16" })
        {
            using QuantizationResult result = Quantize(mode);
            using var session = new InferenceSession(result.Model.ToBytes(), TestSupport.SessionOptions());
            double perplexity = Math.Exp(Nll(session));
            Console.WriteLine($"{mode}: perplexity on the greedy reference sequences {perplexity:F4} vs float32 {baseline:F4} ({(perplexity / baseline - 1) * 100:+0.00;-0.00}%)");
            Assert.IsLessThan(1.10, perplexity / baseline, mode);
        }
    }

    private static QuantizationResult Quantize(string mode)
    {
        var options = mode switch
        {
            "int8" => new Int8DynamicOptions(),
            "int8-per-channel" => new Int8DynamicOptions { PerChannel = true },
            "int4-block32" => new Int4Options { BlockSize = 32 },
            "int4-block128-asymmetric" => new Int4Options { BlockSize = 128, Symmetric = false },
            "fp16" => (QuantizationOptions)new Float16Options(),
            _ => null,
        };
        return options is not null
            ? OnnxQuantizer.Quantize(Model, options)
            : OnnxQuantizer.QuantizeStatic(Model, CalibrationFeeds(), new Int8StaticOptions { PerChannel = true });
    }

    /// <summary>Calibration inputs: the greedy reference sequences (prompts and continuations).</summary>
    private static IEnumerable<IReadOnlyDictionary<string, OrtValue>> CalibrationFeeds()
    {
        foreach (long[] sequence in s_sequences)
        {
            Dictionary<string, OrtValue> feeds = Feeds(sequence);
            try
            {
                yield return feeds;
            }
            finally
            {
                foreach (OrtValue value in feeds.Values)
                {
                    value.Dispose();
                }
            }
        }
    }

    private static Dictionary<string, OrtValue> Feeds(long[] ids)
    {
        var feeds = new Dictionary<string, OrtValue>
        {
            ["input_ids"] = OrtValue.CreateTensor(ids, [1, ids.Length]),
            ["attention_mask"] = OrtValue.CreateTensor(Enumerable.Repeat(1L, ids.Length).ToArray(), [1, ids.Length]),
            ["position_ids"] = OrtValue.CreateTensor(Enumerable.Range(0, ids.Length).Select(i => (long)i).ToArray(), [1, ids.Length]),
        };
        for (int layer = 0; layer < 4; layer++)
        {
            feeds[$"past_key_values.{layer}.key"] = OrtValue.CreateAllocatedTensor(TensorElementType.Float32, [1, 2, 0, 32]);
            feeds[$"past_key_values.{layer}.value"] = OrtValue.CreateAllocatedTensor(TensorElementType.Float32, [1, 2, 0, 32]);
        }

        return feeds;
    }

    private static float[] Logits(InferenceSession session, long[] ids, bool lastOnly)
    {
        Dictionary<string, OrtValue> feeds = Feeds(ids);
        try
        {
            using SessionOutputs outputs = session.Run(feeds, ["logits"]);
            float[] logits = outputs[0].ToArray<float>();
            return lastOnly ? logits[^4096..] : logits;
        }
        finally
        {
            foreach (OrtValue value in feeds.Values)
            {
                value.Dispose();
            }
        }
    }
}
