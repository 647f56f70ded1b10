using System.Runtime.InteropServices;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Benchmarks;

/// <summary>
/// A second baseline, between the binding and native C: the same C API calls the C program makes, issued from C# through
/// unmanaged function pointers read from the <c>OrtApi</c> table, with no binding in between (no handles, no checks, no
/// outputs wrapped). What it costs beyond the C program is the managed-to-native transition; what the binding costs beyond it
/// is the binding's own work. It loads the library the binding loaded (same file, so the same mapping) and makes its own
/// session over <see cref="TinyModel"/> with one intra-op thread.
/// </summary>
internal sealed unsafe class RawOrtApi : IDisposable
{
    // 0-based OrtApi slots (line N of src/MLNetTransformers.OnnxRuntime/Native/ortapi_v30_names.txt is slot N-1).
    private const int SlotGetErrorMessage = 2;
    private const int SlotCreateEnv = 3;
    private const int SlotCreateSessionFromArray = 8;
    private const int SlotRun = 9;
    private const int SlotCreateSessionOptions = 10;
    private const int SlotSetIntraOpNumThreads = 24;
    private const int SlotCreateTensorWithDataAsOrtValue = 49;
    private const int SlotCreateCpuMemoryInfo = 69;
    private const int SlotReleaseEnv = 92;
    private const int SlotReleaseStatus = 93;
    private const int SlotReleaseMemoryInfo = 94;
    private const int SlotReleaseSession = 95;
    private const int SlotReleaseValue = 96;
    private const int SlotReleaseSessionOptions = 100;

    private readonly nint* _api;
    private readonly delegate* unmanaged<nint, nint, nint*, nint*, nuint, nint*, nuint, nint*, nint> _run;
    private readonly delegate* unmanaged<nint, void> _releaseValue;
    private readonly nint _env;
    private readonly nint _session;
    private readonly nint _memoryInfo;
    private readonly nint _input;
    private readonly nint _output;
    private readonly nint _names;
    private readonly GCHandle _inputPin;
    private readonly GCHandle _outputPin;
    private readonly float[] _outputData = new float[4];

    public RawOrtApi()
    {
        // The binding's environment first: OrtEnv is a process-wide singleton, so the CreateEnv below then shares it.
        _ = OnnxRuntimeEnvironment.Instance;
        nint library = NativeLibrary.Load(OnnxRuntimeLibrary.LoadedFrom);
        var getApiBase = (delegate* unmanaged<nint*>)NativeLibrary.GetExport(library, "OrtGetApiBase");
        nint* apiBase = getApiBase();
        _api = ((delegate* unmanaged<uint, nint*>)apiBase[0])(15);
        if (_api == null)
        {
            throw new InvalidOperationException("GetApi(15) returned null.");
        }

        _run = (delegate* unmanaged<nint, nint, nint*, nint*, nuint, nint*, nuint, nint*, nint>)_api[SlotRun];
        _releaseValue = (delegate* unmanaged<nint, void>)_api[SlotReleaseValue];

        // "x\0y\0" followed by nothing else: names[0] = "x", names[1] = "y".
        _names = Marshal.AllocHGlobal(4);
        ((byte*)_names)[0] = (byte)'x';
        ((byte*)_names)[1] = 0;
        ((byte*)_names)[2] = (byte)'y';
        ((byte*)_names)[3] = 0;

        nint env, options, session, memoryInfo, input, output;
        fixed (byte* logId = "raw\0"u8)
        {
            Check(((delegate* unmanaged<int, byte*, nint*, nint>)_api[SlotCreateEnv])(3, logId, &env));
        }

        _env = env;
        Check(((delegate* unmanaged<nint*, nint>)_api[SlotCreateSessionOptions])(&options));
        try
        {
            Check(((delegate* unmanaged<nint, int, nint>)_api[SlotSetIntraOpNumThreads])(options, 1));
            byte[] model = TinyModel.Build();
            fixed (byte* m = model)
            {
                Check(((delegate* unmanaged<nint, byte*, nuint, nint, nint*, nint>)_api[SlotCreateSessionFromArray])(env, m, (nuint)model.Length, options, &session));
            }
        }
        finally
        {
            ((delegate* unmanaged<nint, void>)_api[SlotReleaseSessionOptions])(options);
        }

        _session = session;
        Check(((delegate* unmanaged<int, int, nint*, nint>)_api[SlotCreateCpuMemoryInfo])(1, 0, &memoryInfo));
        _memoryInfo = memoryInfo;
        _inputPin = GCHandle.Alloc((float[])TinyModel.Input.Clone(), GCHandleType.Pinned);
        _outputPin = GCHandle.Alloc(_outputData, GCHandleType.Pinned);
        long* shape = stackalloc long[] { 1, 4 };
        var createTensor = (delegate* unmanaged<nint, nint, nuint, long*, nuint, int, nint*, nint>)_api[SlotCreateTensorWithDataAsOrtValue];
        Check(createTensor(memoryInfo, _inputPin.AddrOfPinnedObject(), 16, shape, 2, 1, &input));
        Check(createTensor(memoryInfo, _outputPin.AddrOfPinnedObject(), 16, shape, 2, 1, &output));
        _input = input;
        _output = output;
    }

    /// <summary><c>Run</c> with the output allocated by ONNX Runtime, then <c>ReleaseValue</c> (what the C program times).</summary>
    public void RunAllocating()
    {
        nint inputName = _names;
        nint outputName = _names + 2;
        nint input = _input;
        nint output = 0;
        Check(_run(_session, 0, &inputName, &input, 1, &outputName, 1, &output));
        _releaseValue(output);
    }

    /// <summary><c>Run</c> into the preallocated output.</summary>
    public void RunPreallocated()
    {
        nint inputName = _names;
        nint outputName = _names + 2;
        nint input = _input;
        nint output = _output;
        Check(_run(_session, 0, &inputName, &input, 1, &outputName, 1, &output));
    }

    /// <summary>Runs both cases once and checks the result.</summary>
    public void Verify()
    {
        RunAllocating();
        Array.Clear(_outputData);
        RunPreallocated();
        TinyModel.Verify(_outputData, "raw Run(preallocated)");
    }

    public void Dispose()
    {
        _releaseValue(_input);
        _releaseValue(_output);
        ((delegate* unmanaged<nint, void>)_api[SlotReleaseMemoryInfo])(_memoryInfo);
        ((delegate* unmanaged<nint, void>)_api[SlotReleaseSession])(_session);
        ((delegate* unmanaged<nint, void>)_api[SlotReleaseEnv])(_env);
        _inputPin.Free();
        _outputPin.Free();
        Marshal.FreeHGlobal(_names);
    }

    private void Check(nint status)
    {
        if (status != 0)
        {
            string message = Marshal.PtrToStringUTF8(((delegate* unmanaged<nint, nint>)_api[SlotGetErrorMessage])(status)) ?? "unknown error";
            ((delegate* unmanaged<nint, void>)_api[SlotReleaseStatus])(status);
            throw new InvalidOperationException(message);
        }
    }
}
