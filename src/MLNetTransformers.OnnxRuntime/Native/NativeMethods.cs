using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MLNetTransformers.OnnxRuntime.Native;

/// <summary>
/// Thin wrappers over the <c>OrtApi</c> table. Every function that returns an <c>OrtStatus*</c> goes through
/// <see cref="Check"/>, the one place where a native error becomes an <see cref="OnnxRuntimeException"/> naming the function.
/// Handles are passed as <see cref="nint"/>; lifetime is owned by the <see cref="SafeHandle"/> types in this folder.
/// </summary>
[SuppressMessage("Design", "CA1045", Justification = "Native out-parameters.")]
internal static unsafe class NativeMethods
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nint Fn(OrtApiSlot slot)
    {
        // Calling a slot the requested API version does not define would read past an older library's table.
        System.Diagnostics.Debug.Assert((int)slot < OrtApi.RequestedVersionSlotCount, $"{slot} is newer than the requested API version.");
        return OrtApi.Table[(int)slot];
    }

    /// <summary>Turns a non-null <c>OrtStatus*</c> into an exception (releasing the status); does nothing for null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Check(nint status, [CallerMemberName] string operation = "")
    {
        if (status != 0)
        {
            ThrowStatus(status, operation);
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowStatus(nint status, string operation) => throw ToException(status, operation);

    /// <summary>Reads and releases a status, returning the exception it describes.</summary>
    internal static OnnxRuntimeException ToException(nint status, string operation)
    {
        var code = (OrtErrorCode)((delegate* unmanaged<nint, int>)Fn(OrtApiSlot.GetErrorCode))(status);
        string message = Marshal.PtrToStringUTF8(((delegate* unmanaged<nint, nint>)Fn(OrtApiSlot.GetErrorMessage))(status)) ?? string.Empty;
        ((delegate* unmanaged<nint, void>)Fn(OrtApiSlot.ReleaseStatus))(status);
        return new OnnxRuntimeException(code, operation, message.Trim());
    }

    // ---- Environment ----------------------------------------------------------------------------------------------

    internal static nint CreateEnvWithCustomLogger(delegate* unmanaged<nint, int, byte*, byte*, byte*, byte*, void> logger, nint param, int level, byte* logId)
    {
        nint env;
        Check(((delegate* unmanaged<delegate* unmanaged<nint, int, byte*, byte*, byte*, byte*, void>, nint, int, byte*, nint*, nint>)Fn(OrtApiSlot.CreateEnvWithCustomLogger))(logger, param, level, logId, &env));
        return env;
    }

    internal static void UpdateEnvWithCustomLogLevel(nint env, int level) =>
        Check(((delegate* unmanaged<nint, int, nint>)Fn(OrtApiSlot.UpdateEnvWithCustomLogLevel))(env, level));

    internal static void ReleaseEnv(nint env) => ((delegate* unmanaged<nint, void>)Fn(OrtApiSlot.ReleaseEnv))(env);

    internal static void GetAvailableProviders(out byte** providers, out int count)
    {
        byte** list;
        int length;
        Check(((delegate* unmanaged<byte***, int*, nint>)Fn(OrtApiSlot.GetAvailableProviders))(&list, &length));
        providers = list;
        count = length;
    }

    internal static void ReleaseAvailableProviders(byte** providers, int count) =>
        Check(((delegate* unmanaged<byte**, int, nint>)Fn(OrtApiSlot.ReleaseAvailableProviders))(providers, count));

    /// <summary>Returns a static string owned by the library (not a status).</summary>
    internal static string GetBuildInfoString() =>
        Marshal.PtrToStringUTF8((nint)((delegate* unmanaged<byte*>)Fn(OrtApiSlot.GetBuildInfoString))()) ?? string.Empty;

    // ---- Allocator and memory info ---------------------------------------------------------------------------------

    internal static nint GetAllocatorWithDefaultOptions()
    {
        nint allocator;
        Check(((delegate* unmanaged<nint*, nint>)Fn(OrtApiSlot.GetAllocatorWithDefaultOptions))(&allocator));
        return allocator;
    }

    internal static void AllocatorFree(nint allocator, nint pointer) =>
        Check(((delegate* unmanaged<nint, nint, nint>)Fn(OrtApiSlot.AllocatorFree))(allocator, pointer));

    internal static nint CreateCpuMemoryInfo(int allocatorType, int memType)
    {
        nint info;
        Check(((delegate* unmanaged<int, int, nint*, nint>)Fn(OrtApiSlot.CreateCpuMemoryInfo))(allocatorType, memType, &info));
        return info;
    }

    internal static nint CreateMemoryInfo(byte* name, int allocatorType, int deviceId, int memType)
    {
        nint info;
        Check(((delegate* unmanaged<byte*, int, int, int, nint*, nint>)Fn(OrtApiSlot.CreateMemoryInfo))(name, allocatorType, deviceId, memType, &info));
        return info;
    }

    internal static string MemoryInfoGetName(nint info)
    {
        byte* name;
        Check(((delegate* unmanaged<nint, byte**, nint>)Fn(OrtApiSlot.MemoryInfoGetName))(info, &name));
        return Marshal.PtrToStringUTF8((nint)name) ?? string.Empty;
    }

    internal static int MemoryInfoGetId(nint info)
    {
        int id;
        Check(((delegate* unmanaged<nint, int*, nint>)Fn(OrtApiSlot.MemoryInfoGetId))(info, &id));
        return id;
    }

    internal static int MemoryInfoGetDeviceType(nint info)
    {
        int type;
        ((delegate* unmanaged<nint, int*, void>)Fn(OrtApiSlot.MemoryInfoGetDeviceType))(info, &type);
        return type;
    }

    internal static int MemoryInfoGetMemType(nint info)
    {
        int type;
        Check(((delegate* unmanaged<nint, int*, nint>)Fn(OrtApiSlot.MemoryInfoGetMemType))(info, &type));
        return type;
    }

    internal static void ReleaseMemoryInfo(nint info) => ((delegate* unmanaged<nint, void>)Fn(OrtApiSlot.ReleaseMemoryInfo))(info);

    // ---- Session options -------------------------------------------------------------------------------------------

    internal static nint CreateSessionOptions()
    {
        nint options;
        Check(((delegate* unmanaged<nint*, nint>)Fn(OrtApiSlot.CreateSessionOptions))(&options));
        return options;
    }

    internal static void ReleaseSessionOptions(nint options) => ((delegate* unmanaged<nint, void>)Fn(OrtApiSlot.ReleaseSessionOptions))(options);

    internal static void SetSessionGraphOptimizationLevel(nint options, int level) =>
        Check(((delegate* unmanaged<nint, int, nint>)Fn(OrtApiSlot.SetSessionGraphOptimizationLevel))(options, level));

    internal static void SetIntraOpNumThreads(nint options, int threads) =>
        Check(((delegate* unmanaged<nint, int, nint>)Fn(OrtApiSlot.SetIntraOpNumThreads))(options, threads));

    internal static void SetInterOpNumThreads(nint options, int threads) =>
        Check(((delegate* unmanaged<nint, int, nint>)Fn(OrtApiSlot.SetInterOpNumThreads))(options, threads));

    internal static void SetSessionExecutionMode(nint options, int mode) =>
        Check(((delegate* unmanaged<nint, int, nint>)Fn(OrtApiSlot.SetSessionExecutionMode))(options, mode));

    internal static void EnableMemPattern(nint options) => Check(((delegate* unmanaged<nint, nint>)Fn(OrtApiSlot.EnableMemPattern))(options));

    internal static void DisableMemPattern(nint options) => Check(((delegate* unmanaged<nint, nint>)Fn(OrtApiSlot.DisableMemPattern))(options));

    internal static void EnableCpuMemArena(nint options) => Check(((delegate* unmanaged<nint, nint>)Fn(OrtApiSlot.EnableCpuMemArena))(options));

    internal static void DisableCpuMemArena(nint options) => Check(((delegate* unmanaged<nint, nint>)Fn(OrtApiSlot.DisableCpuMemArena))(options));

    internal static void EnableProfiling(nint options, byte* prefix) =>
        Check(((delegate* unmanaged<nint, byte*, nint>)Fn(OrtApiSlot.EnableProfiling))(options, prefix));

    internal static void SetOptimizedModelFilePath(nint options, byte* path) =>
        Check(((delegate* unmanaged<nint, byte*, nint>)Fn(OrtApiSlot.SetOptimizedModelFilePath))(options, path));

    internal static void SetSessionLogId(nint options, byte* logId) =>
        Check(((delegate* unmanaged<nint, byte*, nint>)Fn(OrtApiSlot.SetSessionLogId))(options, logId));

    internal static void SetSessionLogSeverityLevel(nint options, int level) =>
        Check(((delegate* unmanaged<nint, int, nint>)Fn(OrtApiSlot.SetSessionLogSeverityLevel))(options, level));

    internal static void AddSessionConfigEntry(nint options, byte* key, byte* value) =>
        Check(((delegate* unmanaged<nint, byte*, byte*, nint>)Fn(OrtApiSlot.AddSessionConfigEntry))(options, key, value));

    internal static void AddFreeDimensionOverrideByName(nint options, byte* name, long value) =>
        Check(((delegate* unmanaged<nint, byte*, long, nint>)Fn(OrtApiSlot.AddFreeDimensionOverrideByName))(options, name, value));

    internal static void AddFreeDimensionOverride(nint options, byte* denotation, long value) =>
        Check(((delegate* unmanaged<nint, byte*, long, nint>)Fn(OrtApiSlot.AddFreeDimensionOverride))(options, denotation, value));

    // ---- Execution providers ---------------------------------------------------------------------------------------

    internal static nint CreateCUDAProviderOptions()
    {
        nint options;
        Check(((delegate* unmanaged<nint*, nint>)Fn(OrtApiSlot.CreateCUDAProviderOptions))(&options));
        return options;
    }

    internal static void UpdateCUDAProviderOptions(nint options, byte** keys, byte** values, nuint count) =>
        Check(((delegate* unmanaged<nint, byte**, byte**, nuint, nint>)Fn(OrtApiSlot.UpdateCUDAProviderOptions))(options, keys, values, count));

    internal static void SessionOptionsAppendExecutionProvider_CUDA_V2(nint sessionOptions, nint cudaOptions) =>
        Check(((delegate* unmanaged<nint, nint, nint>)Fn(OrtApiSlot.SessionOptionsAppendExecutionProvider_CUDA_V2))(sessionOptions, cudaOptions));

    internal static void ReleaseCUDAProviderOptions(nint options) => ((delegate* unmanaged<nint, void>)Fn(OrtApiSlot.ReleaseCUDAProviderOptions))(options);

    internal static nint CreateTensorRTProviderOptions()
    {
        nint options;
        Check(((delegate* unmanaged<nint*, nint>)Fn(OrtApiSlot.CreateTensorRTProviderOptions))(&options));
        return options;
    }

    internal static void UpdateTensorRTProviderOptions(nint options, byte** keys, byte** values, nuint count) =>
        Check(((delegate* unmanaged<nint, byte**, byte**, nuint, nint>)Fn(OrtApiSlot.UpdateTensorRTProviderOptions))(options, keys, values, count));

    internal static void SessionOptionsAppendExecutionProvider_TensorRT_V2(nint sessionOptions, nint tensorRtOptions) =>
        Check(((delegate* unmanaged<nint, nint, nint>)Fn(OrtApiSlot.SessionOptionsAppendExecutionProvider_TensorRT_V2))(sessionOptions, tensorRtOptions));

    internal static void ReleaseTensorRTProviderOptions(nint options) => ((delegate* unmanaged<nint, void>)Fn(OrtApiSlot.ReleaseTensorRTProviderOptions))(options);

    internal static void SessionOptionsAppendExecutionProvider(nint sessionOptions, byte* name, byte** keys, byte** values, nuint count) =>
        Check(((delegate* unmanaged<nint, byte*, byte**, byte**, nuint, nint>)Fn(OrtApiSlot.SessionOptionsAppendExecutionProvider))(sessionOptions, name, keys, values, count));

    // ---- Sessions --------------------------------------------------------------------------------------------------

    internal static nint CreateSession(nint env, byte* modelPath, nint options)
    {
        nint session;
        Check(((delegate* unmanaged<nint, byte*, nint, nint*, nint>)Fn(OrtApiSlot.CreateSession))(env, modelPath, options, &session));
        return session;
    }

    internal static nint CreateSessionFromArray(nint env, byte* model, nuint length, nint options)
    {
        nint session;
        Check(((delegate* unmanaged<nint, byte*, nuint, nint, nint*, nint>)Fn(OrtApiSlot.CreateSessionFromArray))(env, model, length, options, &session));
        return session;
    }

    internal static void ReleaseSession(nint session) => ((delegate* unmanaged<nint, void>)Fn(OrtApiSlot.ReleaseSession))(session);

    internal static nuint SessionGetInputCount(nint session)
    {
        nuint count;
        Check(((delegate* unmanaged<nint, nuint*, nint>)Fn(OrtApiSlot.SessionGetInputCount))(session, &count));
        return count;
    }

    internal static nuint SessionGetOutputCount(nint session)
    {
        nuint count;
        Check(((delegate* unmanaged<nint, nuint*, nint>)Fn(OrtApiSlot.SessionGetOutputCount))(session, &count));
        return count;
    }

    internal static nint SessionGetInputName(nint session, nuint index, nint allocator)
    {
        nint name;
        Check(((delegate* unmanaged<nint, nuint, nint, nint*, nint>)Fn(OrtApiSlot.SessionGetInputName))(session, index, allocator, &name));
        return name;
    }

    internal static nint SessionGetOutputName(nint session, nuint index, nint allocator)
    {
        nint name;
        Check(((delegate* unmanaged<nint, nuint, nint, nint*, nint>)Fn(OrtApiSlot.SessionGetOutputName))(session, index, allocator, &name));
        return name;
    }

    internal static nint SessionGetInputTypeInfo(nint session, nuint index)
    {
        nint info;
        Check(((delegate* unmanaged<nint, nuint, nint*, nint>)Fn(OrtApiSlot.SessionGetInputTypeInfo))(session, index, &info));
        return info;
    }

    internal static nint SessionGetOutputTypeInfo(nint session, nuint index)
    {
        nint info;
        Check(((delegate* unmanaged<nint, nuint, nint*, nint>)Fn(OrtApiSlot.SessionGetOutputTypeInfo))(session, index, &info));
        return info;
    }

    internal static nint SessionEndProfiling(nint session, nint allocator)
    {
        nint path;
        Check(((delegate* unmanaged<nint, nint, nint*, nint>)Fn(OrtApiSlot.SessionEndProfiling))(session, allocator, &path));
        return path;
    }

    internal static nint SessionGetModelMetadata(nint session)
    {
        nint metadata;
        Check(((delegate* unmanaged<nint, nint*, nint>)Fn(OrtApiSlot.SessionGetModelMetadata))(session, &metadata));
        return metadata;
    }

    internal static nint ModelMetadataGetProducerName(nint metadata, nint allocator) => MetadataString(OrtApiSlot.ModelMetadataGetProducerName, metadata, allocator);

    internal static nint ModelMetadataGetGraphName(nint metadata, nint allocator) => MetadataString(OrtApiSlot.ModelMetadataGetGraphName, metadata, allocator);

    internal static nint ModelMetadataGetDomain(nint metadata, nint allocator) => MetadataString(OrtApiSlot.ModelMetadataGetDomain, metadata, allocator);

    internal static nint ModelMetadataGetDescription(nint metadata, nint allocator) => MetadataString(OrtApiSlot.ModelMetadataGetDescription, metadata, allocator);

    private static nint MetadataString(OrtApiSlot slot, nint metadata, nint allocator, [CallerMemberName] string operation = "")
    {
        nint value;
        Check(((delegate* unmanaged<nint, nint, nint*, nint>)Fn(slot))(metadata, allocator, &value), operation);
        return value;
    }

    internal static long ModelMetadataGetVersion(nint metadata)
    {
        long version;
        Check(((delegate* unmanaged<nint, long*, nint>)Fn(OrtApiSlot.ModelMetadataGetVersion))(metadata, &version));
        return version;
    }

    internal static nint ModelMetadataGetCustomMetadataMapKeys(nint metadata, nint allocator, out long count)
    {
        nint keys;
        long n;
        Check(((delegate* unmanaged<nint, nint, nint*, long*, nint>)Fn(OrtApiSlot.ModelMetadataGetCustomMetadataMapKeys))(metadata, allocator, &keys, &n));
        count = n;
        return keys;
    }

    internal static nint ModelMetadataLookupCustomMetadataMap(nint metadata, nint allocator, byte* key)
    {
        nint value;
        Check(((delegate* unmanaged<nint, nint, byte*, nint*, nint>)Fn(OrtApiSlot.ModelMetadataLookupCustomMetadataMap))(metadata, allocator, key, &value));
        return value;
    }

    internal static void ReleaseModelMetadata(nint metadata) => ((delegate* unmanaged<nint, void>)Fn(OrtApiSlot.ReleaseModelMetadata))(metadata);

    internal static void Run(nint session, nint runOptions, nint* inputNames, nint* inputs, nuint inputCount, nint* outputNames, nuint outputCount, nint* outputs) =>
        Check(((delegate* unmanaged<nint, nint, nint*, nint*, nuint, nint*, nuint, nint*, nint>)Fn(OrtApiSlot.Run))(session, runOptions, inputNames, inputs, inputCount, outputNames, outputCount, outputs));

    // ---- Type information ------------------------------------------------------------------------------------------

    internal static int GetOnnxTypeFromTypeInfo(nint typeInfo)
    {
        int type;
        Check(((delegate* unmanaged<nint, int*, nint>)Fn(OrtApiSlot.GetOnnxTypeFromTypeInfo))(typeInfo, &type));
        return type;
    }

    internal static nint CastTypeInfoToTensorInfo(nint typeInfo)
    {
        nint tensorInfo;
        Check(((delegate* unmanaged<nint, nint*, nint>)Fn(OrtApiSlot.CastTypeInfoToTensorInfo))(typeInfo, &tensorInfo));
        return tensorInfo;
    }

    internal static void ReleaseTypeInfo(nint typeInfo) => ((delegate* unmanaged<nint, void>)Fn(OrtApiSlot.ReleaseTypeInfo))(typeInfo);

    internal static int GetTensorElementType(nint tensorInfo)
    {
        int type;
        Check(((delegate* unmanaged<nint, int*, nint>)Fn(OrtApiSlot.GetTensorElementType))(tensorInfo, &type));
        return type;
    }

    internal static nuint GetDimensionsCount(nint tensorInfo)
    {
        nuint count;
        Check(((delegate* unmanaged<nint, nuint*, nint>)Fn(OrtApiSlot.GetDimensionsCount))(tensorInfo, &count));
        return count;
    }

    internal static void GetDimensions(nint tensorInfo, long* dims, nuint count) =>
        Check(((delegate* unmanaged<nint, long*, nuint, nint>)Fn(OrtApiSlot.GetDimensions))(tensorInfo, dims, count));

    internal static void GetSymbolicDimensions(nint tensorInfo, byte** names, nuint count) =>
        Check(((delegate* unmanaged<nint, byte**, nuint, nint>)Fn(OrtApiSlot.GetSymbolicDimensions))(tensorInfo, names, count));

    internal static nuint GetTensorShapeElementCount(nint tensorInfo)
    {
        nuint count;
        Check(((delegate* unmanaged<nint, nuint*, nint>)Fn(OrtApiSlot.GetTensorShapeElementCount))(tensorInfo, &count));
        return count;
    }

    internal static void ReleaseTensorTypeAndShapeInfo(nint tensorInfo) =>
        ((delegate* unmanaged<nint, void>)Fn(OrtApiSlot.ReleaseTensorTypeAndShapeInfo))(tensorInfo);

    // ---- Values ----------------------------------------------------------------------------------------------------

    internal static nint CreateTensorAsOrtValue(nint allocator, long* shape, nuint rank, int elementType)
    {
        nint value;
        Check(((delegate* unmanaged<nint, long*, nuint, int, nint*, nint>)Fn(OrtApiSlot.CreateTensorAsOrtValue))(allocator, shape, rank, elementType, &value));
        return value;
    }

    internal static nint CreateTensorWithDataAsOrtValue(nint memoryInfo, void* data, nuint byteLength, long* shape, nuint rank, int elementType)
    {
        nint value;
        Check(((delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint>)Fn(OrtApiSlot.CreateTensorWithDataAsOrtValue))(memoryInfo, data, byteLength, shape, rank, elementType, &value));
        return value;
    }

    internal static void ReleaseValue(nint value) => ((delegate* unmanaged<nint, void>)Fn(OrtApiSlot.ReleaseValue))(value);

    internal static int GetValueType(nint value)
    {
        int type;
        Check(((delegate* unmanaged<nint, int*, nint>)Fn(OrtApiSlot.GetValueType))(value, &type));
        return type;
    }

    internal static bool IsTensor(nint value)
    {
        int isTensor;
        Check(((delegate* unmanaged<nint, int*, nint>)Fn(OrtApiSlot.IsTensor))(value, &isTensor));
        return isTensor != 0;
    }

    internal static void* GetTensorMutableData(nint value)
    {
        void* data;
        Check(((delegate* unmanaged<nint, void**, nint>)Fn(OrtApiSlot.GetTensorMutableData))(value, &data));
        return data;
    }

    internal static nint GetTensorTypeAndShape(nint value)
    {
        nint info;
        Check(((delegate* unmanaged<nint, nint*, nint>)Fn(OrtApiSlot.GetTensorTypeAndShape))(value, &info));
        return info;
    }

    internal static nint GetTensorMemoryInfo(nint value)
    {
        nint info;
        Check(((delegate* unmanaged<nint, nint*, nint>)Fn(OrtApiSlot.GetTensorMemoryInfo))(value, &info));
        return info;
    }

    internal static void FillStringTensor(nint value, byte** strings, nuint count) =>
        Check(((delegate* unmanaged<nint, byte**, nuint, nint>)Fn(OrtApiSlot.FillStringTensor))(value, strings, count));

    internal static nuint GetStringTensorDataLength(nint value)
    {
        nuint length;
        Check(((delegate* unmanaged<nint, nuint*, nint>)Fn(OrtApiSlot.GetStringTensorDataLength))(value, &length));
        return length;
    }

    internal static void GetStringTensorContent(nint value, byte* data, nuint dataLength, nuint* offsets, nuint offsetCount) =>
        Check(((delegate* unmanaged<nint, byte*, nuint, nuint*, nuint, nint>)Fn(OrtApiSlot.GetStringTensorContent))(value, data, dataLength, offsets, offsetCount));

    internal static byte* GetResizedStringTensorElementBuffer(nint value, nuint index, nuint byteLength)
    {
        byte* buffer;
        Check(((delegate* unmanaged<nint, nuint, nuint, byte**, nint>)Fn(OrtApiSlot.GetResizedStringTensorElementBuffer))(value, index, byteLength, &buffer));
        return buffer;
    }

    // ---- Run options -----------------------------------------------------------------------------------------------

    internal static nint CreateRunOptions()
    {
        nint options;
        Check(((delegate* unmanaged<nint*, nint>)Fn(OrtApiSlot.CreateRunOptions))(&options));
        return options;
    }

    internal static void ReleaseRunOptions(nint options) => ((delegate* unmanaged<nint, void>)Fn(OrtApiSlot.ReleaseRunOptions))(options);

    internal static void RunOptionsSetRunTag(nint options, byte* tag) =>
        Check(((delegate* unmanaged<nint, byte*, nint>)Fn(OrtApiSlot.RunOptionsSetRunTag))(options, tag));

    internal static void RunOptionsSetRunLogSeverityLevel(nint options, int level) =>
        Check(((delegate* unmanaged<nint, int, nint>)Fn(OrtApiSlot.RunOptionsSetRunLogSeverityLevel))(options, level));

    internal static void RunOptionsSetTerminate(nint options) => Check(((delegate* unmanaged<nint, nint>)Fn(OrtApiSlot.RunOptionsSetTerminate))(options));

    internal static void RunOptionsUnsetTerminate(nint options) => Check(((delegate* unmanaged<nint, nint>)Fn(OrtApiSlot.RunOptionsUnsetTerminate))(options));

    internal static void AddRunConfigEntry(nint options, byte* key, byte* value) =>
        Check(((delegate* unmanaged<nint, byte*, byte*, nint>)Fn(OrtApiSlot.AddRunConfigEntry))(options, key, value));

    // ---- IO binding ------------------------------------------------------------------------------------------------

    internal static nint CreateIoBinding(nint session)
    {
        nint binding;
        Check(((delegate* unmanaged<nint, nint*, nint>)Fn(OrtApiSlot.CreateIoBinding))(session, &binding));
        return binding;
    }

    internal static void ReleaseIoBinding(nint binding) => ((delegate* unmanaged<nint, void>)Fn(OrtApiSlot.ReleaseIoBinding))(binding);

    internal static void BindInput(nint binding, byte* name, nint value) =>
        Check(((delegate* unmanaged<nint, byte*, nint, nint>)Fn(OrtApiSlot.BindInput))(binding, name, value));

    internal static void BindOutput(nint binding, byte* name, nint value) =>
        Check(((delegate* unmanaged<nint, byte*, nint, nint>)Fn(OrtApiSlot.BindOutput))(binding, name, value));

    internal static void BindOutputToDevice(nint binding, byte* name, nint memoryInfo) =>
        Check(((delegate* unmanaged<nint, byte*, nint, nint>)Fn(OrtApiSlot.BindOutputToDevice))(binding, name, memoryInfo));

    internal static void GetBoundOutputNames(nint binding, nint allocator, out byte* buffer, out nuint* lengths, out nuint count)
    {
        byte* b;
        nuint* l;
        nuint c;
        Check(((delegate* unmanaged<nint, nint, byte**, nuint**, nuint*, nint>)Fn(OrtApiSlot.GetBoundOutputNames))(binding, allocator, &b, &l, &c));
        buffer = b;
        lengths = l;
        count = c;
    }

    internal static void GetBoundOutputValues(nint binding, nint allocator, out nint* values, out nuint count)
    {
        nint* v;
        nuint c;
        Check(((delegate* unmanaged<nint, nint, nint**, nuint*, nint>)Fn(OrtApiSlot.GetBoundOutputValues))(binding, allocator, &v, &c));
        values = v;
        count = c;
    }

    internal static void ClearBoundInputs(nint binding) => ((delegate* unmanaged<nint, void>)Fn(OrtApiSlot.ClearBoundInputs))(binding);

    internal static void ClearBoundOutputs(nint binding) => ((delegate* unmanaged<nint, void>)Fn(OrtApiSlot.ClearBoundOutputs))(binding);

    internal static void SynchronizeBoundInputs(nint binding) => Check(((delegate* unmanaged<nint, nint>)Fn(OrtApiSlot.SynchronizeBoundInputs))(binding));

    internal static void SynchronizeBoundOutputs(nint binding) => Check(((delegate* unmanaged<nint, nint>)Fn(OrtApiSlot.SynchronizeBoundOutputs))(binding));

    internal static void RunWithBinding(nint session, nint runOptions, nint binding) =>
        Check(((delegate* unmanaged<nint, nint, nint, nint>)Fn(OrtApiSlot.RunWithBinding))(session, runOptions, binding));
}
