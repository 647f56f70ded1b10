using System.Text.Json;

namespace MLNetTransformers.OnnxRuntime.Tests;

/// <summary>
/// The binding against a real trained model: logits and greedy ids must match what PyTorch computed
/// (models/tiny-llama/reference). Exercises int64 inputs, empty past tensors, and present → past feeding without copies.
/// </summary>
[TestClass]
public sealed class TinyLlamaReferenceTests
{
    private static readonly string ModelDirectory = Path.Combine(AppContext.BaseDirectory, "models", "tiny-llama");
    private static InferenceSession? s_session;

    private static InferenceSession Session => s_session!;

    [ClassInitialize]
    public static void LoadModel(TestContext context)
    {
        _ = context;
        s_session = new InferenceSession(Path.Combine(ModelDirectory, "onnx", "model.onnx"), TestEnvironment.Options());
    }

    [ClassCleanup]
    public static void Unload() => s_session?.Dispose();

    [TestMethod]
    public void LastPositionLogitsMatchPyTorch()
    {
        using var probes = JsonDocument.Parse(File.ReadAllText(Path.Combine(ModelDirectory, "reference", "logits_probe.json")));
        foreach (JsonElement probe in probes.RootElement.GetProperty("probes").EnumerateArray())
        {
            long[] ids = probe.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            using var step = new DecoderStep(Session, ids, past: null, pastLength: 0);
            float[] last = step.LastLogits();
            float[] expected = probe.GetProperty("first_16_logits").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            SessionRunTests.AssertClose(expected, last.AsSpan(0, 16), 1e-4f);
            Assert.AreEqual(probe.GetProperty("argmax").GetInt32(), ArgMax(last));
            Assert.AreEqual(probe.GetProperty("l2_norm").GetDouble(), Math.Sqrt(last.Sum(v => (double)v * v)), 1e-3);
        }
    }

    [TestMethod]
    public void GreedyIdsWithTheKvCacheMatchPyTorchForFortySteps()
    {
        foreach (string line in File.ReadLines(Path.Combine(ModelDirectory, "reference", "greedy.jsonl")))
        {
            using var reference = JsonDocument.Parse(line);
            long[] prompt = reference.RootElement.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            long[] expected = reference.RootElement.GetProperty("argmax_40").EnumerateArray().Select(e => e.GetInt64()).ToArray();

            var generated = new List<long>();
            DecoderStep? step = new(Session, prompt, past: null, pastLength: 0);
            try
            {
                while (true)
                {
                    long next = ArgMax(step.LastLogits());
                    generated.Add(next);
                    if (generated.Count == expected.Length)
                    {
                        break;
                    }

                    DecoderStep previous = step;
                    step = new DecoderStep(Session, [next], previous.TakePresent(), previous.TotalLength);
                    previous.Dispose();
                }
            }
            finally
            {
                step.Dispose();
            }

            CollectionAssert.AreEqual(expected, generated, $"prompt: {reference.RootElement.GetProperty("prompt").GetString()}");
        }
    }

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>One decoder run for batch 1: feeds ids, mask, positions and the past; keeps the outputs.</summary>
    private sealed class DecoderStep : IDisposable
    {
        private readonly SessionOutputs _outputs;
        private readonly int _length;

        public DecoderStep(InferenceSession session, long[] ids, Dictionary<string, OrtValue>? past, int pastLength)
        {
            _length = ids.Length;
            TotalLength = pastLength + ids.Length;
            string[] pastNames = session.InputNames.Where(n => n.StartsWith("past_key_values.", StringComparison.Ordinal)).ToArray();
            past ??= pastNames.ToDictionary(n => n, _ => OrtValue.CreateTensor(Array.Empty<float>(), [1, 2, 0, 32]));
            try
            {
                using var inputIds = OrtValue.CreateTensor(ids, [1, ids.Length]);
                using var mask = OrtValue.CreateTensor(Enumerable.Repeat(1L, TotalLength).ToArray(), [1, TotalLength]);
                using var positions = OrtValue.CreateTensor(Enumerable.Range(pastLength, ids.Length).Select(p => (long)p).ToArray(), [1, ids.Length]);
                var feeds = new Dictionary<string, OrtValue>(past) { ["input_ids"] = inputIds, ["attention_mask"] = mask, ["position_ids"] = positions };
                _outputs = session.Run(feeds);
            }
            finally
            {
                foreach (OrtValue value in past.Values)
                {
                    value.Dispose();
                }
            }
        }

        public int TotalLength { get; }

        public float[] LastLogits()
        {
            ReadOnlySpan<float> logits = _outputs["logits"].GetTensorReadOnlySpan<float>();
            int vocab = logits.Length / _length;
            return logits[^vocab..].ToArray();
        }

        public Dictionary<string, OrtValue> TakePresent() =>
            _outputs.Names.Where(n => n.StartsWith("present.", StringComparison.Ordinal)).ToList()
                .ToDictionary(n => n.Replace("present.", "past_key_values.", StringComparison.Ordinal), n => _outputs.Take(n));

        public void Dispose() => _outputs.Dispose();
    }
}
