using MLNetTransformers.OnnxRuntime.Tests.TestModels;

namespace MLNetTransformers.OnnxRuntime.Tests;

[TestClass]
public sealed class ErrorTests
{
    [TestMethod]
    public void MissingModelFileNamesTheFile()
    {
        string path = Path.Combine(Path.GetTempPath(), "mlnt-no-such-model.onnx");
        var ex = Assert.ThrowsExactly<FileNotFoundException>(() => new InferenceSession(path));
        StringAssert.Contains(ex.Message, path);
        Assert.AreEqual(path, ex.FileName);
    }

    [TestMethod]
    public void CorruptFileIsAnInvalidProtobufError()
    {
        string path = Path.Combine(TestEnvironment.TempDirectory("corrupt"), "model.onnx");
        File.WriteAllBytes(path, [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x01, 0x02]);
        var ex = Assert.ThrowsExactly<OnnxRuntimeException>(() => new InferenceSession(path, TestEnvironment.Options()));
        Assert.AreEqual(OrtErrorCode.InvalidProtobuf, ex.ErrorCode);
        Assert.AreEqual("CreateSession", ex.Operation);
        StringAssert.Contains(ex.Message.ToLowerInvariant(), "protobuf parsing failed");
    }

    [TestMethod]
    public void ModelWithAnUnknownOperatorIsRejectedWithOnnxRuntimesText()
    {
        byte[] model = new ModelBuilder(new GraphBuilder("bad")
            .Input("x", TensorElementType.Float32, 2)
            .Output("y", TensorElementType.Float32, 2)
            .Node("NoSuchOperator", ["x"], ["y"])).Build();
        var ex = Assert.ThrowsExactly<OnnxRuntimeException>(() => new InferenceSession(model, TestEnvironment.Options()));
        Assert.AreEqual("CreateSessionFromArray", ex.Operation);
        StringAssert.Contains(ex.NativeMessage, "NoSuchOperator");
    }

    [TestMethod]
    public void WrongInputNameListsTheModelsInputs()
    {
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        using var value = OrtValue.CreateTensor(new float[3], [1, 3]);
        var ex = Assert.ThrowsExactly<ArgumentException>(() => session.Run(["input_ids"], [value]));
        StringAssert.Contains(ex.Message, "no input named 'input_ids'");
        StringAssert.Contains(ex.Message, "Its inputs are: x.");
    }

    [TestMethod]
    public void WrongOutputNameListsTheModelsOutputs()
    {
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        using var value = OrtValue.CreateTensor(new float[3], [1, 3]);
        var ex = Assert.ThrowsExactly<ArgumentException>(() => session.Run(["x"], [value], ["probabilities"]));
        StringAssert.Contains(ex.Message, "no output named 'probabilities'");
        StringAssert.Contains(ex.Message, "y, logits");
    }

    [TestMethod]
    public void WrongRankNamesTheInput()
    {
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        using var value = OrtValue.CreateTensor(new float[3], [3]);
        var ex = Assert.ThrowsExactly<OnnxRuntimeException>(() => session.Run(["x"], [value]));
        Assert.AreEqual(OrtErrorCode.InvalidArgument, ex.ErrorCode);
        Assert.AreEqual("Run", ex.Operation);
        StringAssert.Contains(ex.NativeMessage, "Invalid rank for input: x");
    }

    [TestMethod]
    public void WrongDimensionNamesTheInputAndTheIndex()
    {
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        using var value = OrtValue.CreateTensor(new float[10], [2, 5]);
        var ex = Assert.ThrowsExactly<OnnxRuntimeException>(() => session.Run(["x"], [value]));
        Assert.AreEqual(OrtErrorCode.InvalidArgument, ex.ErrorCode);
        StringAssert.Contains(ex.NativeMessage, "invalid dimensions for input: x");
        StringAssert.Contains(ex.NativeMessage, "Got: 5 Expected: 3");
    }

    [TestMethod]
    public void WrongElementTypeNamesTheInputAndBothTypes()
    {
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        using var value = OrtValue.CreateTensor(new long[3], [1, 3]);
        var ex = Assert.ThrowsExactly<ArgumentException>(() => session.Run(["x"], [value]));
        Assert.AreEqual("Input 'x' expects float32[batch, 3] but the value holds int64 elements. (Parameter 'inputValues')", ex.Message);
    }

    [TestMethod]
    public void MissingRequiredInputIsNamed()
    {
        using var session = new InferenceSession(Models.SkipLayerNorm([1, 1, 1, 1], [0, 0, 0, 0], 1e-5f), TestEnvironment.Options());
        using var value = OrtValue.CreateTensor(new float[4], [1, 1, 4]);
        var ex = Assert.ThrowsExactly<ArgumentException>(() => session.Run(["input"], [value]));
        StringAssert.Contains(ex.Message, "Missing model input(s): skip: float32[batch, seq, 4]");
    }

    [TestMethod]
    public void DuplicateInputIsRejected()
    {
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        using var value = OrtValue.CreateTensor(new float[3], [1, 3]);
        var ex = Assert.ThrowsExactly<ArgumentException>(() => session.Run(["x", "x"], [value, value]));
        StringAssert.Contains(ex.Message, "'x' is given twice");
    }

    [TestMethod]
    public void UsingADisposedValueOrSessionThrowsObjectDisposed()
    {
        var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        var value = OrtValue.CreateTensor(new float[3], [1, 3]);
        value.Dispose();
        Assert.ThrowsExactly<ObjectDisposedException>(() => session.Run(["x"], [value]));
        using var fresh = OrtValue.CreateTensor(new float[3], [1, 3]);
        session.Dispose();
        Assert.ThrowsExactly<ObjectDisposedException>(() => session.Run(["x"], [fresh]));
    }
}

[TestClass]
public sealed class ExecutionProviderTests
{
    [TestMethod]
    public void CudaUnderStrictOnThisCpuBuildThrowsATypedExceptionWithOnnxRuntimesText()
    {
        var options = TestEnvironment.Options();
        options.ExecutionProviders.Add(ExecutionProvider.Cuda(0));
        options.ProviderPolicy = ExecutionProviderPolicy.Strict;
        var ex = Assert.ThrowsExactly<ExecutionProviderException>(() => new InferenceSession(Models.MatMulAddSoftmax(), options));
        Assert.AreEqual("CUDA", ex.Provider.Name);
        StringAssert.Contains(ex.Operation, "CUDA");
        StringAssert.Contains(ex.NativeMessage, "CUDA");
        StringAssert.Contains(ex.NativeMessage, "could not be added");
    }

    [TestMethod]
    public void CudaUnderFallbackRunsOnCpuReportsItAndLogsAWarning()
    {
        var logs = new CapturingLoggerFactory();
        var options = TestEnvironment.Options();
        options.ExecutionProviders.Add(ExecutionProvider.Cuda(0));
        options.ExecutionProviders.Add(ExecutionProvider.Cpu);
        options.ProviderPolicy = ExecutionProviderPolicy.FallbackToCpu;
        options.Logger = logs.CreateLogger("test");
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), options);

        CollectionAssert.AreEqual(new[] { "CPU" }, session.EffectiveProviders.ToArray());
        Assert.AreEqual(1, session.ProviderFallbacks.Count);
        Assert.AreEqual("CUDA", session.ProviderFallbacks[0].Provider.Name);
        Assert.IsFalse(string.IsNullOrWhiteSpace(session.ProviderFallbacks[0].Reason));
        var warning = logs.Entries.Single(e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning);
        StringAssert.Contains(warning.Message, "CUDA");
        StringAssert.Contains(warning.Message, session.ProviderFallbacks[0].Reason);

        using var value = OrtValue.CreateTensor(new float[] { 1, 2, 3 }, [1, 3]);
        using var outputs = session.Run(["x"], [value]);
        SessionRunTests.AssertClose(Models.ReferenceMatMulAddSoftmax([1, 2, 3], 1).Probabilities, outputs["y"].GetTensorReadOnlySpan<float>(), 1e-6f);
    }

    [TestMethod]
    public void TensorRTAndGenericProvidersFollowThePolicyToo()
    {
        var options = TestEnvironment.Options();
        options.ExecutionProviders.Add(ExecutionProvider.TensorRT());
        options.ExecutionProviders.Add(ExecutionProvider.Create("NoSuchProvider"));
        options.ProviderPolicy = ExecutionProviderPolicy.FallbackToCpu;
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), options);
        CollectionAssert.AreEqual(new[] { "TensorRT", "NoSuchProvider" }, session.ProviderFallbacks.Select(f => f.Provider.Name).ToArray());
        CollectionAssert.AreEqual(new[] { "CPU" }, session.EffectiveProviders.ToArray());

        options.ProviderPolicy = ExecutionProviderPolicy.Strict;
        options.ExecutionProviders.RemoveAt(0);
        var ex = Assert.ThrowsExactly<ExecutionProviderException>(() => new InferenceSession(Models.MatMulAddSoftmax(), options));
        Assert.AreEqual("NoSuchProvider", ex.Provider.Name);
        Assert.AreEqual(OrtErrorCode.InvalidArgument, ex.ErrorCode);
    }

    [TestMethod]
    public void CpuOnlyIsTheDefault()
    {
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        CollectionAssert.AreEqual(new[] { "CPU" }, session.EffectiveProviders.ToArray());
        Assert.AreEqual(0, session.ProviderFallbacks.Count);
    }

    [TestMethod]
    public void ProvidersParseFromCommandLineText()
    {
        Assert.AreEqual(ExecutionProvider.Cpu, ExecutionProvider.Parse("cpu"));
        Assert.AreEqual(ExecutionProvider.Cuda(1), ExecutionProvider.Parse("CUDA:1"));
        Assert.AreEqual("0", ExecutionProvider.Parse("cuda").Options["device_id"]);
        Assert.AreEqual(ExecutionProvider.TensorRT(0), ExecutionProvider.Parse("tensorrt"));
        Assert.AreEqual("XNNPACK", ExecutionProvider.Parse("XNNPACK").Name);
        var ex = Assert.ThrowsExactly<FormatException>(() => ExecutionProvider.Parse("cuda:x"));
        StringAssert.Contains(ex.Message, "'x'");
    }
}
