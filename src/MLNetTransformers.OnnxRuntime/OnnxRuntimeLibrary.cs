using MLNetTransformers.OnnxRuntime.Native;

namespace MLNetTransformers.OnnxRuntime;

/// <summary>
/// The native ONNX Runtime library: where it is loaded from, its version and build, and the execution providers it was built with.
/// </summary>
/// <remarks>
/// <para>The library is loaded once per process, on first use, from the first of these that is configured:</para>
/// <list type="number">
/// <item>a path given in code (<see cref="Load(string?)"/> or <see cref="OnnxRuntimeEnvironmentOptions.LibraryPath"/>);</item>
/// <item>the environment variable <c>MLNT_ONNXRUNTIME_PATH</c> (a library file, or the folder holding it);</item>
/// <item>otherwise <c>runtimes/&lt;rid&gt;/native/</c> under the application's folder, then the system loader.</item>
/// </list>
/// <para>A path configured in code or in the environment is authoritative: if it does not load, nothing else is tried, so a GPU build
/// that was asked for is never silently replaced by the CPU build that ships with the application. When nothing loads, one
/// <see cref="OnnxRuntimeLibraryException"/> lists every place tried. All members are thread-safe.</para>
/// </remarks>
public static unsafe class OnnxRuntimeLibrary
{
    /// <summary>The environment variable that points at an ONNX Runtime library file or folder: <c>MLNT_ONNXRUNTIME_PATH</c>.</summary>
    public const string PathEnvironmentVariable = "MLNT_ONNXRUNTIME_PATH";

    /// <summary>The C API version this binding requests; any ONNX Runtime from 1.15 on provides it.</summary>
    public static int RequiredApiVersion => (int)OrtApi.RequestedVersion;

    /// <summary>Loads the library now (optionally from <paramref name="path"/>), verifying its version and function table.</summary>
    /// <param name="path">A library file or folder; <see langword="null"/> to use the search order.</param>
    /// <exception cref="OnnxRuntimeLibraryException">No candidate loaded, or the loaded library is unusable.</exception>
    /// <exception cref="InvalidOperationException">A different library is already loaded in this process.</exception>
    public static void Load(string? path = null) => OrtApi.Load(path);

    /// <summary>Whether the library has been loaded in this process.</summary>
    public static bool IsLoaded => OrtApi.IsLoaded;

    /// <summary>The full path (or system name) of the loaded library.</summary>
    public static string LoadedFrom => OrtApi.Library.PathOrName;

    /// <summary>Which rule of the search order found the library (e.g. "application runtimes folder").</summary>
    public static string LoadedVia => OrtApi.Library.Source;

    /// <summary>ONNX Runtime's version string, e.g. <c>1.30.0</c>.</summary>
    public static string Version => OrtApi.Library.Version;

    /// <summary>ONNX Runtime's build information string (version, git branch and commit, build type).</summary>
    public static string BuildInfo => NativeMethods.GetBuildInfoString();

    /// <summary>
    /// The execution providers this build of ONNX Runtime was compiled with, in ONNX Runtime's names (e.g.
    /// <c>CUDAExecutionProvider</c>). Being listed does not mean a provider can start here: its shared libraries and device must be
    /// present too, which only creating a session with it shows (see <see cref="InferenceSession.EffectiveProviders"/>).
    /// </summary>
    public static IReadOnlyList<string> GetAvailableProviders()
    {
        NativeMethods.GetAvailableProviders(out byte** list, out int count);
        try
        {
            var names = new string[count];
            for (int i = 0; i < count; i++)
            {
                names[i] = Utf8.FromNative(list[i]);
            }

            return names;
        }
        finally
        {
            NativeMethods.ReleaseAvailableProviders(list, count);
        }
    }
}
