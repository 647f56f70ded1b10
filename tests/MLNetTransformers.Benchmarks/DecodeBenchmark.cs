using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using MLNetTransformers.Onnx.Builders;
using MLNetTransformers.Onnx.Model;
using MLNetTransformers.Onnx.Quantization;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Benchmarks;

/// <summary>
/// Decode latency of a distilgpt2-shaped model (<see cref="Gpt2BuilderOptions.DistilGpt2"/>: 6 layers × 768, 12 heads, 50257
/// vocabulary, tied embeddings, pseudo-random weights), float32 against dynamic int8 (<see cref="OnnxQuantizer.QuantizeDynamicInt8"/>
/// with default options: the tied wte/lm_head table stored once as int8) and, for reference, int8 with lm_head and the
/// embeddings kept float (what dynamic int8 did before it handled tied tables). The float32 folder is built once and cached
/// under the benchmark's bin folder (<c>decode-models/</c>; delete it to rebuild); the int8 models are quantized from it on
/// every run, so they reflect the current quantizer. Each measurement is a greedy decode with the KV cache: a prompt of 16
/// pseudo-random tokens in one run, then single-token steps feeding each step's <c>present.*</c> as the next step's
/// <c>past_key_values.*</c>; a step is timed whole (feeds, <c>Run</c>, arg-max of the logits, cache hand-over). Per thread
/// count every model is warmed up, then the models decode in turn, round after round, so that the machine's other load weighs
/// on all alike; per-token p50/p95 are over the steps of every round.
/// </summary>
internal static class DecodeBenchmark
{
    private const int PromptLength = 16;

    public static int Run(int steps, int rounds, IReadOnlyList<int> threads)
    {
        Gpt2BuilderOptions options = Gpt2BuilderOptions.DistilGpt2;
        Console.WriteLine(Invariant($"ONNX Runtime {OnnxRuntimeLibrary.Version} ({OnnxRuntimeLibrary.LoadedFrom})"));
        Console.WriteLine(Invariant($"{RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}, {Environment.ProcessorCount} processors, CPU: {CpuModel()}"));
        Console.WriteLine(Invariant($"load average at start: {LoadAverage()}"));

        string folder = Path.Combine(AppContext.BaseDirectory, "decode-models", "distilgpt2-seed0");
        string fp32Path = Path.Combine(folder, "onnx", "model.onnx");
        var clock = Stopwatch.StartNew();
        string built = "cached";
        if (!File.Exists(fp32Path))
        {
            new Gpt2Builder(options).WriteFolder(folder);
            built = Invariant($"built in {clock.Elapsed.TotalSeconds:F1} s");
        }

        Console.WriteLine(Invariant($"model: {folder} (distilgpt2 shape: {options.Layers} layers x {options.Hidden}, {options.Heads} heads, vocab {options.Vocab}, tied embeddings, seed {options.Seed}; float32 {built})"));
        var variants = new List<Variant> { new("fp32", fp32Path, 0) };
        using (OnnxModel fp32 = OnnxModel.Load(fp32Path))
        {
            variants[0] = variants[0] with { ParameterBytes = OnnxModelSummary.Create(fp32).ParameterBytes };
            var headFloat = new Int8DynamicOptions { KeepOutputProjection = true, QuantizeEmbeddings = false };
            foreach (var (name, quantization, what) in new[]
            {
                ("int8", new Int8DynamicOptions(), "QuantizeDynamicInt8, default options"),
                ("int8-hf", headFloat, "lm_head and embeddings kept float (KeepOutputProjection, QuantizeEmbeddings = false: the int8 mode before tied tables)"),
            })
            {
                clock.Restart();
                using QuantizationResult result = OnnxQuantizer.QuantizeDynamicInt8(fp32, quantization);
                double seconds = clock.Elapsed.TotalSeconds;
                string path = Path.Combine(folder, "onnx", $"model_{name}.onnx");
                result.Save(path);
                OnnxQuantizer.Verify(fp32, result.Model, new SessionOptions { IntraOpThreads = 1 });
                variants.Add(new Variant(name, path, OnnxModelSummary.Create(result.Model).ParameterBytes));
                Console.WriteLine(Invariant($"{name}: {what}; quantized in {seconds:F1} s: ")
                    + string.Join(", ", result.Quantized.GroupBy(q => q.OpType + " -> " + q.Replacement).Select(g => Invariant($"{g.Count()} {g.Key}")))
                    + Invariant($"; {result.Skipped.Count} skipped"));
            }
        }

        Console.WriteLine();
        Console.WriteLine(Invariant($"{"model",-8} {"parameter bytes",16} {"vs fp32",8} {"file bytes",14} {"vs fp32",8}"));
        long fp32File = new FileInfo(fp32Path).Length;
        foreach (Variant variant in variants)
        {
            long file = new FileInfo(variant.Path).Length;
            Console.WriteLine(Invariant($"{variant.Name,-8} {variant.ParameterBytes,16:N0} {100.0 * variant.ParameterBytes / variants[0].ParameterBytes,7:F1}% {file,14:N0} {100.0 * file / fp32File,7:F1}%"));
        }

        Console.WriteLine();
        long[] prompt = Prompt(options.Vocab);
        Console.WriteLine(Invariant($"decode: prompt {PromptLength} tokens, then {steps} single-token steps (greedy, KV cache); per thread count a warm-up decode per model, then {rounds} rounds over the models in turn"));
        Console.WriteLine(Invariant($"{"threads",7} {"model",-8} {"prompt ms",10} {"step p50 ms",12} {"step p95 ms",12} {"step mean",10} {"tokens/s",9} {"p50 speed-up",13} {"p95 speed-up",13}"));
        Comparison? accuracy = null;
        foreach (int threadCount in threads)
        {
            var sessionOptions = new SessionOptions { IntraOpThreads = threadCount, InterOpThreads = 1 };
            var sessions = new List<InferenceSession>();
            try
            {
                foreach (Variant variant in variants)
                {
                    sessions.Add(new InferenceSession(variant.Path, sessionOptions));
                }

                Decoder[] decoders = [.. sessions.Select(s => new Decoder(s, options))];
                foreach (Decoder decoder in decoders)
                {
                    _ = decoder.Decode(prompt, Math.Min(steps, 8));
                }

                var results = decoders.Select(_ => new List<DecodeResult>()).ToArray();
                for (int round = 0; round < rounds; round++)
                {
                    for (int d = 0; d < decoders.Length; d++)
                    {
                        results[d].Add(decoders[d].Decode(prompt, steps));
                    }
                }

                accuracy ??= new Comparison(results[0][0], results[1][0], options.Vocab);
                Stats[] stats = [.. results.Select(Stats.Of)];
                for (int v = 0; v < variants.Count; v++)
                {
                    stats[v].Print(threadCount, variants[v].Name, stats[0]);
                }
            }
            finally
            {
                foreach (InferenceSession session in sessions)
                {
                    session.Dispose();
                }
            }
        }

        if (accuracy is not null)
        {
            Console.WriteLine();
            Console.WriteLine(Invariant($"int8 vs fp32, logits of the {PromptLength} prompt positions: cosine min {accuracy.MinCosine:F5}, mean {accuracy.MeanCosine:F5}; arg-max equal at {accuracy.ArgMaxAgree}/{PromptLength} positions"));
            Console.WriteLine(Invariant($"int8 vs fp32, greedy tokens: equal for the first {accuracy.GreedyAgree} of {steps + 1} generated tokens"));
        }

        Console.WriteLine(Invariant($"load average at end: {LoadAverage()}"));
        return 0;
    }

    /// <summary>A model to decode with: its file and parameter bytes.</summary>
    private sealed record Variant(string Name, string Path, long ParameterBytes);

    /// <summary>Pseudo-random prompt ids (fixed seed), below the vocabulary's last id (end of text).</summary>
    private static long[] Prompt(int vocab)
    {
        var random = new Random(20240601);
        return [.. Enumerable.Range(0, PromptLength).Select(_ => (long)random.Next(256, vocab - 1))];
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    private static string CpuModel()
    {
        try
        {
            string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? "unknown" : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>One greedy decode: the prompt's logits (every position), the generated ids, the prompt and per-step times.</summary>
    private sealed record DecodeResult(float[] PromptLogits, long[] Generated, double PromptMs, double[] StepMs);

    /// <summary>Greedy decoding with the KV cache over one session.</summary>
    private sealed class Decoder(InferenceSession session, Gpt2BuilderOptions options)
    {
        private readonly string[] _past = [.. Enumerable.Range(0, options.Layers).SelectMany(i => new[] { "key", "value" }.Select(kind => string.Create(CultureInfo.InvariantCulture, $"past_key_values.{i}.{kind}")))];

        public DecodeResult Decode(long[] prompt, int steps)
        {
            var names = new List<string> { "input_ids", "attention_mask", "position_ids" };
            names.AddRange(_past);
            var past = new OrtValue[_past.Length];
            for (int i = 0; i < past.Length; i++)
            {
                past[i] = OrtValue.CreateTensor(Array.Empty<float>(), [1, options.Heads, 0, options.HeadDim]);
            }

            float[] promptLogits = [];
            var generated = new long[steps + 1];
            var stepMs = new double[steps];
            double promptMs = 0;
            long[] ids = prompt;
            int pastLength = 0;
            try
            {
                for (int step = 0; step <= steps; step++)
                {
                    long start = Stopwatch.GetTimestamp();
                    int length = ids.Length;
                    long[] mask = new long[pastLength + length];
                    Array.Fill(mask, 1L);
                    long[] positions = [.. Enumerable.Range(pastLength, length).Select(p => (long)p)];
                    using var inputIds = OrtValue.CreateTensor(ids, [1, length]);
                    using var attentionMask = OrtValue.CreateTensor(mask, [1, mask.Length]);
                    using var positionIds = OrtValue.CreateTensor(positions, [1, length]);
                    var values = new List<OrtValue>(names.Count) { inputIds, attentionMask, positionIds };
                    values.AddRange(past);
                    using SessionOutputs outputs = session.Run(names, values);
                    ReadOnlySpan<float> logits = outputs["logits"].GetTensorReadOnlySpan<float>();
                    if (step == 0)
                    {
                        promptLogits = logits.ToArray();
                    }

                    long next = ArgMax(logits[^options.Vocab..]);
                    for (int i = 0; i < past.Length; i++)
                    {
                        past[i].Dispose();
                        past[i] = outputs.Take(_past[i].Replace("past_key_values.", "present.", StringComparison.Ordinal));
                    }

                    double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    if (step == 0)
                    {
                        promptMs = ms;
                    }
                    else
                    {
                        stepMs[step - 1] = ms;
                    }

                    generated[step] = next;
                    pastLength += length;
                    ids = [next];
                }
            }
            finally
            {
                foreach (OrtValue value in past)
                {
                    value.Dispose();
                }
            }

            return new DecodeResult(promptLogits, generated, promptMs, stepMs);
        }
    }

    private static int ArgMax(ReadOnlySpan<float> values)
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

    /// <summary>Per-token statistics over every step of every round.</summary>
    private sealed record Stats(double Prompt, double P50, double P95, double Mean)
    {
        public static Stats Of(IReadOnlyList<DecodeResult> runs)
        {
            double[] steps = [.. runs.SelectMany(r => r.StepMs).Order()];
            double[] prompts = [.. runs.Select(r => r.PromptMs).Order()];
            return new Stats(Percentile(prompts, 50), Percentile(steps, 50), Percentile(steps, 95), steps.Average());
        }

        public void Print(int threads, string model, Stats baseline) =>
            Console.WriteLine(Invariant($"{threads,7} {model,-8} {Prompt,10:F2} {P50,12:F2} {P95,12:F2} {Mean,10:F2} {1000 / P50,9:F1} {"x" + (baseline.P50 / P50).ToString("F2", CultureInfo.InvariantCulture),13} {"x" + (baseline.P95 / P95).ToString("F2", CultureInfo.InvariantCulture),13}"));

        /// <summary>Nearest-rank percentile of sorted values.</summary>
        private static double Percentile(double[] sorted, double percent) =>
            sorted[Math.Clamp((int)Math.Ceiling(percent / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    /// <summary>How close the int8 decode is to the float32 one.</summary>
    private sealed class Comparison
    {
        public Comparison(DecodeResult fp32, DecodeResult int8, int vocab)
        {
            int positions = fp32.PromptLogits.Length / vocab;
            var cosines = new double[positions];
            for (int p = 0; p < positions; p++)
            {
                ReadOnlySpan<float> a = fp32.PromptLogits.AsSpan(p * vocab, vocab), b = int8.PromptLogits.AsSpan(p * vocab, vocab);
                cosines[p] = Cosine(a, b);
                ArgMaxAgree += ArgMax(a) == ArgMax(b) ? 1 : 0;
            }

            MinCosine = cosines.Min();
            MeanCosine = cosines.Average();
            while (GreedyAgree < fp32.Generated.Length && fp32.Generated[GreedyAgree] == int8.Generated[GreedyAgree])
            {
                GreedyAgree++;
            }
        }

        public double MinCosine { get; }

        public double MeanCosine { get; }

        public int ArgMaxAgree { get; }

        public int GreedyAgree { get; }

        private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
        {
            double dot = 0, na = 0, nb = 0;
            for (int i = 0; i < a.Length; i++)
            {
                dot += (double)a[i] * b[i];
                na += (double)a[i] * a[i];
                nb += (double)b[i] * b[i];
            }

            return dot / Math.Sqrt(na * nb);
        }
    }
}
