using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Extensions.AI.Tests;

[TestClass]
public static class TestSupport
{
    [AssemblyInitialize]
    public static void Initialize(TestContext context)
    {
        _ = context;
        OnnxRuntimeEnvironment.Initialize(new OnnxRuntimeEnvironmentOptions { LogLevel = Microsoft.Extensions.Logging.LogLevel.Error });
    }
}
