using MLNetTransformers.OnnxRuntime.Tests.TestModels;

namespace MLNetTransformers.OnnxRuntime.Tests;

[TestClass]
public sealed class SessionOptionsTests
{
    [TestMethod]
    public void MetadataHasNamesTypesAndSymbolicAndFixedDims()
    {
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        Assert.AreEqual(1, session.InputMetadata.Count);
        NodeMetadata x = session.InputMetadata[0];
        Assert.AreEqual("x", x.Name);
        Assert.AreEqual(OnnxValueType.Tensor, x.ValueType);
        Assert.AreEqual(TensorElementType.Float32, x.ElementType);
        CollectionAssert.AreEqual(new long[] { -1, 3 }, x.Dimensions.ToArray());
        CollectionAssert.AreEqual(new[] { "batch", string.Empty }, x.SymbolicDimensions.ToArray());
        Assert.AreEqual("x: float32[batch, 3]", x.ToString());
        CollectionAssert.AreEqual(new[] { "y", "logits" }, session.OutputNames.ToArray());
        Assert.AreEqual("[batch, 4]", session.OutputMetadata[1].ShapeText);

        ModelMetadata metadata = session.GetModelMetadata();
        Assert.AreEqual("mlnt-tests", metadata.ProducerName);
        Assert.AreEqual("mm_add_softmax", metadata.GraphName);
    }

    [TestMethod]
    public void FreeDimensionOverrideFixesTheSymbolicDimension()
    {
        var options = TestEnvironment.Options();
        options.FreeDimensionOverrides["batch"] = 2;
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), options);
        CollectionAssert.AreEqual(new long[] { 2, 3 }, session.InputMetadata[0].Dimensions.ToArray());
    }

    [TestMethod]
    public void OptimizedModelWrittenBySessionOptionsReloadsAndGivesEqualOutput()
    {
        string directory = TestEnvironment.TempDirectory("optimized");
        string optimizedPath = Path.Combine(directory, "model.optimized.onnx");
        float[] x = [0.3f, -0.2f, 1f];
        float[] original;
        var options = TestEnvironment.Options();
        options.GraphOptimizationLevel = GraphOptimizationLevel.Extended;
        options.OptimizedModelFilePath = optimizedPath;
        using (var session = new InferenceSession(Models.MatMulAddSoftmax(), options))
        using (var input = OrtValue.CreateTensor(x, [1, 3]))
        using (var outputs = session.Run(["x"], [input], ["y"]))
        {
            original = outputs[0].ToArray<float>();
        }

        Assert.IsTrue(File.Exists(optimizedPath), "the optimized model file is written when the session is created");
        Assert.IsGreaterThan(0L, new FileInfo(optimizedPath).Length);
        using var reloaded = new InferenceSession(optimizedPath, TestEnvironment.Options());
        using var again = OrtValue.CreateTensor(x, [1, 3]);
        using var reloadedOutputs = reloaded.Run(["x"], [again], ["y"]);
        SessionRunTests.AssertClose(original, reloadedOutputs[0].GetTensorReadOnlySpan<float>(), 1e-6f);
    }

    [TestMethod]
    public void EveryOptionIsAcceptedByOnnxRuntime()
    {
        string directory = TestEnvironment.TempDirectory("profile");
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.Basic,
            IntraOpThreads = 1,
            InterOpThreads = 1,
            ExecutionMode = ExecutionMode.Parallel,
            EnableMemoryPattern = false,
            EnableCpuMemArena = false,
            ProfileFilePrefix = Path.Combine(directory, "trace"),
            LogId = "all-options",
            LogLevel = Microsoft.Extensions.Logging.LogLevel.Error,
        };
        options.ConfigEntries["session.intra_op.allow_spinning"] = "0";
        options.FreeDimensionOverridesByDenotation["DATA_BATCH"] = 1;
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), options);
        using var input = OrtValue.CreateTensor(new float[] { 1f, 2f, 3f }, [1, 3]);
        using (session.Run(["x"], [input]))
        {
        }

        string trace = session.EndProfiling();
        Assert.IsTrue(File.Exists(trace), $"profile {trace}");
        StringAssert.Contains(File.ReadAllText(trace), "model_run");
    }

    [TestMethod]
    public void RunOptionsTagAndConfigAreAccepted()
    {
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        using var runOptions = new RunOptions { LogTag = "tagged", LogLevel = Microsoft.Extensions.Logging.LogLevel.Error };
        runOptions.AddConfigEntry("memory.enable_memory_arena_shrinkage", "cpu:0");
        Assert.AreEqual("tagged", runOptions.LogTag);
        using var input = OrtValue.CreateTensor(new float[] { 1f, 2f, 3f }, [1, 3]);
        using var outputs = session.Run(["x"], [input], null, runOptions);
        Assert.AreEqual(2, outputs.Count);
    }

    [TestMethod]
    public void TerminatedRunOptionsFailTheRunUntilReset()
    {
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        using var runOptions = new RunOptions();
        using var input = OrtValue.CreateTensor(new float[] { 1f, 2f, 3f }, [1, 3]);
        runOptions.Terminate();
        var ex = Assert.ThrowsExactly<OnnxRuntimeException>(() => session.Run(["x"], [input], null, runOptions));
        StringAssert.Contains(ex.Message, "terminate");
        runOptions.ResetTerminate();
        using var outputs = session.Run(["x"], [input], null, runOptions);
        Assert.AreEqual(2, outputs.Count);
    }
}

[TestClass]
public sealed class IoBindingTests
{
    private static readonly float[] X = [1f, 2f, 3f, -1f, 0.5f, 0f];

    [TestMethod]
    public void BindingGivesTheSameResultAsRunAndWritesIntoTheCallersBuffer()
    {
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        using var input = OrtValue.CreateTensor(X, [2, 3]);
        float[] viaRun;
        using (var outputs = session.Run(["x"], [input], ["y"]))
        {
            viaRun = outputs[0].ToArray<float>();
        }

        float[] buffer = new float[8];
        using var output = OrtValue.CreateTensor(buffer, [2, 4]);
        using var binding = session.CreateIoBinding();
        binding.BindInput("x", input);
        binding.BindOutput("y", output);
        binding.BindOutput("logits", OrtMemoryInfo.Cpu);
        session.RunWithBinding(binding);
        binding.SynchronizeBoundOutputs();
        CollectionAssert.AreEqual(viaRun, buffer, "the bound output was written in place");

        CollectionAssert.AreEqual(new[] { "y", "logits" }, binding.GetOutputNames().ToArray());
        using var bound = binding.GetOutputValues();
        CollectionAssert.AreEqual(viaRun, bound["y"].ToArray<float>());
        SessionRunTests.AssertClose(Models.ReferenceMatMulAddSoftmax(X, 2).Logits, bound["logits"].GetTensorReadOnlySpan<float>(), 1e-5f);
    }

    [TestMethod]
    public void BindingIsReusedAcrossRunsWithNewInputData()
    {
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        float[] inputData = (float[])X.Clone();
        float[] buffer = new float[8];
        using var input = OrtValue.CreateTensor(inputData, [2, 3]);
        using var output = OrtValue.CreateTensor(buffer, [2, 4]);
        using var binding = session.CreateIoBinding();
        binding.BindInput("x", input);
        binding.BindOutput("logits", output);
        for (int step = 0; step < 3; step++)
        {
            for (int i = 0; i < inputData.Length; i++)
            {
                inputData[i] = X[i] * (step + 1);
            }

            session.RunWithBinding(binding);
            SessionRunTests.AssertClose(Models.ReferenceMatMulAddSoftmax(inputData, 2).Logits, buffer, 1e-5f);
        }

        binding.ClearBoundOutputs();
        binding.ClearBoundInputs();
        Assert.AreEqual(0, binding.GetOutputNames().Count);
    }

    [TestMethod]
    public void BindingAnUnknownNameIsRejected()
    {
        using var session = new InferenceSession(Models.MatMulAddSoftmax(), TestEnvironment.Options());
        using var binding = session.CreateIoBinding();
        using var input = OrtValue.CreateTensor(X, [2, 3]);
        var ex = Assert.ThrowsExactly<ArgumentException>(() => binding.BindInput("nope", input));
        StringAssert.Contains(ex.Message, "'nope'");
        StringAssert.Contains(ex.Message, "x");
    }
}
