using MLNetTransformers.Onnx.Model;
using MLNetTransformers.Onnx.Protos;
using MLNetTransformers.Onnx.Quantization;
using MLNetTransformers.OnnxRuntime;
using static MLNetTransformers.Onnx.Tests.Quantization.QuantizationTestSupport;

namespace MLNetTransformers.Onnx.Tests.Quantization;

/// <summary>Each mode on small hand-built graphs, run in ONNX Runtime against references computed here.</summary>
[TestClass]
public sealed class GraphQuantizationTests
{
    private const int M = 4, K = 48, N = 10;

    /// <summary>Y = X · W, X [M, K] an input, W [K, N] a weight.</summary>
    private static OnnxModel MatMulModel(float[] w, long opset = 14) =>
        new GraphBuilder(opset).Input("X", null, K).Output("Y", null, N).Weight("W", w, K, N)
            .Node("MatMul", "proj/MatMul", ["X", "W"], ["Y"]).Build();

    private static float[] X => Values(M * K, 11, 2f);

    private static float[] W
    {
        get
        {
            float[] w = Values(K * N, 12, 0.3f);
            w[(5 * N) + 2] = 1.5f; // column 2 has a larger range: per-channel scales differ from per-tensor
            return w;
        }
    }

    /// <summary>
    /// The error bound of y = Σ_k x_k w_k when x is quantized with step s_x (error ≤ s_x / 2 each) and w with step s_w:
    /// |Σ (x + e_x)(w + e_w) - x w| ≤ Σ_k (|x_k| s_w / 2 + |w_k| s_x / 2 + s_x s_w / 4).
    /// </summary>
    private static float Bound(float[] x, float[] w, int row, int col, float sx, float sw)
    {
        double bound = 0;
        for (int k = 0; k < K; k++)
        {
            bound += (Math.Abs(x[(row * K) + k]) * sw / 2) + (Math.Abs(w[(k * N) + col]) * sx / 2) + (sx * sw / 4);
        }

        return (float)(bound * 1.001) + 1e-5f;
    }

    [TestMethod]
    public void Int8DynamicPerTensorMatchesTheReferenceWithinTheQuantizationBound()
    {
        float[] x = X, w = W;
        using OnnxModel model = MatMulModel(w);
        using QuantizationResult result = OnnxQuantizer.QuantizeDynamicInt8(model);

        NodeProto node = result.Model.Graph.Node.Single();
        Assert.AreEqual("DynamicQuantizeMatMul", node.OpType);
        Assert.AreEqual("com.microsoft", node.Domain);
        Assert.AreEqual("proj/MatMul", node.Name);
        TensorProto q = Initializer(result.Model, node.Input[1]), scale = Initializer(result.Model, node.Input[2]);
        Assert.AreEqual((int)TensorProto.Types.DataType.Int8, q.DataType);
        Assert.AreEqual(0, scale.Dims.Count, "per tensor: a scalar scale");
        float sw = Floats(scale)[0];
        Assert.AreEqual(1.5f / 127, sw);
        Assert.IsFalse(result.Model.Graph.Initializer.Any(t => t.Name == "W"), "the float weight is gone");

        float[] expected = MatMul(x, w, M, K, N);
        float[] actual = Run(result.Model, ("X", x, [M, K]))[0];
        // ONNX Runtime quantizes X to uint8 over [min(x, 0), max(x, 0)].
        float sx = (Math.Max(x.Max(), 0) - Math.Min(x.Min(), 0)) / 255;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.IsLessThanOrEqualTo(Bound(x, w, i / N, i % N, sx, sw), Math.Abs(actual[i] - expected[i]), $"y[{i}]");
        }
    }

    [TestMethod]
    public void Int8DynamicPerChannelHasOneScalePerOutputColumn()
    {
        float[] x = X, w = W;
        using OnnxModel model = MatMulModel(w);
        using QuantizationResult result = OnnxQuantizer.QuantizeDynamicInt8(model, new Int8DynamicOptions { PerChannel = true });
        NodeProto node = result.Model.Graph.Node.Single();
        float[] scales = Floats(Initializer(result.Model, node.Input[2]));
        Assert.HasCount(N, scales);
        for (int col = 0; col < N; col++)
        {
            float max = Enumerable.Range(0, K).Max(k => Math.Abs(w[(k * N) + col]));
            Assert.AreEqual(max / 127, scales[col], $"column {col}");
        }

        Assert.AreEqual(1.5f / 127, scales[2]);
        Assert.IsLessThan(0.3f / 127 * 1.0001f, scales[3]);

        float[] expected = MatMul(x, w, M, K, N);
        float[] actual = Run(result.Model, ("X", x, [M, K]))[0];
        float sx = (Math.Max(x.Max(), 0) - Math.Min(x.Min(), 0)) / 255;
        double errorPerChannel = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.IsLessThanOrEqualTo(Bound(x, w, i / N, i % N, sx, scales[i % N]), Math.Abs(actual[i] - expected[i]), $"y[{i}]");
            errorPerChannel += Math.Abs(actual[i] - expected[i]);
        }

        using QuantizationResult perTensor = OnnxQuantizer.QuantizeDynamicInt8(model);
        float[] tensorActual = Run(perTensor.Model, ("X", x, [M, K]))[0];
        double errorPerTensor = expected.Select((e, i) => (double)Math.Abs(tensorActual[i] - e)).Sum();
        Assert.IsLessThan(errorPerTensor, errorPerChannel, "finer scales, smaller error");
    }

    [TestMethod]
    public void GemmWithTransBAlphaBetaAndBiasBecomesOneDynamicQuantizeMatMul()
    {
        float[] x = X, w = W;
        float[] wt = Enumerable.Range(0, N * K).Select(i => w[((i % K) * N) + (i / K)]).ToArray(); // [N, K]
        float[] c = Values(N, 13, 1f);
        using OnnxModel model = new GraphBuilder().Input("X", M, K).Output("Y", M, N).Weight("B", wt, N, K).Weight("C", c, N)
            .Node("Gemm", "gemm", ["X", "B", "C"], ["Y"], Int("transB", 1), Float("alpha", 0.5f), Float("beta", 2f)).Build();
        using QuantizationResult result = OnnxQuantizer.QuantizeDynamicInt8(model, new Int8DynamicOptions { PerChannel = true });
        NodeProto node = result.Model.Graph.Node.Single();
        Assert.AreEqual("DynamicQuantizeMatMul", node.OpType);
        Assert.HasCount(5, node.Input);
        CollectionAssert.AreEqual(new long[] { K, N }, Initializer(result.Model, node.Input[1]).Dims.ToArray(), "transB folded into the weight");

        float[] xw = MatMul(x, w, M, K, N);
        float[] expected = xw.Select((v, i) => (0.5f * v) + (2f * c[i % N])).ToArray();
        float[] actual = Run(result.Model, ("X", x, [M, K]))[0];
        float[] scales = Floats(Initializer(result.Model, node.Input[2]));
        float sx = (Math.Max(x.Max(), 0) - Math.Min(x.Min(), 0)) / 255;
        float[] halfW = w.Select(v => 0.5f * v).ToArray();
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.IsLessThanOrEqualTo(Bound(x, halfW, i / N, i % N, sx, scales[i % N]), Math.Abs(actual[i] - expected[i]), $"y[{i}]");
        }
    }

    [TestMethod]
    public void IncludeExcludeAndOutputProjectionSelectNodes()
    {
        // X → MatMul(W1) → H → MatMul(W2) → Y (a graph output, like lm_head → logits).
        static OnnxModel TwoLayers() => new GraphBuilder().Input("X", null, K).Output("Y", null, N)
            .Weight("W1", Values(K * K, 1, 0.2f), K, K).Weight("W2", Values(K * N, 2, 0.2f), K, N)
            .Node("MatMul", "/model/layers.0/mlp/MatMul", ["X", "W1"], ["H"])
            .Node("MatMul", "/model/lm_head/MatMul", ["H", "W2"], ["Y"]).Build();

        using OnnxModel model = TwoLayers();
        var exclude = new Int8DynamicOptions();
        exclude.ExcludeNodes.Add("lm_head");
        using (QuantizationResult result = OnnxQuantizer.QuantizeDynamicInt8(model, exclude))
        {
            CollectionAssert.AreEqual(new[] { "DynamicQuantizeMatMul", "MatMul" }, result.Model.Graph.Node.Select(n => n.OpType).ToArray());
            Assert.AreEqual("excluded by name", result.Skipped.Single().Reason);
        }

        using (QuantizationResult result = OnnxQuantizer.QuantizeInt4(model, new Int4Options { KeepOutputProjection = true, BlockSize = 16 }))
        {
            CollectionAssert.AreEqual(new[] { "MatMulNBits", "MatMul" }, result.Model.Graph.Node.Select(n => n.OpType).ToArray());
        }

        var glob = new Int8DynamicOptions();
        glob.IncludeNodes.Add("/model/layers.*");
        using (QuantizationResult result = OnnxQuantizer.QuantizeDynamicInt8(model, glob))
        {
            Assert.AreEqual("/model/layers.0/mlp/MatMul", result.Quantized.Single().NodeName);
        }

        // Naming a node the mode cannot handle is an error that names it.
        using OnnxModel activations = new GraphBuilder().Input("A", 2, 3).Input("B", 3, 2).Output("Y", 2, 2)
            .Node("MatMul", "scores", ["A", "B"], ["Y"]).Build();
        var named = new Int8DynamicOptions();
        named.IncludeNodes.Add("scores");
        var error = Assert.ThrowsExactly<UnsupportedModelException>(() => OnnxQuantizer.QuantizeDynamicInt8(activations, named));
        Assert.AreEqual("scores", error.NodeName);
        StringAssert.Contains(error.Message, "'scores'");
        StringAssert.Contains(error.Message, "not a constant initializer");
        using QuantizationResult skipped = OnnxQuantizer.QuantizeDynamicInt8(activations);
        Assert.IsEmpty(skipped.Quantized, "without an include list such nodes are skipped, not errors");
    }

    [TestMethod]
    public void Int4MatMulNBitsComputesXTimesOurDequantizedWeight()
    {
        // ONNX Runtime's MatMulNBits reads our packing: its output equals X · dequantize(packed) computed here, which validates
        // the layout (nibble order, block order, scales and zero points) and not only the error bound.
        float[] x = X, w = W;
        using OnnxModel model = MatMulModel(w);
        foreach ((int blockSize, bool symmetric) in new[] { (32, true), (32, false), (16, true), (64, false), (128, true) })
        {
            using QuantizationResult result = OnnxQuantizer.QuantizeInt4(model, new Int4Options { BlockSize = blockSize, Symmetric = symmetric });
            NodeProto node = result.Model.Graph.Node.Single();
            Assert.AreEqual("MatMulNBits", node.OpType);
            Assert.AreEqual(K, node.Attribute.Single(a => a.Name == "K").I);
            Assert.AreEqual(N, node.Attribute.Single(a => a.Name == "N").I);
            Assert.AreEqual(4, node.Attribute.Single(a => a.Name == "bits").I);
            Assert.AreEqual(blockSize, node.Attribute.Single(a => a.Name == "block_size").I);
            int blocks = (K + blockSize - 1) / blockSize;
            TensorProto b = Initializer(result.Model, node.Input[1]);
            CollectionAssert.AreEqual(new long[] { N, blocks, blockSize / 2 }, b.Dims.ToArray());
            CollectionAssert.AreEqual(new long[] { N, blocks }, Initializer(result.Model, node.Input[2]).Dims.ToArray());
            Assert.AreEqual(symmetric ? 3 : 4, node.Input.Count);

            var packed = new Int4Weight(OnnxTensors.RawBytes(b), Floats(Initializer(result.Model, node.Input[2])),
                symmetric ? null : OnnxTensors.RawBytes(Initializer(result.Model, node.Input[3])), K, N, blockSize);
            float[] dequantized = WeightQuantization.DequantizeInt4(packed);
            float[] expected = MatMul(x, dequantized, M, K, N);
            float[] actual = Run(result.Model, ("X", x, [M, K]))[0];
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.AreEqual(expected[i], actual[i], 1e-4f * (1 + Math.Abs(expected[i])), $"block {blockSize} symmetric {symmetric} y[{i}]");
            }

            // And that is close to the float result.
            Assert.IsGreaterThan(0.99, Cosine(MatMul(x, w, M, K, N), actual));
        }
    }

    [TestMethod]
    public void Float16KeepsFloat32InputsAndOutputsAndBlockedOpsAndStaysClose()
    {
        // X → MatMul(W) → Add(b) → A; A → Pow(2) → ReduceMean → Y1; A → Softmax → MatMul(W3) → Y2.
        float[] x = X, w = W, b = Values(N, 5, 0.1f), w3 = Values(N * N, 6, 0.5f);
        using OnnxModel model = new GraphBuilder().Input("X", null, K).Output("Y1", null, 1).Output("Y2", null, N)
            .Weight("W", w, K, N).Weight("b", b, N).Weight("two", [2f]).Weight("W3", w3, N, N)
            .Node("MatMul", "mm", ["X", "W"], ["H"])
            .Node("Add", "add", ["H", "b"], ["A"])
            .Node("Pow", "pow", ["A", "two"], ["P"])
            .Node("ReduceMean", "mean", ["P"], ["Y1"], new AttributeProto { Name = "axes", Type = AttributeProto.Types.AttributeType.Ints, Ints = { -1 } })
            .Node("Softmax", "softmax", ["A"], ["S"], Int("axis", -1))
            .Node("MatMul", "mm3", ["S", "W3"], ["Y2"]).Build();
        using QuantizationResult result = OnnxQuantizer.ConvertToFloat16(model);
        GraphProto g = result.Model.Graph;

        Assert.AreEqual((int)TensorProto.Types.DataType.Float, g.Input.Single().Type.TensorType.ElemType);
        Assert.IsTrue(g.Output.All(o => o.Type.TensorType.ElemType == (int)TensorProto.Types.DataType.Float));
        Assert.AreEqual((int)TensorProto.Types.DataType.Float16, Initializer(result.Model, "W").DataType);
        Assert.AreEqual((int)TensorProto.Types.DataType.Float16, Initializer(result.Model, "W3").DataType);
        Assert.AreEqual((int)TensorProto.Types.DataType.Float, Initializer(result.Model, "two").DataType, "only read by the blocked Pow");
        CollectionAssert.AreEquivalent(new[] { "pow", "mean" }, result.Skipped.Select(s => s.NodeName).ToArray(), string.Join("; ", result.Skipped));
        // Casts: X to float16 on entry, A to float32 for the blocked Pow, and mm3's float16 result to float32 under the name Y2.
        Assert.AreEqual(3, g.Node.Count(n => n.OpType == "Cast"), string.Join("; ", g.Node.Where(n => n.OpType == "Cast")));
        NodeProto outputCast = g.Node.Single(n => n.OpType == "Cast" && n.Output[0] == "Y2");
        Assert.AreEqual(g.Node.Single(n => n.Name == "mm3").Output[0], outputCast.Input[0]);

        float[][] expected = Run(model, ("X", x, [M, K]));
        float[][] actual = Run(result.Model, ("X", x, [M, K]));
        for (int o = 0; o < 2; o++)
        {
            for (int i = 0; i < expected[o].Length; i++)
            {
                Assert.AreEqual(expected[o][i], actual[o][i], 2e-3f * (1 + Math.Abs(expected[o][i])), $"output {o} [{i}]");
            }
        }

        // A light node whose results only feed nodes kept float32 (Softmax once mm3 is excluded; then Add, read by Pow and
        // Softmax) stays float32 as well, so the Cast moves before it instead of after.
        var noTail = new Float16Options();
        noTail.ExcludeNodes.Add("mm3");
        using (QuantizationResult tail = OnnxQuantizer.ConvertToFloat16(model, noTail))
        {
            CollectionAssert.AreEquivalent(new[] { "add", "pow", "mean", "softmax", "mm3" }, tail.Skipped.Select(s => s.NodeName).ToArray(), string.Join("; ", tail.Skipped));
            Run(tail.Model, ("X", x, [M, K]));
        }

        // Excluding the MatMul by name keeps it float32 (and its weight).
        var options = new Float16Options();
        options.ExcludeNodes.Add("mm");
        using QuantizationResult excluded = OnnxQuantizer.ConvertToFloat16(model, options);
        Assert.AreEqual((int)TensorProto.Types.DataType.Float, Initializer(excluded.Model, "W").DataType);
        Run(excluded.Model, ("X", x, [M, K]));
    }

    [TestMethod]
    public void Float16ConvertsCastsConstantsAndDefaultConstantOfShape()
    {
        // Y = (X + ConstantOfShape(Shape(X))) * Cast<float>(Constant<int64> 3) + Constant<float> 0.5, with a float mask value
        // beyond float16's range that must stay finite.
        var three = new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = OnnxTensors.Create(string.Empty, [3L]) };
        var half = new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = OnnxTensors.Create(string.Empty, [0.5f]) };
        var huge = new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = OnnxTensors.Create(string.Empty, [-3.0e38f]) };
        using OnnxModel model = new GraphBuilder().Input("X", 2, 3).Output("Y", 2, 3).Output("Z", 2, 3)
            .Node("Shape", "shape", ["X"], ["S"])
            .Node("ConstantOfShape", "zeros", ["S"], ["C0"])
            .Node("Add", "add", ["X", "C0"], ["A"])
            .Node("Constant", "three", [], ["I3"], three)
            .Node("Cast", "cast", ["I3"], ["F3"], Int("to", (int)TensorProto.Types.DataType.Float))
            .Node("Mul", "mul", ["A", "F3"], ["M"])
            .Node("Constant", "half", [], ["H"], half)
            .Node("Add", "add2", ["M", "H"], ["Y"])
            .Node("Constant", "huge", [], ["B"], huge)
            .Node("Max", "max", ["X", "B"], ["Z"]).Build();
        using QuantizationResult result = OnnxQuantizer.ConvertToFloat16(model);
        GraphProto g = result.Model.Graph;
        Assert.AreEqual((int)TensorProto.Types.DataType.Float16, g.Node.Single(n => n.Name == "cast").Attribute.Single().I);
        Assert.AreEqual((int)TensorProto.Types.DataType.Float16, g.Node.Single(n => n.Name == "zeros").Attribute.Single(a => a.Name == "value").T.DataType);
        Assert.AreEqual((int)TensorProto.Types.DataType.Float16, g.Node.Single(n => n.Name == "half").Attribute.Single().T.DataType);
        Assert.IsEmpty(result.Skipped);

        float[] x = [1, -2, 3.5f, 0.25f, 100, -7];
        float[][] y = Run(result.Model, ("X", x, [2, 3]));
        CollectionAssert.AreEqual(x.Select(v => (v * 3) + 0.5f).ToArray(), y[0]);
        CollectionAssert.AreEqual(x, y[1], "max(x, -65504) = x: the clamped constant stays finite");
    }

    [TestMethod]
    public void StaticCalibrationRangesAreTheMinAndMaxOfTheActivations()
    {
        // X → MatMul(W1) → H → Relu → R → MatMul(W2) → Y: the activations to calibrate are X and R.
        float[] w1 = Values(K * K, 21, 0.3f), w2 = Values(K * N, 22, 0.3f);
        using OnnxModel model = new GraphBuilder().Input("X", null, K).Output("Y", null, N).Weight("W1", w1, K, K).Weight("W2", w2, K, N)
            .Node("MatMul", "fc1", ["X", "W1"], ["H"]).Node("Relu", "relu", ["H"], ["R"]).Node("MatMul", "fc2", ["R", "W2"], ["Y"]).Build();
        float[][] batches = [Values(3 * K, 31, 1f), Values(5 * K, 32, 2.5f), Values(2 * K, 33, 0.5f)];

        CalibrationTable table = OnnxQuantizer.Calibrate(model, Feeds(batches));
        Assert.AreEqual(3, table.Batches);
        CollectionAssert.AreEquivalent(new[] { "X", "R" }, table.Ranges.Keys.ToArray());
        float[] all = batches.SelectMany(b => b).ToArray();
        Assert.AreEqual(all.Min(), table.Ranges["X"].Min);
        Assert.AreEqual(all.Max(), table.Ranges["X"].Max);
        float[] relu = batches.SelectMany(b => MatMul(b, w1, b.Length / K, K, K)).Select(v => Math.Max(v, 0)).ToArray();
        Assert.AreEqual(relu.Min(), table.Ranges["R"].Min);
        Assert.AreEqual(relu.Max(), table.Ranges["R"].Max, 1e-5f * relu.Max());
        Assert.AreEqual(relu.Length, table.Ranges["R"].Count);

        using QuantizationResult result = OnnxQuantizer.QuantizeStatic(model, table, new Int8StaticOptions { PerChannel = true });
        GraphProto g = result.Model.Graph;
        Assert.AreEqual(2, g.Node.Count(n => n.OpType == "QuantizeLinear"));
        Assert.AreEqual(4, g.Node.Count(n => n.OpType == "DequantizeLinear"));
        NodeProto quantizeX = g.Node.Single(n => n.OpType == "QuantizeLinear" && n.Input[0] == "X");
        float scale = Floats(Initializer(result.Model, quantizeX.Input[1]))[0];
        byte zeroPoint = OnnxTensors.RawBytes(Initializer(result.Model, quantizeX.Input[2]))[0];
        Assert.AreEqual((all.Max() - all.Min()) / 255, scale, 1e-7f);
        Assert.AreEqual((byte)Math.Round(-all.Min() / scale), zeroPoint);
        NodeProto weightDq = g.Node.Single(n => n.OpType == "DequantizeLinear" && n.Input[0].StartsWith("W2", StringComparison.Ordinal));
        Assert.AreEqual(1, weightDq.Attribute.Single(a => a.Name == "axis").I, "per output column");
        Assert.AreEqual((int)TensorProto.Types.DataType.Int8, Initializer(result.Model, weightDq.Input[0]).DataType);

        float[] x = batches[1];
        float[] expected = Run(model, ("X", x, [5, K]))[0];
        float[] actual = Run(result.Model, ("X", x, [5, K]))[0];
        Assert.IsGreaterThan(0.999, Cosine(expected, actual));
    }

    [TestMethod]
    public void PercentileCalibrationIgnoresRareOutliers()
    {
        using OnnxModel model = MatMulModel(W);
        float[] data = Values(100 * K, 41, 1f);
        data[17] = 100f;
        data[4000] = -50f;
        var options = new CalibrationOptions { Method = CalibrationMethod.Percentile, Percentile = 99.9 };
        CalibrationTable table = OnnxQuantizer.Calibrate(model, Feeds([data[..(50 * K)], data[(50 * K)..]]), calibration: options);
        ActivationRange range = table.Ranges["X"];
        Assert.AreEqual(100f, range.ObservedMax);
        Assert.AreEqual(-50f, range.ObservedMin);
        Assert.IsLessThan(1.1f, range.Max, "the outlier is beyond the 99.9th percentile");
        Assert.IsGreaterThan(0.9f, range.Max);
        Assert.IsGreaterThan(-1.1f, range.Min);
        Assert.IsLessThan(-0.9f, range.Min);
    }

    [TestMethod]
    public void BadInputGivesTypedErrors()
    {
        using OnnxModel model = MatMulModel(W);
        var empty = Assert.ThrowsExactly<CalibrationException>(() => OnnxQuantizer.QuantizeStatic(model, Feeds([])));
        StringAssert.Contains(empty.Message, "empty");

        using OnnxModel opset9 = MatMulModel(W, opset: 9);
        var old = Assert.ThrowsExactly<UnsupportedModelException>(() => OnnxQuantizer.QuantizeStatic(opset9, Feeds([X])));
        Assert.AreEqual("proj/MatMul", old.NodeName);
        StringAssert.Contains(old.Message, "opset 9");
        using OnnxModel opset12 = MatMulModel(W, opset: 12);
        Assert.ThrowsExactly<UnsupportedModelException>(() => OnnxQuantizer.QuantizeStatic(opset12, Feeds([X]), new Int8StaticOptions { PerChannel = true }));

        var wrongFeed = Assert.ThrowsExactly<CalibrationException>(() => OnnxQuantizer.Calibrate(model, Feeds([Values(7, 1)], "X", 7)));
        StringAssert.Contains(wrongFeed.Message, "Calibration input 0");

        Assert.ThrowsExactly<ArgumentException>(() => OnnxQuantizer.QuantizeInt4(model, new Int4Options { BlockSize = 24 }));
        Assert.ThrowsExactly<ArgumentException>(() => OnnxQuantizer.Quantize(model, new Int8StaticOptions()));

        // A subgraph in float16 mode names the node.
        var builder = new GraphBuilder().Input("X", 2).Output("Y", 2);
        var branch = new GraphProto { Name = "branch" };
        branch.Output.Add(GraphBuilder.Value("X", TensorProto.Types.DataType.Float, [2]));
        builder.Graph.Initializer.Add(OnnxTensors.Create("cond", TensorProto.Types.DataType.Bool, [1], []));
        builder.Node("If", "choose", ["cond"], ["Y"],
            new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = branch },
            new AttributeProto { Name = "else_branch", Type = AttributeProto.Types.AttributeType.Graph, G = branch });
        using OnnxModel withIf = builder.Build();
        var subgraph = Assert.ThrowsExactly<UnsupportedModelException>(() => OnnxQuantizer.ConvertToFloat16(withIf));
        Assert.AreEqual("choose", subgraph.NodeName);

        // The source file is never the output.
        string directory = TestSupport.TempDirectory("quantize-overwrite");
        string path = Path.Combine(directory, "model.onnx");
        model.Save(path);
        using OnnxModel loaded = OnnxModel.Load(path);
        using QuantizationResult result = OnnxQuantizer.QuantizeDynamicInt8(loaded);
        result.Save(Path.Combine(directory, "quantized.onnx"));
        Assert.ThrowsExactly<ArgumentException>(() => loaded.Save(path));
        Directory.Delete(directory, recursive: true);
    }

    [TestMethod]
    public void TheSourceModelIsNotModified()
    {
        using OnnxModel model = MatMulModel(W);
        byte[] before = model.ToBytes();
        using (OnnxQuantizer.QuantizeDynamicInt8(model))
        using (OnnxQuantizer.QuantizeInt4(model))
        using (OnnxQuantizer.ConvertToFloat16(model))
        using (OnnxQuantizer.QuantizeStatic(model, Feeds([X])))
        {
        }

        CollectionAssert.AreEqual(before, model.ToBytes());
    }

    /// <summary>One feed per batch: X of shape [rows, K].</summary>
    private static IEnumerable<IReadOnlyDictionary<string, OrtValue>> Feeds(float[][] batches, string name = "X", int width = K)
    {
        foreach (float[] batch in batches)
        {
            using OrtValue value = OrtValue.CreateTensor(batch, [batch.Length / width, width]);
            yield return new Dictionary<string, OrtValue> { [name] = value };
        }
    }
}
