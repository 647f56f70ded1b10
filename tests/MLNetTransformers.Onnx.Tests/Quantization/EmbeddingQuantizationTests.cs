using System.Text.Json;
using MLNetTransformers.Onnx.Builders;
using MLNetTransformers.Onnx.Model;
using MLNetTransformers.Onnx.Protos;
using MLNetTransformers.Onnx.Quantization;
using MLNetTransformers.Onnx.Tests.Builders;
using MLNetTransformers.OnnxRuntime;
using static MLNetTransformers.Onnx.Tests.Quantization.QuantizationTestSupport;
using DataType = MLNetTransformers.Onnx.Protos.TensorProto.Types.DataType;
using TestGraph = MLNetTransformers.Onnx.Tests.Quantization.QuantizationTestSupport.GraphBuilder;

namespace MLNetTransformers.Onnx.Tests.Quantization;

/// <summary>
/// Dynamic int8 of embedding tables and tied output projections: a GPT-2 whose <c>lm_head</c> is <c>MatMul(x, Transpose(wte))</c>
/// stores the table once, as int8; lookups equal the dequantized rows exactly; the ways to keep the head or the embedding float.
/// </summary>
[TestClass]
public sealed class EmbeddingQuantizationTests
{
    private const string Wte = "transformer.wte.weight", Wpe = "transformer.wpe.weight";

    /// <summary>Small, but shaped so that the vocabulary dominates the parameters as in distilgpt2 (wte 524k of 0.93M).</summary>
    private static readonly Gpt2BuilderOptions Tied = new() { Layers = 2, Hidden = 128, Heads = 4, Vocab = 4096, MaxPositions = 64, Seed = 11 };

    private static OnnxModel? s_gpt2;

    private static OnnxModel Gpt2 => s_gpt2!;

    private static DecoderShape Shape => new(Tied.Layers, Tied.Heads, Tied.HeadDim, Tied.Vocab);

    [ClassInitialize]
    public static void Build(TestContext context)
    {
        _ = context;
        s_gpt2 = new Gpt2Builder(Tied).BuildModel();
    }

    [ClassCleanup]
    public static void Release() => s_gpt2?.Dispose();

    [TestMethod]
    public void TiedGpt2StoresTheTableOnceAsInt8AndItsLogitsStayClose()
    {
        using QuantizationResult result = OnnxQuantizer.QuantizeDynamicInt8(Gpt2);
        GraphProto graph = result.Model.Graph;

        // lm_head: DynamicQuantizeMatMul over the int8 transpose of wte, one scale per vocabulary row; the Transpose is gone.
        NodeProto head = graph.Node.Single(n => n.Output.Contains("logits"));
        Assert.AreEqual("DynamicQuantizeMatMul", head.OpType);
        TensorProto table = Initializer(result.Model, head.Input[1]);
        Assert.AreEqual((int)DataType.Int8, table.DataType);
        CollectionAssert.AreEqual(new long[] { Tied.Hidden, Tied.Vocab }, table.Dims.ToArray());
        CollectionAssert.AreEqual(new long[] { Tied.Vocab }, Initializer(result.Model, head.Input[2]).Dims.ToArray(), "per-row scales although PerChannel is off");
        Assert.IsFalse(graph.Initializer.Any(t => t.Name == Wte), "the float32 table is gone");
        Assert.IsFalse(graph.Node.Any(n => n.OpType == "Transpose" && n.Input[0] == head.Input[1]));
        Assert.IsFalse(graph.Node.Any(n => n.Name == "/lm_head/Transpose"), "the Transpose of wte is gone");

        // The token embedding gathers columns of that same int8 tensor: one copy of the table in the file.
        NodeProto lookup = graph.Node.Single(n => n.OpType == "Gather" && n.Input[0] == table.Name);
        Assert.AreEqual(1, GraphEditor.GetInt(lookup, "axis"));
        Assert.AreEqual(1, graph.Initializer.Count(t => t.DataType == (int)DataType.Int8 && t.Dims.Aggregate(1L, (a, b) => a * b) == (long)Tied.Vocab * Tied.Hidden));
        QuantizedNode embedding = result.Quantized.Single(q => q.OpType == "Gather");
        Assert.AreEqual(Wte, embedding.Weight);
        StringAssert.Contains(embedding.Replacement, "shared with '/lm_head/MatMul'");

        // wpe (64 × 128 values) is below MinimumEmbeddingElements and stays float.
        Assert.IsTrue(graph.Initializer.Any(t => t.Name == Wpe && t.DataType == (int)DataType.Float));
        StringAssert.Contains(result.Skipped.Single(s => s.OpType == "Gather").Reason, "MinimumEmbeddingElements");

        long before = OnnxModelSummary.Create(Gpt2).ParameterBytes, after = OnnxModelSummary.Create(result.Model).ParameterBytes;
        Console.WriteLine($"tied GPT-2 int8: {after:N0} of {before:N0} parameter bytes ({100.0 * after / before:F1}%)");
        Assert.IsLessThanOrEqualTo(0.30, (double)after / before);

        // Same inputs and outputs; logits close to float32 on random prompts, at every position, then on a cached step.
        OnnxQuantizer.Verify(Gpt2, result.Model, TestSupport.SessionOptions());
        using var original = new InferenceSession(Gpt2.ToBytes(), TestSupport.SessionOptions());
        using var quantized = new InferenceSession(result.Model.ToBytes(), TestSupport.SessionOptions());
        CollectionAssert.AreEqual(original.InputMetadata.Select(m => m.ToString()).ToArray(), quantized.InputMetadata.Select(m => m.ToString()).ToArray());
        CollectionAssert.AreEqual(original.OutputMetadata.Select(m => m.ToString()).ToArray(), quantized.OutputMetadata.Select(m => m.ToString()).ToArray());
        double worst = CompareLogits(original, quantized, prompts: 4, seed: 1);
        Console.WriteLine($"tied GPT-2 int8: worst logits cosine {worst:F5}");
        Assert.IsGreaterThan(0.99, worst);
    }

    [TestMethod]
    public void PerChannelAndReduceRangeKeepTheSharedTable()
    {
        var options = new Int8DynamicOptions { PerChannel = true, ReduceRange = true };
        using QuantizationResult result = OnnxQuantizer.QuantizeDynamicInt8(Gpt2, options);
        NodeProto head = result.Model.Graph.Node.Single(n => n.Output.Contains("logits"));
        Assert.IsTrue(result.Model.Graph.Node.Any(n => n.OpType == "Gather" && n.Input[0] == head.Input[1]));
        sbyte[] values = OnnxTensors.RawBytes(Initializer(result.Model, head.Input[1])).Select(b => (sbyte)b).ToArray();
        Assert.AreEqual(63, values.Max(v => Math.Abs((int)v)), "7-bit weights");
        using var original = new InferenceSession(Gpt2.ToBytes(), TestSupport.SessionOptions());
        using var quantized = new InferenceSession(result.Model.ToBytes(), TestSupport.SessionOptions());
        Assert.IsGreaterThan(0.99, CompareLogits(original, quantized, prompts: 2, seed: 2));
    }

    [TestMethod]
    public void KeepingTheHeadOrTheEmbeddingFloat()
    {
        string gather = Gpt2.Graph.Node.Single(n => n.OpType == "Gather" && n.Input[0] == Wte).Name;

        // Keeping lm_head float (by option or by name) keeps the tied table float for the lookup too: an int8 copy would add bytes.
        var keepHead = new Int8DynamicOptions { KeepOutputProjection = true };
        var excludeHead = new Int8DynamicOptions();
        excludeHead.ExcludeNodes.Add("lm_head");
        foreach (Int8DynamicOptions options in new[] { keepHead, excludeHead })
        {
            using QuantizationResult result = OnnxQuantizer.QuantizeDynamicInt8(Gpt2, options);
            NodeProto head = result.Model.Graph.Node.Single(n => n.Output.Contains("logits"));
            Assert.AreEqual("MatMul", head.OpType);
            Assert.IsTrue(result.Model.Graph.Node.Any(n => n.OpType == "Transpose" && n.Input[0] == Wte));
            Assert.IsTrue(result.Model.Graph.Node.Any(n => n.Name == gather && n.OpType == "Gather" && n.Input[0] == Wte));
            SkippedNode skipped = result.Skipped.Single(s => s.NodeName == gather);
            StringAssert.Contains(skipped.Reason, $"its table '{Wte}' is also read as float32 by '/lm_head/Transpose'");
            Assert.AreEqual(2 * 4, result.Quantized.Count, "the layers' projections only");
        }

        // Excluding the lookup keeps it float; lm_head is still quantized, from its own int8 copy of the table.
        var excludeLookup = new Int8DynamicOptions();
        excludeLookup.ExcludeNodes.Add("*/transformer/Gather");
        using (QuantizationResult result = OnnxQuantizer.QuantizeDynamicInt8(Gpt2, excludeLookup))
        {
            NodeProto head = result.Model.Graph.Node.Single(n => n.Output.Contains("logits"));
            Assert.AreEqual("DynamicQuantizeMatMul", head.OpType);
            Assert.AreEqual(0, Initializer(result.Model, head.Input[2]).Dims.Count, "per tensor: nothing shares it");
            Assert.IsTrue(result.Model.Graph.Node.Any(n => n.Name == gather && n.Input[0] == Wte));
            Assert.IsFalse(result.Model.Graph.Node.Any(n => n.OpType == "Transpose" && n.Input[0] == Wte));
            Assert.AreEqual("excluded by name", result.Skipped.Single(s => s.NodeName == gather).Reason);
        }

        // QuantizeEmbeddings = false: every Gather stays as it was.
        using (QuantizationResult result = OnnxQuantizer.QuantizeDynamicInt8(Gpt2, new Int8DynamicOptions { QuantizeEmbeddings = false }))
        {
            Assert.IsFalse(result.Quantized.Any(q => q.OpType == "Gather"));
            Assert.IsTrue(result.Model.Graph.Node.Any(n => n.Name == gather && n.Input[0] == Wte));
            Assert.AreEqual("DynamicQuantizeMatMul", result.Model.Graph.Node.Single(n => n.Output.Contains("logits")).OpType);
        }

        // Naming a lookup that cannot be quantized is an error that names it.
        var named = new Int8DynamicOptions { KeepOutputProjection = true };
        named.IncludeNodes.Add("*/transformer/Gather");
        var error = Assert.ThrowsExactly<UnsupportedModelException>(() => OnnxQuantizer.QuantizeDynamicInt8(Gpt2, named));
        Assert.AreEqual(gather, error.NodeName);
        StringAssert.Contains(error.Message, "also read as float32");

        Assert.ThrowsExactly<ArgumentException>(() => OnnxQuantizer.QuantizeDynamicInt8(Gpt2, new Int8DynamicOptions { MinimumEmbeddingElements = -1 }));
    }

    [TestMethod]
    public void UntiedGpt2QuantizesTheEmbeddingAsItsOwnTable()
    {
        using OnnxModel untied = new Gpt2Builder(Tied with { TieWordEmbeddings = false }).BuildModel();
        using QuantizationResult result = OnnxQuantizer.QuantizeDynamicInt8(untied);
        NodeProto lookup = result.Model.Graph.Node.Single(n => n.OpType == "Gather" && n.Input[0] == Wte + "_int8");
        TensorProto table = Initializer(result.Model, lookup.Input[0]);
        Assert.AreEqual((int)DataType.Int8, table.DataType);
        CollectionAssert.AreEqual(new long[] { Tied.Vocab, Tied.Hidden }, table.Dims.ToArray());
        Assert.AreEqual(0, GraphEditor.GetInt(lookup, "axis"));
        StringAssert.Contains(result.Quantized.Single(q => q.Weight == Wte).Replacement, "row scale");

        using var original = new InferenceSession(untied.ToBytes(), TestSupport.SessionOptions());
        using var quantized = new InferenceSession(result.Model.ToBytes(), TestSupport.SessionOptions());
        Assert.IsGreaterThan(0.99, CompareLogits(original, quantized, prompts: 2, seed: 3));
    }

    /// <summary>
    /// One table E read by three lookups (2-D indices declared on a graph input, a scalar index, indices of undeclared rank) and
    /// by a tied projection MatMul(x, Transpose(E)); a second table F read by a lookup and by Gemm(x, F, transB=1). Every lookup
    /// returns exactly q · scale of its rows (negative indices included); both tables are stored once.
    /// </summary>
    [TestMethod]
    public void SharedLookupsReturnExactlyTheDequantizedRows()
    {
        const int V = 40, H = 24;
        float[] e = Values(V * H, 21, 0.5f), f = Values(V * H, 22, 0.3f);
        for (int c = 0; c < H; c++)
        {
            e[(7 * H) + c] *= 4; // row 7 has a larger range: its scale differs
        }

        var builder = new TestGraph(opset: 17).Input("x", 2, H).Output("logits", 2, V).Output("gemm", 2, V)
            .Output("rows", 2, 3, H).Output("row", H).Output("any_rows", 2, 3, H).Output("f_rows", 2, 3, H)
            .Weight("E", e, V, H).Weight("F", f, V, H)
            .Node("Gather", "lookup", ["E", "ids"], ["rows"])
            .Node("Gather", "lookup_scalar", ["E", "id"], ["row"])
            .Node("Identity", "ids_copy", ["ids"], ["ids_any"])
            .Node("Gather", "lookup_any", ["E", "ids_any"], ["any_rows"])
            .Node("Transpose", "head_t", ["E"], ["E_t"], Ints("perm", 1, 0))
            .Node("MatMul", "head", ["x", "E_t"], ["logits"])
            .Node("Gather", "lookup_f", ["F", "ids"], ["f_rows"])
            .Node("Gemm", "head_f", ["x", "F"], ["gemm"], Int("transB", 1));
        builder.Graph.Input.Add(TestGraph.Value("ids", DataType.Int64, [2, 3]));
        builder.Graph.Input.Add(TestGraph.Value("id", DataType.Int64, []));
        using OnnxModel model = builder.Build();
        using QuantizationResult result = OnnxQuantizer.QuantizeDynamicInt8(model);

        GraphProto graph = result.Model.Graph;
        Assert.AreEqual(6, result.Quantized.Count);
        Assert.IsFalse(graph.Initializer.Any(t => t.DataType == (int)DataType.Float && t.Dims.Count == 2), "no float table left");
        Assert.AreEqual(2, graph.Initializer.Count(t => t.DataType == (int)DataType.Int8), "one int8 table each");
        Assert.IsFalse(graph.Node.Any(n => n.OpType == "Transpose" && n.Input[0] == "E"));
        OnnxQuantizer.Verify(model, result.Model, TestSupport.SessionOptions());

        long[] ids = [3, 7, -1, 0, 39, 7];
        float[] x = Values(2 * H, 23, 1f);
        float[][] outputs = RunWithIds(result.Model, ids, 7, x, H);
        float[] expectedE = DequantizedRows(e, V, H), expectedF = DequantizedRows(f, V, H);
        float[] Rows(float[] table, IEnumerable<long> which) => which.SelectMany(i => table.AsSpan((int)((i + V) % V) * H, H).ToArray()).ToArray();
        CollectionAssert.AreEqual(Rows(expectedE, ids), outputs[2], "2-D indices");
        CollectionAssert.AreEqual(Rows(expectedE, [7]), outputs[3], "scalar index");
        CollectionAssert.AreEqual(Rows(expectedE, ids), outputs[4], "indices of undeclared rank");
        CollectionAssert.AreEqual(Rows(expectedF, ids), outputs[5], "the table shared with Gemm");

        float[] et = Enumerable.Range(0, H * V).Select(i => e[((i % V) * H) + (i / V)]).ToArray();
        float[] ft = Enumerable.Range(0, H * V).Select(i => f[((i % V) * H) + (i / V)]).ToArray();
        Assert.IsGreaterThan(0.999, Cosine(MatMul(x, et, 2, H, V), outputs[0]));
        Assert.IsGreaterThan(0.999, Cosine(MatMul(x, ft, 2, H, V), outputs[1]));
    }

    [TestMethod]
    public void AnEmbeddingOfItsOwnUsesStandardOperatorsOnly()
    {
        const int V = 40, H = 24;
        float[] e = Values(V * H, 31, 0.5f);
        static OnnxModel Lookup(float[] table, bool alsoCopied)
        {
            var builder = new TestGraph(opset: 17).Output("rows", 2, 3, H).Weight("E", table, V, H).Node("Gather", "lookup", ["E", "ids"], ["rows"]);
            builder.Graph.Input.Add(TestGraph.Value("ids", DataType.Int64, [2, 3]));
            if (alsoCopied)
            {
                builder.Output("copy", V, H).Node("Identity", "copy_table", ["E"], ["copy"]);
            }

            return builder.Build();
        }

        using OnnxModel model = Lookup(e, alsoCopied: false);
        using (QuantizationResult small = OnnxQuantizer.QuantizeDynamicInt8(model))
        {
            Assert.IsEmpty(small.Quantized, "960 values: under MinimumEmbeddingElements");
            StringAssert.Contains(small.Skipped.Single().Reason, "fewer than MinimumEmbeddingElements (65536)");
        }

        using QuantizationResult result = OnnxQuantizer.QuantizeDynamicInt8(model, new Int8DynamicOptions { MinimumEmbeddingElements = 0 });
        CollectionAssert.AreEqual(new[] { "Gather", "Cast", "Gather", "Mul" }, result.Model.Graph.Node.Select(n => n.OpType).ToArray());
        Assert.IsTrue(result.Model.Graph.Node.All(n => n.Domain.Length == 0));
        Assert.IsFalse(result.Model.Proto.OpsetImport.Any(o => o.Domain == "com.microsoft"), "no contrib operator, no contrib opset");
        CollectionAssert.AreEqual(new long[] { V, 1 }, result.Model.Graph.Initializer.Single(t => t.DataType == (int)DataType.Float).Dims.ToArray());
        long[] ids = [3, 7, -1, 0, 39, 7];
        float[] rows = RunWithIds(result.Model, ids, null, null, H)[0];
        float[] expected = DequantizedRows(e, V, H);
        CollectionAssert.AreEqual(ids.SelectMany(i => expected.AsSpan((int)((i + V) % V) * H, H).ToArray()).ToArray(), rows);

        // A table also read as float32 elsewhere is left alone.
        using OnnxModel copied = Lookup(e, alsoCopied: true);
        using QuantizationResult kept = OnnxQuantizer.QuantizeDynamicInt8(copied, new Int8DynamicOptions { MinimumEmbeddingElements = 0 });
        Assert.IsEmpty(kept.Quantized);
        StringAssert.Contains(kept.Skipped.Single().Reason, "also read as float32 by 'copy_table'");
    }

    /// <summary>
    /// The real trained tiny GPT-2 (models/tiny-gpt2: tied embeddings, 50257 vocabulary): weight bytes, and the logits
    /// and greedy continuations of its reference against float32.
    /// </summary>
    [TestMethod]
    public void RealTinyGpt2StaysCloseToFloat32()
    {
        string directory = Path.Combine(AppContext.BaseDirectory, "models", "tiny-gpt2");

        using OnnxModel model = OnnxModel.Load(Path.Combine(directory, "onnx", "model.onnx"));
        using QuantizationResult result = OnnxQuantizer.QuantizeDynamicInt8(model);
        long before = OnnxModelSummary.Create(model).ParameterBytes, after = OnnxModelSummary.Create(result.Model).ParameterBytes;
        Assert.IsLessThanOrEqualTo(0.30, (double)after / before);
        Assert.IsTrue(result.Quantized.Any(q => q.OpType == "Gather" && q.Replacement.Contains("shared", StringComparison.Ordinal)));

        using var probes = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "reference", "logits_probe.json")));
        long[][] prompts = probes.RootElement.GetProperty("probes").EnumerateArray()
            .Select(p => p.GetProperty("input_ids").EnumerateArray().Select(i => i.GetInt64()).ToArray()).ToArray();
        long[][] sequences = File.ReadLines(Path.Combine(directory, "reference", "greedy.jsonl")).Select(line =>
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.GetProperty("prompt_ids").EnumerateArray().Concat(doc.RootElement.GetProperty("new_ids").EnumerateArray()).Select(i => i.GetInt64()).ToArray();
        }).ToArray();

        var shape = new DecoderShape(4, 4, 32, 50257);
        using var original = new InferenceSession(model.Path!, TestSupport.SessionOptions());
        using var quantized = new InferenceSession(result.Model.ToBytes(), TestSupport.SessionOptions());
        double worst = 1;
        int agree = 0;
        foreach (long[] prompt in prompts)
        {
            float[] a = LastLogits(original, shape, prompt), b = LastLogits(quantized, shape, prompt);
            worst = Math.Min(worst, Cosine(a, b));
            agree += ArgMax(a) == ArgMax(b) ? 1 : 0;
        }

        double nllBefore = Nll(original, shape, sequences), nllAfter = Nll(quantized, shape, sequences);
        Console.WriteLine($"tiny-gpt2 int8: {after:N0} of {before:N0} parameter bytes ({100.0 * after / before:F1}%), worst last-position cosine {worst:F6}, "
            + $"arg-max agrees on {agree}/{prompts.Length} probes, perplexity on the greedy references {Math.Exp(nllAfter):F3} vs {Math.Exp(nllBefore):F3} ({(Math.Exp(nllAfter - nllBefore) - 1) * 100:+0.00;-0.00}%)");
        Assert.IsGreaterThan(0.99, worst);
        Assert.IsGreaterThanOrEqualTo(prompts.Length - 1, agree);
        Assert.IsLessThan(1.05, Math.Exp(nllAfter - nllBefore));
    }

    /// <summary>The smallest cosine between the two sessions' logits over every position of random prompts and of a cached step.</summary>
    private static double CompareLogits(InferenceSession original, InferenceSession quantized, int prompts, int seed)
    {
        var random = new Random(seed);
        double worst = 1;
        for (int p = 0; p < prompts; p++)
        {
            long[] prompt = Enumerable.Range(0, 10).Select(_ => (long)random.Next(Tied.Vocab)).ToArray();
            long next = random.Next(Tied.Vocab);
            float[][] a = PromptAndStep(original, prompt, next), b = PromptAndStep(quantized, prompt, next);
            for (int step = 0; step < 2; step++)
            {
                for (int offset = 0; offset < a[step].Length; offset += Tied.Vocab)
                {
                    worst = Math.Min(worst, Cosine(a[step].AsSpan(offset, Tied.Vocab), b[step].AsSpan(offset, Tied.Vocab)));
                }
            }
        }

        return worst;
    }

    /// <summary>The prompt's logits (every position), then the logits of one more token fed with the prompt's cache.</summary>
    private static float[][] PromptAndStep(InferenceSession session, long[] prompt, long next)
    {
        Dictionary<string, OrtValue>? past = null;
        try
        {
            float[] first;
            using (SessionOutputs outputs = DecoderChecks.Run(session, Shape, [prompt], [Enumerable.Repeat(1L, prompt.Length).ToArray()], null))
            {
                first = outputs["logits"].ToArray<float>();
                past = DecoderChecks.TakePresents(outputs, Shape);
            }

            using SessionOutputs step = DecoderChecks.Run(session, Shape, [[next]], [Enumerable.Repeat(1L, prompt.Length + 1).ToArray()], past);
            return [first, step["logits"].ToArray<float>()];
        }
        finally
        {
            foreach (OrtValue value in past?.Values ?? Enumerable.Empty<OrtValue>())
            {
                value.Dispose();
            }
        }
    }

    private static float[] LastLogits(InferenceSession session, DecoderShape shape, long[] ids)
    {
        using SessionOutputs outputs = DecoderChecks.Run(session, shape, [ids], [Enumerable.Repeat(1L, ids.Length).ToArray()], null);
        return outputs["logits"].GetTensorReadOnlySpan<float>()[^shape.Vocab..].ToArray();
    }

    /// <summary>Mean negative log-likelihood of each sequence's tokens after the first.</summary>
    private static double Nll(InferenceSession session, DecoderShape shape, long[][] sequences)
    {
        double total = 0;
        long count = 0;
        foreach (long[] sequence in sequences)
        {
            using SessionOutputs outputs = DecoderChecks.Run(session, shape, [sequence[..^1]], [Enumerable.Repeat(1L, sequence.Length - 1).ToArray()], null);
            ReadOnlySpan<float> logits = outputs["logits"].GetTensorReadOnlySpan<float>();
            for (int t = 0; t < sequence.Length - 1; t++)
            {
                ReadOnlySpan<float> row = logits.Slice(t * shape.Vocab, shape.Vocab);
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

    /// <summary>Runs a hand-built graph with int64 "ids" [2, 3], optionally a scalar "id" and float "x" [2, width].</summary>
    private static float[][] RunWithIds(OnnxModel model, long[] ids, long? id, float[]? x, int width)
    {
        using var session = new InferenceSession(model.ToBytes(), TestSupport.SessionOptions());
        var feeds = new Dictionary<string, OrtValue> { ["ids"] = OrtValue.CreateTensor(ids, [2, 3]) };
        if (id is { } scalar)
        {
            feeds["id"] = OrtValue.CreateTensor(new[] { scalar }, []);
        }

        if (x is not null)
        {
            feeds["x"] = OrtValue.CreateTensor(x, [2, width]);
        }

        try
        {
            using SessionOutputs outputs = session.Run(feeds);
            return outputs.Select(o => o.ToArray<float>()).ToArray();
        }
        finally
        {
            foreach (OrtValue value in feeds.Values)
            {
                value.Dispose();
            }
        }
    }

    /// <summary>The table as the int8 lookups must return it, computed here: per row s = max|w| / 127, q = round(w / s), q · s.</summary>
    private static float[] DequantizedRows(float[] table, int rows, int cols)
    {
        var result = new float[table.Length];
        for (int r = 0; r < rows; r++)
        {
            float max = 0;
            for (int c = 0; c < cols; c++)
            {
                max = Math.Max(max, Math.Abs(table[(r * cols) + c]));
            }

            float scale = max / 127;
            for (int c = 0; c < cols; c++)
            {
                float q = Math.Clamp(MathF.Round(table[(r * cols) + c] / scale, MidpointRounding.ToEven), -127, 127);
                result[(r * cols) + c] = q * scale;
            }
        }

        return result;
    }

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }
}
