using System.Runtime.InteropServices;
using MLNetTransformers.OnnxRuntime.Native;

namespace MLNetTransformers.OnnxRuntime.Tests;

[TestClass]
public sealed class NativeLibraryTests
{
    [TestMethod]
    public void LoadsTheBundledLibraryFromTheRuntimesFolder()
    {
        Assert.IsTrue(OnnxRuntimeLibrary.IsLoaded);
        Assert.AreEqual("1.30.0", OnnxRuntimeLibrary.Version);
        StringAssert.Contains(OnnxRuntimeLibrary.LoadedFrom, Path.Combine("runtimes", "linux-x64", "native", "libonnxruntime.so.1"));
        Assert.AreEqual("application runtimes folder", OnnxRuntimeLibrary.LoadedVia);
        StringAssert.StartsWith(OnnxRuntimeLibrary.BuildInfo, "ORT Build Info:");
        StringAssert.Contains(OnnxRuntimeLibrary.BuildInfo, "git-commit-id=");
    }

    [TestMethod]
    public void ListsTheProvidersTheBuildWasCompiledWith()
    {
        IReadOnlyList<string> providers = OnnxRuntimeLibrary.GetAvailableProviders();
        CollectionAssert.Contains(providers.ToList(), "CPUExecutionProvider");
        CollectionAssert.Contains(providers.ToList(), "CUDAExecutionProvider");
        Assert.AreEqual("CPUExecutionProvider", providers[^1], "ONNX Runtime lists the CPU provider last");
    }

    [TestMethod]
    public void SlotIndexHoldsTheOffsetsOnnxRuntimePinsWithStaticAsserts()
    {
        Assert.AreEqual(101, (int)OrtApiSlot.ReleaseCustomOpDomain);
        Assert.AreEqual(118, (int)OrtApiSlot.ReleaseModelMetadata);
        Assert.AreEqual(124, (int)OrtApiSlot.AddFreeDimensionOverrideByName);
        Assert.AreEqual(126, (int)OrtApiSlot.ReleaseAvailableProviders);
        Assert.AreEqual(149, (int)OrtApiSlot.SetGlobalSpinControl);
        Assert.AreEqual(157, (int)OrtApiSlot.ReleaseArenaCfg);
        Assert.AreEqual(161, (int)OrtApiSlot.GetCurrentGpuDeviceId);
        Assert.AreEqual(169, (int)OrtApiSlot.CreateSessionFromArrayWithPrepackedWeightsContainer);
        Assert.AreEqual(426, OrtApiSlotList.Count);
        Assert.AreEqual(254, (int)OrtApiSlot.GetBuildInfoString, "GetBuildInfoString closes API version 15, the version requested");
        Assert.AreEqual(255, OrtApi.RequestedVersionSlotCount);
    }

    [TestMethod]
    public unsafe void TableOfThisBuildEndsWhereOrtApiBaseBegins()
    {
        // Measured for the 1.30 CPU build: the 426-pointer table is immediately followed by OrtApiBase.
        OrtApi.LoadedLibrary library = OrtApi.Library;
        Assert.AreEqual(library.ApiBase, library.Table + (OrtApiSlotList.Count * sizeof(nint)));
    }

    [TestMethod]
    public void ExplicitPathThatDoesNotExistIsTheOnlyCandidateAndTheErrorSaysHowToFix()
    {
        string missing = Path.Combine(Path.GetTempPath(), "no-such-dir", "libonnxruntime.so.1");
        var candidates = NativeLibraryLocator.GetCandidates(missing, environmentValue: "/also/ignored", [AppContext.BaseDirectory]);
        Assert.AreEqual(1, candidates.Count);

        var ex = Assert.ThrowsExactly<OnnxRuntimeLibraryException>(() => NativeLibraryLocator.LoadFirst(candidates));
        StringAssert.Contains(ex.Message, missing);
        StringAssert.Contains(ex.Message, "explicit path");
        StringAssert.Contains(ex.Message, "file does not exist");
        StringAssert.Contains(ex.Message, OnnxRuntimeLibrary.PathEnvironmentVariable);
        Assert.AreEqual(1, ex.Attempts.Count);
    }

    [TestMethod]
    public void EnvironmentDirectoryIsSearchedForEveryLibraryFileName()
    {
        string directory = TestEnvironment.TempDirectory("ortdir");
        var candidates = NativeLibraryLocator.GetCandidates(null, directory, [AppContext.BaseDirectory]);
        CollectionAssert.AreEqual(
            NativeLibraryLocator.LibraryFileNames.Select(f => Path.Combine(directory, f)).ToList(),
            candidates.Select(c => c.PathOrName).ToList());
        Assert.IsTrue(candidates.All(c => c.Source.Contains(OnnxRuntimeLibrary.PathEnvironmentVariable, StringComparison.Ordinal)));
    }

    [TestMethod]
    public void DefaultSearchTriesRuntimesFolderThenApplicationFolderThenSystemLoader()
    {
        string app = "/app";
        var candidates = NativeLibraryLocator.GetCandidates(null, null, [app]);
        Assert.AreEqual(Path.Combine(app, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", "libonnxruntime.so.1"), candidates[0].PathOrName);
        Assert.AreEqual("system loader", candidates[^1].Source);
        int firstApplicationFolder = candidates.FindIndex(c => c.Source == "application folder");
        int lastRuntimes = candidates.FindLastIndex(c => c.Source == "application runtimes folder");
        Assert.IsTrue(lastRuntimes < firstApplicationFolder);
    }

    [TestMethod]
    public void EveryFailedPlaceIsListedWhenNothingLoads()
    {
        string notALibrary = Path.Combine(TestEnvironment.TempDirectory("bad"), "libonnxruntime.so.1");
        File.WriteAllText(notALibrary, "this is not an ELF file");
        var candidates = new List<NativeLibraryLocator.Candidate>
        {
            new("first", "/nope/libonnxruntime.so.1", false),
            new("second", notALibrary, false),
            new("system loader", "libdefinitely-not-onnxruntime.so.42", true),
        };

        var ex = Assert.ThrowsExactly<OnnxRuntimeLibraryException>(() => NativeLibraryLocator.LoadFirst(candidates));
        Assert.AreEqual(3, ex.Attempts.Count);
        StringAssert.StartsWith(ex.Attempts[0], "first: /nope/libonnxruntime.so.1");
        StringAssert.StartsWith(ex.Attempts[1], "second: " + notALibrary);
        StringAssert.Contains(ex.Attempts[2], "libdefinitely-not-onnxruntime.so.42");
    }

    [TestMethod]
    public void LoadingAnotherLibraryAfterwardsIsRefused()
    {
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() => OnnxRuntimeLibrary.Load("/tmp/other/libonnxruntime.so.1"));
        StringAssert.Contains(ex.Message, OnnxRuntimeLibrary.LoadedFrom);
    }

    [TestMethod]
    public void NativeLogIsRoutedToTheLoggerAtTheConfiguredLevel()
    {
        var options = TestEnvironment.Options();
        options.LogLevel = Microsoft.Extensions.Logging.LogLevel.Trace;
        options.LogId = "routing-probe";
        int before = TestEnvironment.Logs.Entries.Count(e => e.Category == "OnnxRuntime" && e.Message.Contains("routing-probe", StringComparison.Ordinal));
        using (var session = new InferenceSession(Models.MatMulAddSoftmax(), options))
        {
            Assert.AreEqual(1, session.InputMetadata.Count);
        }

        var routed = TestEnvironment.Logs.Entries.Where(e => e.Category == "OnnxRuntime" && e.Message.Contains("routing-probe", StringComparison.Ordinal)).ToList();
        Assert.IsTrue(routed.Count > before, "ONNX Runtime's verbose session log should reach the logger");
        Assert.IsTrue(routed.Any(e => e.Level <= Microsoft.Extensions.Logging.LogLevel.Information));
    }
}
