using MLNetTransformers.OnnxRuntime.Tests.TestModels;

namespace MLNetTransformers.OnnxRuntime.Tests;

[TestClass]
public sealed class SessionRunTests
{
    private static readonly float[] X = [1f, 2f, 3f, -1f, 0.5f, 0f];

    [TestMethod]
    public void MatMulAddSoftmaxMatchesValuesComputedInTheTest()
    {
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        using var x = OrtValue.CreateTensor(X, [2, 3]);
        using var outputs = session.Run(new Dictionary<string, OrtValue> { ["x"] = x });

        var (logits, probabilities) = Models.ReferenceMatMulAddSoftmax(X, 2);
        CollectionAssert.AreEqual(new[] { "y", "logits" }, outputs.Names.ToArray());
        AssertClose(probabilities, outputs["y"].GetTensorReadOnlySpan<float>(), 1e-6f);
        AssertClose(logits, outputs["logits"].GetTensorReadOnlySpan<float>(), 1e-5f);
        CollectionAssert.AreEqual(new long[] { 2, 4 }, outputs["y"].TensorInfo.Shape.ToArray());
        for (int r = 0; r < 2; r++)
        {
            Assert.AreEqual(1.0, outputs["y"].ToArray<float>().Skip(r * 4).Take(4).Sum(), 1e-6, "softmax rows sum to one");
        }
    }

    [TestMethod]
    public void SelectedOutputsComeBackInTheOrderAskedFor()
    {
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        using var x = OrtValue.CreateTensor(X, [2, 3]);
        using var outputs = session.Run(["x"], [x], ["logits"]);
        Assert.AreEqual(1, outputs.Count);
        AssertClose(Models.ReferenceMatMulAddSoftmax(X, 2).Logits, outputs[0].GetTensorReadOnlySpan<float>(), 1e-5f);
    }

    [TestMethod]
    public void ContribSkipLayerNormalizationMatchesTheFormula()
    {
        float[] gamma = [1f, 0.5f, 2f, -1f];
        float[] beta = [0f, 0.1f, -0.2f, 0.3f];
        const float epsilon = 1e-5f;
        float[] input = [1f, 2f, 3f, 4f, -1f, 0f, 1f, 10f];
        float[] skip = [0.5f, -0.5f, 0.25f, 0f, 1f, 1f, 1f, 1f];
        using var session = new InferenceSession(Models.SkipLayerNorm(gamma, beta, epsilon), TestEnvironment.Options());
        using var inputValue = OrtValue.CreateTensor(input, [1, 2, 4]);
        using var skipValue = OrtValue.CreateTensor(skip, [1, 2, 4]);
        using var outputs = session.Run(new Dictionary<string, OrtValue> { ["input"] = inputValue, ["skip"] = skipValue }, ["output"]);

        var expected = new float[8];
        for (int row = 0; row < 2; row++)
        {
            double[] sum = Enumerable.Range(0, 4).Select(i => (double)input[(row * 4) + i] + skip[(row * 4) + i]).ToArray();
            double mean = sum.Average();
            double variance = sum.Select(v => (v - mean) * (v - mean)).Average();
            for (int i = 0; i < 4; i++)
            {
                expected[(row * 4) + i] = (float)(((sum[i] - mean) / Math.Sqrt(variance + epsilon) * gamma[i]) + beta[i]);
            }
        }

        AssertClose(expected, outputs[0].GetTensorReadOnlySpan<float>(), 1e-4f);
    }

    [TestMethod]
    public void OutputsCanBeWrittenIntoTheCallersArray()
    {
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        float[] probabilities = new float[8];
        float[] logits = new float[8];
        using var x = OrtValue.CreateTensor(X, [2, 3]);
        using var y = OrtValue.CreateTensor(probabilities, [2, 4]);
        using var l = OrtValue.CreateTensor(logits, [2, 4]);
        session.Run(["x"], [x], ["y", "logits"], [y, l]);
        var reference = Models.ReferenceMatMulAddSoftmax(X, 2);
        AssertClose(reference.Probabilities, probabilities, 1e-6f);
        AssertClose(reference.Logits, logits, 1e-5f);
    }

    [TestMethod]
    public void InputTensorAliasesTheArrayWithoutCopying()
    {
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        float[] data = (float[])X.Clone();
        using var x = OrtValue.CreateTensor(data, [2, 3]);
        data[0] = 7f; // changed after the value was created: the run must see it
        using var outputs = session.Run(["x"], [x], ["logits"]);
        AssertClose(Models.ReferenceMatMulAddSoftmax(data, 2).Logits, outputs[0].GetTensorReadOnlySpan<float>(), 1e-5f);

        x.GetTensorSpan<float>()[1] = -3f;
        Assert.AreEqual(-3f, data[1], "the span is the caller's memory");
    }

    [TestMethod]
    public async Task RunAsyncGivesTheSameResult()
    {
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        using var x = OrtValue.CreateTensor(X, [2, 3]);
        using var outputs = await session.RunAsync(new Dictionary<string, OrtValue> { ["x"] = x });
        AssertClose(Models.ReferenceMatMulAddSoftmax(X, 2).Probabilities, outputs["y"].GetTensorReadOnlySpan<float>(), 1e-6f);
    }

    [TestMethod]
    public void TakenOutputOutlivesTheCollection()
    {
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        using var x = OrtValue.CreateTensor(X, [2, 3]);
        OrtValue logits;
        using (var outputs = session.Run(["x"], [x]))
        {
            logits = outputs.Take("logits");
            Assert.ThrowsExactly<InvalidOperationException>(() => _ = outputs["logits"]);
        }

        using (logits)
        {
            AssertClose(Models.ReferenceMatMulAddSoftmax(X, 2).Logits, logits.GetTensorReadOnlySpan<float>(), 1e-5f);
        }
    }

    [TestMethod]
    public void OneSessionRunFromEightThreadsGivesEachItsOwnResult()
    {
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        const int threads = 8;
        const int iterations = 200;
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            float[] x = Enumerable.Range(0, 3 * (t + 1)).Select(i => (float)Math.Sin((t * 31) + i)).ToArray();
            var expected = Models.ReferenceMatMulAddSoftmax(x, t + 1).Probabilities;
            using var input = OrtValue.CreateTensor(x, [t + 1, 3]);
            start.SignalAndWait();
            for (int i = 0; i < iterations; i++)
            {
                using var outputs = session.Run(["x"], [input], ["y"]);
                float[] actual = outputs[0].ToArray<float>();
                if (actual.Length != expected.Length || actual.Zip(expected).Any(p => Math.Abs(p.First - p.Second) > 1e-6f))
                {
                    failures.Add($"thread {t} iteration {i}");
                    return;
                }
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        Assert.IsEmpty(failures, string.Join(", ", failures));
    }

    internal static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance)
    {
        Assert.AreEqual(expected.Length, actual.Length, "length");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], actual[i], tolerance, $"element {i}");
        }
    }
}
