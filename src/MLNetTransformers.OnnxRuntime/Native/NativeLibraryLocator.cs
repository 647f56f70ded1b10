using System.Runtime.InteropServices;

namespace MLNetTransformers.OnnxRuntime.Native;

/// <summary>
/// Decides where the native ONNX Runtime library is looked for and loads the first candidate that works.
/// Kept free of global state so that the search order and its error message can be tested in-process.
/// </summary>
internal static class NativeLibraryLocator
{
    /// <summary>One place to try: a file path, or a bare name handed to the system loader.</summary>
    internal readonly record struct Candidate(string Source, string PathOrName, bool IsSystemName);

    /// <summary>File names of the library on this operating system, preferred first.</summary>
    internal static IReadOnlyList<string> LibraryFileNames { get; } =
        OperatingSystem.IsWindows() ? ["onnxruntime.dll"]
        : OperatingSystem.IsMacOS() ? ["libonnxruntime.dylib"]
        : ["libonnxruntime.so.1", "libonnxruntime.so"];

    /// <summary>
    /// Lists the candidates in search order. A path configured in code or in the environment is authoritative: when one is
    /// given, only it is tried, so a GPU build the user asked for is never silently replaced by the bundled CPU build.
    /// </summary>
    internal static List<Candidate> GetCandidates(string? explicitPath, string? environmentValue, IEnumerable<string> applicationDirectories)
    {
        var candidates = new List<Candidate>();
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            AddPathOrDirectory(candidates, "explicit path", explicitPath);
            return candidates;
        }

        if (!string.IsNullOrWhiteSpace(environmentValue))
        {
            AddPathOrDirectory(candidates, $"environment variable {OnnxRuntimeLibrary.PathEnvironmentVariable}", environmentValue);
            return candidates;
        }

        string rid = RuntimeInformation.RuntimeIdentifier;
        string portableRid = PortableRuntimeIdentifier();
        foreach (string directory in applicationDirectories.Distinct(StringComparer.Ordinal))
        {
            foreach (string r in new[] { rid, portableRid }.Distinct(StringComparer.Ordinal))
            {
                foreach (string file in LibraryFileNames)
                {
                    candidates.Add(new Candidate("application runtimes folder", Path.Combine(directory, "runtimes", r, "native", file), false));
                }
            }

            foreach (string file in LibraryFileNames)
            {
                candidates.Add(new Candidate("application folder", Path.Combine(directory, file), false));
            }
        }

        foreach (string file in LibraryFileNames)
        {
            candidates.Add(new Candidate("system loader", file, true));
        }

        return candidates;
    }

    /// <summary>Loads the first candidate that loads; otherwise throws one exception listing every attempt.</summary>
    internal static (nint Handle, Candidate Loaded) LoadFirst(IReadOnlyList<Candidate> candidates)
    {
        var attempts = new List<string>(candidates.Count);
        foreach (Candidate candidate in candidates)
        {
            if (!candidate.IsSystemName && !File.Exists(candidate.PathOrName))
            {
                attempts.Add($"{candidate.Source}: {candidate.PathOrName} (file does not exist)");
                continue;
            }

            try
            {
                nint handle = candidate.IsSystemName
                    ? NativeLibrary.Load(candidate.PathOrName, typeof(NativeLibraryLocator).Assembly, DllImportSearchPath.SafeDirectories | DllImportSearchPath.System32)
                    : NativeLibrary.Load(candidate.PathOrName);
                return (handle, candidate);
            }
            catch (Exception ex) when (ex is DllNotFoundException or BadImageFormatException)
            {
                attempts.Add($"{candidate.Source}: {candidate.PathOrName} ({FirstLine(ex.Message)})");
            }
        }

        string message =
            "The native ONNX Runtime library could not be loaded. Tried, in order:" + Environment.NewLine
            + string.Join(Environment.NewLine, attempts.Select(a => "  - " + a)) + Environment.NewLine
            + $"Fix: build the project (the build fetches libonnxruntime.so.1 into runtimes/<rid>/native/), or set {OnnxRuntimeLibrary.PathEnvironmentVariable} "
            + "to an ONNX Runtime library file or the folder holding it (e.g. the native folder of a GPU build for CUDA/TensorRT).";
        throw new OnnxRuntimeLibraryException(message, attempts);
    }

    private static void AddPathOrDirectory(List<Candidate> candidates, string source, string value)
    {
        if (Directory.Exists(value))
        {
            foreach (string file in LibraryFileNames)
            {
                candidates.Add(new Candidate(source, Path.Combine(value, file), false));
            }
        }
        else
        {
            candidates.Add(new Candidate(source, value, false));
        }
    }

    private static string PortableRuntimeIdentifier()
    {
        string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        string arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        return $"{os}-{arch}";
    }

    private static string FirstLine(string text)
    {
        int newline = text.IndexOfAny(['\r', '\n']);
        return newline < 0 ? text : text[..newline];
    }
}
