using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using MLNetTransformers.OnnxRuntime.Native;

namespace MLNetTransformers.OnnxRuntime;

/// <summary>
/// A loaded ONNX model ready to run (<c>OrtSession</c>): input and output metadata, the execution providers it really uses,
/// and <c>Run</c> over named <see cref="OrtValue"/>s.
/// </summary>
/// <remarks>
/// Thread safety: a session may be run from many threads at once (ONNX Runtime's <c>Run</c> is thread-safe); each run gets
/// its own outputs. Disposing a session while runs are in flight waits for nothing: the native session is released when the
/// last in-flight run returns.
/// </remarks>
public sealed unsafe class InferenceSession : IDisposable
{
    private readonly SessionHandle _handle;
    private readonly Utf8StringArray _inputNames;
    private readonly Utf8StringArray _outputNames;
    private readonly Dictionary<string, int> _inputIndex;
    private readonly Dictionary<string, int> _outputIndex;
    private readonly NodeMetadata[] _inputs;
    private readonly NodeMetadata[] _outputs;
    private readonly string[] _outputNameList;
    private readonly string[] _inputNameList;

    /// <summary>Loads a model from a file.</summary>
    /// <param name="modelPath">The <c>.onnx</c> file (external data files are read from its folder).</param>
    /// <param name="options">Session options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime could not load the model (e.g. <see cref="OrtErrorCode.InvalidProtobuf"/>).</exception>
    /// <exception cref="ExecutionProviderException">A provider could not be added under <see cref="ExecutionProviderPolicy.Strict"/>.</exception>
    public InferenceSession(string modelPath, SessionOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        string fullPath = Path.GetFullPath(modelPath);
        if (!File.Exists(fullPath))
        {
            throw new FileNotFoundException($"Model file not found: {fullPath}", fullPath);
        }

        ModelPath = fullPath;
        byte[] path = Utf8.EncodePath(fullPath);
        (_handle, EffectiveProviders, ProviderFallbacks) = Create(options, (env, nativeOptions) =>
        {
            fixed (byte* p = path)
            {
                return NativeMethods.CreateSession(env, p, nativeOptions);
            }
        });
        (_inputs, _outputs, _inputNames, _outputNames) = ReadMetadata(_handle);
        _handle.Attach(_inputNames);
        _handle.Attach(_outputNames);
        (_inputIndex, _outputIndex, _outputNameList) = Index(_inputs, _outputs);
        _inputNameList = _inputs.Select(i => i.Name).ToArray();
    }

    /// <summary>Loads a model from its bytes (a model with external data must be loaded from a file instead).</summary>
    /// <param name="model">The serialized <c>ModelProto</c>; ONNX Runtime does not keep a reference to it.</param>
    /// <param name="options">Session options; <see langword="null"/> for the defaults.</param>
    public InferenceSession(ReadOnlySpan<byte> model, SessionOptions? options = null)
    {
        if (model.IsEmpty)
        {
            throw new ArgumentException("The model bytes are empty.", nameof(model));
        }

        fixed (byte* bytes = model)
        {
            nint pointer = (nint)bytes;
            nuint length = (nuint)model.Length;
            (_handle, EffectiveProviders, ProviderFallbacks) = Create(options, (env, nativeOptions) => NativeMethods.CreateSessionFromArray(env, (byte*)pointer, length, nativeOptions));
        }

        (_inputs, _outputs, _inputNames, _outputNames) = ReadMetadata(_handle);
        _handle.Attach(_inputNames);
        _handle.Attach(_outputNames);
        (_inputIndex, _outputIndex, _outputNameList) = Index(_inputs, _outputs);
        _inputNameList = _inputs.Select(i => i.Name).ToArray();
    }

    /// <summary>The model file's full path, or <see langword="null"/> for a model loaded from bytes.</summary>
    public string? ModelPath { get; }

    /// <summary>The model's inputs, in graph order (overridable initializers are not listed).</summary>
    public IReadOnlyList<NodeMetadata> InputMetadata => _inputs;

    /// <summary>The model's outputs, in graph order.</summary>
    public IReadOnlyList<NodeMetadata> OutputMetadata => _outputs;

    /// <summary>The input names, in graph order.</summary>
    public IReadOnlyList<string> InputNames => _inputNameList;

    /// <summary>The output names, in graph order.</summary>
    public IReadOnlyList<string> OutputNames => _outputNameList;

    /// <summary>
    /// The execution providers this session was really given, in priority order, always ending with <c>CPU</c>
    /// (names as in <see cref="ExecutionProvider.Name"/>).
    /// </summary>
    public IReadOnlyList<string> EffectiveProviders { get; }

    /// <summary>The providers that were asked for but skipped under <see cref="ExecutionProviderPolicy.FallbackToCpu"/>, with ONNX Runtime's reason.</summary>
    public IReadOnlyList<ExecutionProviderFallback> ProviderFallbacks { get; }

    /// <summary>Reads the model's metadata (producer, graph name, custom entries).</summary>
    /// <returns>The metadata.</returns>
    public ModelMetadata GetModelMetadata()
    {
        using var guard = new HandleGuard(_handle);
        nint allocator = NativeMethods.GetAllocatorWithDefaultOptions();
        using var metadata = new ModelMetadataHandle(NativeMethods.SessionGetModelMetadata(_handle.Pointer));
        nint md = metadata.Pointer;
        nint keys = NativeMethods.ModelMetadataGetCustomMetadataMapKeys(md, allocator, out long count);
        var custom = new Dictionary<string, string>(StringComparer.Ordinal);
        if (keys != 0)
        {
            using var keyArray = new AllocatorMemoryHandle(keys);
            for (long i = 0; i < count; i++)
            {
                nint key = ((nint*)keys)[i];
                string name = AllocatorMemoryHandle.TakeString(key);
                fixed (byte* k = Utf8.Encode(name))
                {
                    custom[name] = AllocatorMemoryHandle.TakeString(NativeMethods.ModelMetadataLookupCustomMetadataMap(md, allocator, k));
                }
            }
        }

        return new ModelMetadata(
            AllocatorMemoryHandle.TakeString(NativeMethods.ModelMetadataGetProducerName(md, allocator)),
            AllocatorMemoryHandle.TakeString(NativeMethods.ModelMetadataGetGraphName(md, allocator)),
            AllocatorMemoryHandle.TakeString(NativeMethods.ModelMetadataGetDomain(md, allocator)),
            AllocatorMemoryHandle.TakeString(NativeMethods.ModelMetadataGetDescription(md, allocator)),
            NativeMethods.ModelMetadataGetVersion(md),
            custom);
    }

    /// <summary>Runs the model.</summary>
    /// <param name="inputs">Input values by name; every model input must be given.</param>
    /// <param name="outputNames">The outputs to compute; <see langword="null"/> for all, in graph order.</param>
    /// <param name="runOptions">Run options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Terminates the native run when cancelled (ONNX Runtime checks between nodes).</param>
    /// <returns>The outputs, in the order asked for; dispose them.</returns>
    /// <exception cref="ArgumentException">An unknown, missing or duplicate input, or a value of the wrong element type.</exception>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime rejected the inputs (e.g. wrong rank or dimension) or failed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public SessionOutputs Run(IReadOnlyDictionary<string, OrtValue> inputs, IReadOnlyList<string>? outputNames = null, RunOptions? runOptions = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        int count = inputs.Count;
        string[] names = ArrayPool<string>.Shared.Rent(count);
        OrtValue[] values = ArrayPool<OrtValue>.Shared.Rent(count);
        try
        {
            int i = 0;
            if (inputs is Dictionary<string, OrtValue> dictionary)
            {
                foreach (var pair in dictionary)
                {
                    names[i] = pair.Key;
                    values[i++] = pair.Value;
                }
            }
            else
            {
                foreach (var pair in inputs)
                {
                    names[i] = pair.Key;
                    values[i++] = pair.Value;
                }
            }

            return RunAllocating(names.AsSpan(0, count), values.AsSpan(0, count), outputNames, runOptions, cancellationToken);
        }
        finally
        {
            Array.Clear(names, 0, count);
            Array.Clear(values, 0, count);
            ArrayPool<string>.Shared.Return(names);
            ArrayPool<OrtValue>.Shared.Return(values);
        }
    }

    /// <summary>Runs the model with inputs given as parallel lists of names and values.</summary>
    /// <param name="inputNames">Input names; every model input must be given once.</param>
    /// <param name="inputValues">The values, in the same order as the names.</param>
    /// <param name="outputNames">The outputs to compute; <see langword="null"/> for all, in graph order.</param>
    /// <param name="runOptions">Run options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Terminates the native run when cancelled.</param>
    /// <returns>The outputs, in the order asked for; dispose them.</returns>
    public SessionOutputs Run(IReadOnlyList<string> inputNames, IReadOnlyList<OrtValue> inputValues, IReadOnlyList<string>? outputNames = null, RunOptions? runOptions = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputNames);
        ArgumentNullException.ThrowIfNull(inputValues);
        string[]? rentedNames = null;
        OrtValue[]? rentedValues = null;
        try
        {
            return RunAllocating(AsSpan(inputNames, ref rentedNames), AsSpan(inputValues, ref rentedValues), outputNames, runOptions, cancellationToken);
        }
        finally
        {
            Return(rentedNames, inputNames.Count);
            Return(rentedValues, inputValues.Count);
        }
    }

    /// <summary>
    /// Runs the model writing into preallocated outputs (for example tensors over the caller's arrays): no output is allocated.
    /// The output values must have the shapes the model produces.
    /// </summary>
    /// <param name="inputNames">Input names.</param>
    /// <param name="inputValues">Input values.</param>
    /// <param name="outputNames">Output names.</param>
    /// <param name="outputValues">Preallocated output values, in the same order as the names.</param>
    /// <param name="runOptions">Run options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Terminates the native run when cancelled.</param>
    public void Run(IReadOnlyList<string> inputNames, IReadOnlyList<OrtValue> inputValues, IReadOnlyList<string> outputNames, IReadOnlyList<OrtValue> outputValues, RunOptions? runOptions = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputNames);
        ArgumentNullException.ThrowIfNull(inputValues);
        ArgumentNullException.ThrowIfNull(outputNames);
        ArgumentNullException.ThrowIfNull(outputValues);
        if (outputNames.Count != outputValues.Count)
        {
            throw new ArgumentException($"{outputNames.Count} output names but {outputValues.Count} output values.", nameof(outputValues));
        }

        string[]? rentedNames = null, rentedOutputNames = null;
        OrtValue[]? rentedValues = null, rentedOutputValues = null;
        try
        {
            RunCore(
                AsSpan(inputNames, ref rentedNames),
                AsSpan(inputValues, ref rentedValues),
                AsSpan(outputNames, ref rentedOutputNames),
                AsSpan(outputValues, ref rentedOutputValues),
                results: default,
                runOptions,
                cancellationToken);
        }
        finally
        {
            Return(rentedNames, inputNames.Count);
            Return(rentedValues, inputValues.Count);
            Return(rentedOutputNames, outputNames.Count);
            Return(rentedOutputValues, outputValues.Count);
        }
    }

    /// <summary>
    /// Runs the model on a thread-pool thread. The token terminates the native run. (ONNX Runtime's own <c>RunAsync</c> needs an
    /// intra-op thread pool and gives no cancellation, so the binding offloads the synchronous run instead.)
    /// </summary>
    /// <param name="inputs">Input values by name.</param>
    /// <param name="outputNames">The outputs to compute; <see langword="null"/> for all.</param>
    /// <param name="runOptions">Run options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Terminates the native run when cancelled.</param>
    /// <returns>The outputs; dispose them.</returns>
    public Task<SessionOutputs> RunAsync(IReadOnlyDictionary<string, OrtValue> inputs, IReadOnlyList<string>? outputNames = null, RunOptions? runOptions = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Run(inputs, outputNames, runOptions, cancellationToken), cancellationToken);

    /// <summary>Creates an IO binding for this session (see <see cref="IoBinding"/>).</summary>
    /// <returns>The binding; dispose it.</returns>
    public IoBinding CreateIoBinding()
    {
        using var guard = new HandleGuard(_handle);
        return new IoBinding(this, new IoBindingHandle(NativeMethods.CreateIoBinding(_handle.Pointer)));
    }

    /// <summary>Runs the model on the inputs and outputs bound to <paramref name="binding"/>.</summary>
    /// <param name="binding">A binding created by this session.</param>
    /// <param name="runOptions">Run options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Terminates the native run when cancelled.</param>
    public void RunWithBinding(IoBinding binding, RunOptions? runOptions = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(binding);
        if (!ReferenceEquals(binding.Session, this))
        {
            throw new ArgumentException("The IO binding belongs to another session.", nameof(binding));
        }

        using var guard = new HandleGuard(_handle);
        using var bindingGuard = new HandleGuard(binding.Handle);
        using var scope = new RunCancellationScope(runOptions, cancellationToken);
        try
        {
            NativeMethods.RunWithBinding(_handle.Pointer, scope.RunOptionsPointer, binding.Handle.Pointer);
        }
        catch (OnnxRuntimeException ex) when (cancellationToken.IsCancellationRequested)
        {
            throw RunCancellationScope.Cancelled(ex, cancellationToken);
        }
    }

    /// <summary>Ends profiling (enabled by <see cref="SessionOptions.ProfileFilePrefix"/>) and returns the trace file's path.</summary>
    /// <returns>The JSON trace file.</returns>
    public string EndProfiling()
    {
        using var guard = new HandleGuard(_handle);
        return AllocatorMemoryHandle.TakeString(NativeMethods.SessionEndProfiling(_handle.Pointer, NativeMethods.GetAllocatorWithDefaultOptions()));
    }

    /// <summary>Releases the native session (after any in-flight run returns).</summary>
    public void Dispose() => _handle.Dispose();

    internal int GetInputIndex(string name) => _inputIndex.TryGetValue(name, out int index) ? index : throw UnknownName("input", name, _inputs);

    internal int GetOutputIndex(string name) => _outputIndex.TryGetValue(name, out int index) ? index : throw UnknownName("output", name, _outputs);

    internal nint GetInputNamePointer(int index) => (nint)_inputNames.Pointers[index];

    internal nint GetOutputNamePointer(int index) => (nint)_outputNames.Pointers[index];

    private static (SessionHandle, IReadOnlyList<string>, IReadOnlyList<ExecutionProviderFallback>) Create(SessionOptions? options, Func<nint, nint, nint> create)
    {
        OnnxRuntimeEnvironment environment = OnnxRuntimeEnvironment.Instance;
        options ??= new SessionOptions();
        ILogger logger = options.Logger ?? environment.LoggerFactory.CreateLogger<InferenceSession>();
        using SessionOptionsHandle nativeOptions = options.CreateNative(logger, out var effective, out var fallbacks);
        var session = new SessionHandle(create(environment.Handle.Pointer, nativeOptions.Pointer));
        return (session, effective, fallbacks);
    }

    private static (NodeMetadata[], NodeMetadata[], Utf8StringArray, Utf8StringArray) ReadMetadata(SessionHandle handle)
    {
        try
        {
            nint allocator = NativeMethods.GetAllocatorWithDefaultOptions();
            var inputs = new NodeMetadata[(int)NativeMethods.SessionGetInputCount(handle.Pointer)];
            for (int i = 0; i < inputs.Length; i++)
            {
                string name = AllocatorMemoryHandle.TakeString(NativeMethods.SessionGetInputName(handle.Pointer, (nuint)i, allocator));
                inputs[i] = NodeMetadata.Read(name, NativeMethods.SessionGetInputTypeInfo(handle.Pointer, (nuint)i));
            }

            var outputs = new NodeMetadata[(int)NativeMethods.SessionGetOutputCount(handle.Pointer)];
            for (int i = 0; i < outputs.Length; i++)
            {
                string name = AllocatorMemoryHandle.TakeString(NativeMethods.SessionGetOutputName(handle.Pointer, (nuint)i, allocator));
                outputs[i] = NodeMetadata.Read(name, NativeMethods.SessionGetOutputTypeInfo(handle.Pointer, (nuint)i));
            }

            return (inputs, outputs, new Utf8StringArray(inputs.Select(n => n.Name).ToArray()), new Utf8StringArray(outputs.Select(n => n.Name).ToArray()));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static (Dictionary<string, int>, Dictionary<string, int>, string[]) Index(NodeMetadata[] inputs, NodeMetadata[] outputs)
    {
        var inputIndex = new Dictionary<string, int>(inputs.Length, StringComparer.Ordinal);
        for (int i = 0; i < inputs.Length; i++)
        {
            inputIndex[inputs[i].Name] = i;
        }

        var outputIndex = new Dictionary<string, int>(outputs.Length, StringComparer.Ordinal);
        for (int i = 0; i < outputs.Length; i++)
        {
            outputIndex[outputs[i].Name] = i;
        }

        return (inputIndex, outputIndex, outputs.Select(o => o.Name).ToArray());
    }

    private static ArgumentException UnknownName(string kind, string name, NodeMetadata[] known) =>
        new($"The model has no {kind} named '{name}'. Its {kind}s are: {string.Join(", ", known.Select(k => k.Name))}.", kind == "input" ? "inputNames" : "outputNames");

    /// <summary>Runs with outputs allocated by ONNX Runtime, wrapped as owned values.</summary>
    private SessionOutputs RunAllocating(ReadOnlySpan<string> inputNames, ReadOnlySpan<OrtValue> inputValues, IReadOnlyList<string>? outputNames, RunOptions? runOptions, CancellationToken cancellationToken)
    {
        // The session's own name list is immutable: share it rather than copy it for every run.
        string[] names = outputNames is null ? _outputNameList : outputNames.ToArray();
        var results = new nint[names.Length];
        RunCore(inputNames, inputValues, names, [], results, runOptions, cancellationToken);
        var values = new OrtValue?[names.Length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = new OrtValue(new ValueHandle(results[i]));
        }

        return new SessionOutputs(names, values);
    }

    /// <summary>
    /// The one path every <c>Run</c> overload takes: validates names and types, keeps every handle alive for the call, runs, and
    /// translates cancellation. Outputs are either <paramref name="outputValues"/> (preallocated, written in place) or, when that
    /// is empty, new values returned in <paramref name="results"/>. Native argument arrays live in fixed-size buffers on the stack
    /// for up to <see cref="InlineSlots"/> pointers (a variable-size stackalloc would keep the JIT from optimizing this method).
    /// </summary>
    private void RunCore(ReadOnlySpan<string> inputNames, ReadOnlySpan<OrtValue> inputValues, ReadOnlySpan<string> outputNames, ReadOnlySpan<OrtValue> outputValues, Span<nint> results, RunOptions? runOptions, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        if (inputNames.Length != inputValues.Length)
        {
            throw new ArgumentException($"{inputNames.Length} input names but {inputValues.Length} input values.", nameof(inputValues));
        }

        int inputCount = inputNames.Length;
        int outputCount = outputNames.Length;
        int slots = (2 * inputCount) + (2 * outputCount);
        PointerBuffer inline = default;
        nint[]? rented = slots > InlineSlots ? ArrayPool<nint>.Shared.Rent(slots) : null;
        Span<nint> buffer = rented is null ? inline : rented;
        BoolBuffer seenInline = default;
        bool[]? seenRented = _inputs.Length > InlineSlots ? new bool[_inputs.Length] : null;
        Span<bool> seen = seenRented ?? ((Span<bool>)seenInline)[.._inputs.Length];

        Span<nint> inNames = buffer[..inputCount];
        Span<nint> inValues = buffer.Slice(inputCount, inputCount);
        Span<nint> outNames = buffer.Slice(2 * inputCount, outputCount);
        Span<nint> outValues = outputValues.IsEmpty ? results : buffer.Slice((2 * inputCount) + outputCount, outputCount);
        int inputRefs = 0, outputRefs = 0;
        bool sessionRef = false;
        try
        {
            for (int i = 0; i < inputCount; i++)
            {
                int index = GetInputIndex(inputNames[i]);
                if (seen[index])
                {
                    throw new ArgumentException($"Input '{inputNames[i]}' is given twice.", nameof(inputNames));
                }

                seen[index] = true;
                OrtValue value = inputValues[i] ?? throw new ArgumentNullException(nameof(inputValues), $"The value of input '{inputNames[i]}' is null.");
                NodeMetadata metadata = _inputs[index];
                if (metadata.ValueType == OnnxValueType.Tensor && value.ElementType != metadata.ElementType)
                {
                    throw new ArgumentException(
                        $"Input '{metadata.Name}' expects {metadata.ElementType.GetName()}{metadata.ShapeText} but the value holds {value.ElementType.GetName()} elements.", nameof(inputValues));
                }

                inNames[i] = (nint)_inputNames.Pointers[index];
            }

            if (inputCount != _inputs.Length)
            {
                throw MissingInputs(seen, nameof(inputNames));
            }

            for (int i = 0; i < outputCount; i++)
            {
                outNames[i] = (nint)_outputNames.Pointers[GetOutputIndex(outputNames[i])];
            }

            _handle.DangerousAddRef(ref sessionRef);
            for (; inputRefs < inputCount; inputRefs++)
            {
                inValues[inputRefs] = AddRef(inputValues[inputRefs].Handle);
            }

            if (!outputValues.IsEmpty)
            {
                for (; outputRefs < outputCount; outputRefs++)
                {
                    outValues[outputRefs] = AddRef(outputValues[outputRefs].Handle);
                }
            }

            fixed (nint* names = inNames, values = inValues, outputNamePointers = outNames, outputs = outValues)
            {
                if (!cancellationToken.CanBeCanceled)
                {
                    NativeMethods.Run(_handle.Pointer, runOptions is null ? 0 : runOptions.Handle.Pointer, names, values, (nuint)inputCount, outputNamePointers, (nuint)outputCount, outputs);
                    return;
                }

                using var scope = new RunCancellationScope(runOptions, cancellationToken);
                try
                {
                    NativeMethods.Run(_handle.Pointer, scope.RunOptionsPointer, names, values, (nuint)inputCount, outputNamePointers, (nuint)outputCount, outputs);
                }
                catch (OnnxRuntimeException ex) when (cancellationToken.IsCancellationRequested)
                {
                    throw RunCancellationScope.Cancelled(ex, cancellationToken);
                }
            }
        }
        finally
        {
            for (int i = 0; i < inputRefs; i++)
            {
                inputValues[i].Handle.DangerousRelease();
            }

            for (int i = 0; i < outputRefs; i++)
            {
                outputValues[i].Handle.DangerousRelease();
            }

            if (sessionRef)
            {
                _handle.DangerousRelease();
            }

            if (rented is not null)
            {
                ArrayPool<nint>.Shared.Return(rented);
            }
        }
    }

    private const int InlineSlots = 32;

    [InlineArray(InlineSlots)]
    private struct PointerBuffer
    {
        private nint _element;
    }

    [InlineArray(InlineSlots)]
    private struct BoolBuffer
    {
        private bool _element;
    }

    private ArgumentException MissingInputs(ReadOnlySpan<bool> seen, string parameterName)
    {
        var missing = new List<string>();
        for (int i = 0; i < _inputs.Length; i++)
        {
            if (!seen[i])
            {
                missing.Add(_inputs[i].ToString());
            }
        }

        return new ArgumentException($"Missing model input(s): {string.Join("; ", missing)}.", parameterName);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nint AddRef(ValueHandle handle)
    {
        bool added = false;
        handle.DangerousAddRef(ref added);
        return handle.DangerousGetHandle();
    }

    /// <summary>A list as a span: arrays directly, anything else copied into a pooled array.</summary>
    private static ReadOnlySpan<T> AsSpan<T>(IReadOnlyList<T> list, ref T[]? rented)
    {
        if (list is T[] array)
        {
            return array;
        }

        if (list is List<T> items)
        {
            return CollectionsMarshal.AsSpan(items);
        }

        rented = ArrayPool<T>.Shared.Rent(list.Count);
        for (int i = 0; i < list.Count; i++)
        {
            rented[i] = list[i];
        }

        return rented.AsSpan(0, list.Count);
    }

    private static void Return<T>(T[]? rented, int count)
    {
        if (rented is not null)
        {
            Array.Clear(rented, 0, count);
            ArrayPool<T>.Shared.Return(rented);
        }
    }

    /// <summary>Keeps a handle from being released during a native call that uses its pointer.</summary>
    private readonly ref struct HandleGuard
    {
        private readonly System.Runtime.InteropServices.SafeHandle _handle;

        public HandleGuard(System.Runtime.InteropServices.SafeHandle handle)
        {
            bool added = false;
            handle.DangerousAddRef(ref added);
            _handle = handle;
        }

        public void Dispose() => _handle.DangerousRelease();
    }
}

/// <summary>
/// Connects a <see cref="CancellationToken"/> to a run: while the run is in flight, cancellation sets the terminate flag of the
/// run options (the caller's, or private ones), which ONNX Runtime checks between nodes.
/// </summary>
#pragma warning disable CA1001 // It is disposable; the analyzer misreads readonly structs.
internal readonly struct RunCancellationScope : IDisposable
{
    private readonly RunOptions? _owned;
    private readonly RunOptions? _callers;
    private readonly CancellationTokenRegistration _registration;
    private readonly CancellationToken _token;

    public RunCancellationScope(RunOptions? callers, CancellationToken token)
    {
        _token = token;
        _callers = callers;
        token.ThrowIfCancellationRequested();
        if (!token.CanBeCanceled)
        {
            RunOptionsPointer = callers is null ? 0 : callers.Handle.Pointer;
            return;
        }

        RunOptions target = callers ?? (_owned = new RunOptions());
        RunOptionsPointer = target.Handle.Pointer;
        _registration = token.UnsafeRegister(static state => ((RunOptions)state!).Terminate(), target);
    }

    public nint RunOptionsPointer { get; }

    public static OperationCanceledException Cancelled(OnnxRuntimeException ex, CancellationToken token) =>
        new($"The run was cancelled; ONNX Runtime stopped it ({ex.NativeMessage}).", ex, token);

    public void Dispose()
    {
        // Dispose waits for a callback in progress, so after it the flag is no longer being set.
        _registration.Dispose();
        if (_owned is not null)
        {
            _owned.Dispose();
        }
        else if (_callers is not null && _token.IsCancellationRequested && _callers.IsTerminateRequested)
        {
            _callers.ResetTerminate();
        }
    }
}
#pragma warning restore CA1001
