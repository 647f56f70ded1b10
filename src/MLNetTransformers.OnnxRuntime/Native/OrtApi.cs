using System.Runtime.InteropServices;
using System.Text;

namespace MLNetTransformers.OnnxRuntime.Native;

/// <summary>
/// Holds the loaded native library and its <c>OrtApi</c> function table. Loaded once per process; every native call reads
/// its function pointer from <see cref="Table"/> by <see cref="OrtApiSlot"/>.
/// </summary>
internal static unsafe class OrtApi
{
    /// <summary>
    /// The API version requested from <c>OrtGetApiBase()->GetApi</c>: the lowest that has every function this binding calls
    /// (ONNX Runtime 1.15; see Native/ortapi_versions.txt), so that any library from 1.15 on loads, and an older one is refused
    /// before any call.
    /// </summary>
    internal const uint RequestedVersion = 15;

    /// <summary>Size of the function table of API version <see cref="RequestedVersion"/>: no slot at or beyond it is called.</summary>
    internal const int RequestedVersionSlotCount = (int)OrtApiSlot.GetBuildInfoString + 1;

    private static readonly Lock s_gate = new();
    private static nint* s_table;
    private static LoadedLibrary? s_library;

    /// <summary>What was loaded, from where.</summary>
    internal sealed record LoadedLibrary(nint Handle, string Source, string PathOrName, string Version, nint ApiBase, nint Table);

    /// <summary>The function table, loading the library on first use.</summary>
    internal static nint* Table
    {
        get
        {
            nint* table = s_table;
            return table != null ? table : Load(null);
        }
    }

    /// <summary>The loaded library, loading it on first use.</summary>
    internal static LoadedLibrary Library
    {
        get
        {
            _ = Table;
            return s_library!;
        }
    }

    /// <summary>Whether the library is loaded already.</summary>
    internal static bool IsLoaded => s_table != null;

    /// <summary>Loads the library (once). A different explicit path after loading is an error rather than ignored.</summary>
    internal static nint* Load(string? explicitPath)
    {
        lock (s_gate)
        {
            if (s_table != null)
            {
                if (explicitPath is not null && !string.Equals(Path.GetFullPath(explicitPath), s_library!.PathOrName, StringComparison.Ordinal))
                {
                    throw new InvalidOperationException(
                        $"ONNX Runtime is already loaded from {s_library.PathOrName}; it cannot be replaced by {explicitPath} in the same process.");
                }

                return s_table;
            }

            var directories = new List<string> { AppContext.BaseDirectory };
            string? assemblyDirectory = Path.GetDirectoryName(typeof(OrtApi).Assembly.Location);
            if (!string.IsNullOrEmpty(assemblyDirectory))
            {
                directories.Add(assemblyDirectory);
            }

            var candidates = NativeLibraryLocator.GetCandidates(
                explicitPath is null ? null : Path.GetFullPath(explicitPath),
                Environment.GetEnvironmentVariable(OnnxRuntimeLibrary.PathEnvironmentVariable),
                directories);
            var (handle, candidate) = NativeLibraryLocator.LoadFirst(candidates);
            try
            {
                s_library = Bind(handle, candidate);
            }
            catch
            {
                NativeLibrary.Free(handle);
                throw;
            }

            s_table = (nint*)s_library.Table;
            return s_table;
        }
    }

    private static LoadedLibrary Bind(nint handle, NativeLibraryLocator.Candidate candidate)
    {
        string where = candidate.PathOrName;
        if (!NativeLibrary.TryGetExport(handle, "OrtGetApiBase", out nint getApiBase))
        {
            throw new OnnxRuntimeLibraryException($"{where} loaded but exports no OrtGetApiBase: it is not an ONNX Runtime library.", [where]);
        }

        nint* apiBase = ((delegate* unmanaged<nint*>)getApiBase)();
        var getApi = (delegate* unmanaged<uint, nint*>)apiBase[0];
        var getVersionString = (delegate* unmanaged<byte*>)apiBase[1];
        string version = Marshal.PtrToStringUTF8((nint)getVersionString()) ?? "unknown";

        // GetApi returns null for a version the library does not implement: the check that keeps every call in range.
        nint* table = getApi(RequestedVersion);
        if (table == null)
        {
            throw new OnnxRuntimeLibraryException(
                $"ONNX Runtime {version} at {where} does not provide C API version {RequestedVersion}; MLNetTransformers needs ONNX Runtime 1.{RequestedVersion} or later.",
                [where]);
        }

        VerifyTable(table, getApiBase, version, where);
        return new LoadedLibrary(handle, candidate.Source, candidate.IsSystemName ? candidate.PathOrName : Path.GetFullPath(candidate.PathOrName), version, (nint)apiBase, (nint)table);
    }

    /// <summary>
    /// Checks that the table we index is the table we think it is, before any real call: every slot of the requested version
    /// is set and points into the same library, and the first status functions behave as the C API documents.
    /// </summary>
    private static void VerifyTable(nint* table, nint exportInLibrary, string version, string where)
    {
        for (int slot = 0; slot < RequestedVersionSlotCount; slot++)
        {
            if (table[slot] == 0)
            {
                throw Mismatch($"slot {slot} ({(OrtApiSlot)slot}) is null");
            }
        }

        if (SharedObjectBase.TryGet(exportInLibrary, out nint libraryBase))
        {
            foreach (int slot in new[] { (int)OrtApiSlot.CreateStatus, (int)OrtApiSlot.Run, (int)OrtApiSlot.ReleaseCustomOpDomain, (int)OrtApiSlot.ReleaseModelMetadata, (int)OrtApiSlot.AddFreeDimensionOverrideByName, (int)OrtApiSlot.ReleaseAvailableProviders, (int)OrtApiSlot.SetGlobalSpinControl, (int)OrtApiSlot.ReleaseArenaCfg, (int)OrtApiSlot.GetCurrentGpuDeviceId, (int)OrtApiSlot.CreateSessionFromArrayWithPrepackedWeightsContainer, RequestedVersionSlotCount - 1 })
            {
                if (SharedObjectBase.TryGet(table[slot], out nint slotBase) && slotBase != libraryBase)
                {
                    throw Mismatch($"slot {slot} ({(OrtApiSlot)slot}) points outside the library");
                }
            }
        }

        const string probe = "mlnt-anchor-probe";
        byte[] probeUtf8 = Encoding.UTF8.GetBytes(probe + "\0");
        fixed (byte* message = probeUtf8)
        {
            nint status = ((delegate* unmanaged<int, byte*, nint>)table[(int)OrtApiSlot.CreateStatus])((int)OrtErrorCode.NoSuchFile, message);
            if (status == 0)
            {
                throw Mismatch("CreateStatus returned null");
            }

            int code = ((delegate* unmanaged<nint, int>)table[(int)OrtApiSlot.GetErrorCode])(status);
            string? text = Marshal.PtrToStringUTF8(((delegate* unmanaged<nint, nint>)table[(int)OrtApiSlot.GetErrorMessage])(status));
            ((delegate* unmanaged<nint, void>)table[(int)OrtApiSlot.ReleaseStatus])(status);
            if (code != (int)OrtErrorCode.NoSuchFile || text != probe)
            {
                throw Mismatch("the status functions (slots 0-2) do not round-trip an error");
            }
        }

        OnnxRuntimeLibraryException Mismatch(string what) => new(
            $"ONNX Runtime {version} at {where} does not have the OrtApi table layout this binding was generated for ({what}). "
            + "Use ONNX Runtime 1.15 or later built from the official sources.",
            [where]);
    }

    /// <summary>Finds the base address of the shared object that holds an address (Linux <c>dladdr</c>), when available.</summary>
    private static class SharedObjectBase
    {
        [StructLayout(LayoutKind.Sequential)]
        private struct DlInfo
        {
            public nint FileName;
            public nint FileBase;
            public nint SymbolName;
            public nint SymbolAddress;
        }

        private static readonly delegate* unmanaged<nint, DlInfo*, int> s_dladdr = Resolve();

        public static bool TryGet(nint address, out nint baseAddress)
        {
            baseAddress = 0;
            if (s_dladdr == null)
            {
                return false;
            }

            DlInfo info;
            if (s_dladdr(address, &info) == 0)
            {
                return false;
            }

            baseAddress = info.FileBase;
            return true;
        }

        private static delegate* unmanaged<nint, DlInfo*, int> Resolve()
        {
            if (!OperatingSystem.IsLinux())
            {
                return null;
            }

            foreach (string name in new[] { "libc.so.6", "libdl.so.2" })
            {
                if (NativeLibrary.TryLoad(name, out nint libc) && NativeLibrary.TryGetExport(libc, "dladdr", out nint dladdr))
                {
                    return (delegate* unmanaged<nint, DlInfo*, int>)dladdr;
                }
            }

            return null;
        }
    }
}
