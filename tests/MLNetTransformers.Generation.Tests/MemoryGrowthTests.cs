using MLNetTransformers.Generation.Decoding;

namespace MLNetTransformers.Generation.Tests;

/// <summary>1,000 generations in one process must not grow native or managed memory (the KV cache and outputs are released).</summary>
/// <remarks>Not run beside other classes: their sessions and buffers would be counted in the process's resident memory.</remarks>
[TestClass]
[DoNotParallelize]
public sealed class MemoryGrowthTests
{
    [TestMethod]
    public void ThousandGenerationsDoNotGrowMemory()
    {
        using var generator = new Generator(ModelFolder.Open(TestSupport.TinyLlamaDirectory), TestSupport.SessionOptions(threads: 1));
        int[] prompt = generator.Encode("POLITICS, n.");
        var options = new GenerationOptions { MaxNewTokens = 4, EosTokenIds = [] };
        void Cycle(int count)
        {
            for (int i = 0; i < count; i++)
            {
                GenerationResult result = generator.Generate(prompt, options);
                Assert.AreEqual(4, result.NewIds.Count);
            }
        }

        Cycle(100); // warm up ONNX Runtime's arenas, the JIT and the pools
        long nativeBefore = ResidentBytes();
        long managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        Cycle(1000);
        long nativeGrowthMb = (ResidentBytes() - nativeBefore) / (1024 * 1024);
        long managedGrowthMb = (GC.GetTotalMemory(forceFullCollection: true) - managedBefore) / (1024 * 1024);
        Assert.IsLessThan(30L, nativeGrowthMb, $"resident memory grew by {nativeGrowthMb} MB over 1,000 generations");
        Assert.IsLessThan(5L, managedGrowthMb, $"managed heap grew by {managedGrowthMb} MB over 1,000 generations");
    }

    private static long ResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        return Environment.WorkingSet;
    }
}
