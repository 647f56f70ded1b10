using MLNetTransformers.OnnxRuntime;

[assembly: Parallelize(Workers = 2, Scope = ExecutionScope.ClassLevel)]

namespace MLNetTransformers.Onnx.Tests;

[TestClass]
public static class TestSupport
{
    public static string TinyLlamaDirectory => Path.Combine(AppContext.BaseDirectory, "models", "tiny-llama");

    public static string TinyLlamaModel => Path.Combine(TinyLlamaDirectory, "onnx", "model.onnx");

    [AssemblyInitialize]
    public static void Initialize(TestContext context)
    {
        _ = context;
        OnnxRuntimeEnvironment.Initialize(new OnnxRuntimeEnvironmentOptions { LogLevel = Microsoft.Extensions.Logging.LogLevel.Error });
    }

    public static SessionOptions SessionOptions() => new() { IntraOpThreads = 1, InterOpThreads = 1 };

    public static string TempDirectory(string name) => Directory.CreateTempSubdirectory("mlnt-onnx-" + name).FullName;
}
