using System.Diagnostics;

namespace MLNetTransformers.OnnxRuntime.Tests;

/// <summary>The build's native-library fetch (build/fetch-onnxruntime.sh): verification and idempotence.</summary>
[TestClass]
public sealed class FetchScriptTests
{
    private static readonly string Script = Path.Combine(RepositoryRoot(), "build", "fetch-onnxruntime.sh");

    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    public void ChecksumMismatchLeavesNoFileBehind()
    {
        string directory = TestEnvironment.TempDirectory("fetch-bad-sha");
        string target = Path.Combine(directory, "libonnxruntime.so.1");
        var (code, stderr) = Run(target, new Dictionary<string, string> { ["ORT_SHA256"] = new string('0', 64) });
        Assert.AreEqual(1, code, stderr);
        StringAssert.Contains(stderr, "sha256 mismatch");
        Assert.IsFalse(File.Exists(target), "an unverified library must never reach its final path");
        Assert.IsFalse(Directory.EnumerateDirectories(directory).Any(), "the work folder is removed");
    }

    [TestMethod]
    public void ExistingLibraryIsNotFetchedAgain()
    {
        string directory = TestEnvironment.TempDirectory("fetch-present");
        string target = Path.Combine(directory, "libonnxruntime.so.1");
        File.WriteAllText(target, "already here");
        // A version that does not exist would make any fetch fail: success proves nothing was fetched.
        var (code, stderr) = Run(target, new Dictionary<string, string> { ["ORT_NPM_VERSION"] = "0.0.0-does-not-exist" });
        Assert.AreEqual(0, code, stderr);
        Assert.AreEqual("already here", File.ReadAllText(target));
    }

    private static (int Code, string Stderr) Run(string target, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(Script);
        start.ArgumentList.Add(target);
        foreach (var pair in environment)
        {
            start.Environment[pair.Key] = pair.Value;
        }

        using var process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stderr.Result);
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MLNetTransformers.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (MLNetTransformers.sln) is not above " + AppContext.BaseDirectory);
    }
}
