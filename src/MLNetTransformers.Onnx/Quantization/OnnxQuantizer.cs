using MLNetTransformers.Onnx.Model;
using MLNetTransformers.Onnx.Protos;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Onnx.Quantization;

/// <summary>
/// Quantizes ONNX models: dynamic int8 (<c>DynamicQuantizeMatMul</c>, and int8 embedding tables), 4-bit weight-only (<c>MatMulNBits</c>), float16, and
/// static int8 in QDQ format with activation ranges calibrated on any sequence of input feeds. Every method returns a new
/// model and leaves the source as it is; the graph's inputs and outputs keep their names and types.
/// </summary>
/// <example>
/// <code>
/// using OnnxModel model = OnnxModel.Load("model.onnx");
/// var options = new Int8DynamicOptions { PerChannel = true };
/// options.ExcludeNodes.Add("lm_head");
/// using QuantizationResult result = OnnxQuantizer.QuantizeDynamicInt8(model, options);
/// result.Save("model_quantized.onnx");
/// </code>
/// </example>
public static class OnnxQuantizer
{
    /// <summary>Quantizes with the mode the options are for (static int8 needs calibration data: use <see cref="QuantizeStatic(OnnxModel, IEnumerable{IReadOnlyDictionary{string, OrtValue}}, Int8StaticOptions?, CalibrationOptions?, CancellationToken)"/>).</summary>
    /// <param name="model">The float32 model.</param>
    /// <param name="options">Options of one of the modes.</param>
    /// <param name="cancellationToken">Stops the work between nodes.</param>
    /// <returns>The quantized model and a report.</returns>
    /// <exception cref="UnsupportedModelException">A node or the opset does not support the mode.</exception>
    public static QuantizationResult Quantize(OnnxModel model, QuantizationOptions options, CancellationToken cancellationToken = default) => options switch
    {
        Int8DynamicOptions int8 => QuantizeDynamicInt8(model, int8, cancellationToken),
        Int4Options int4 => QuantizeInt4(model, int4, cancellationToken),
        Float16Options fp16 => ConvertToFloat16(model, fp16, cancellationToken),
        Int8StaticOptions => throw new ArgumentException("Static int8 quantization needs calibration data: call QuantizeStatic with input feeds or a calibration table.", nameof(options)),
        null => throw new ArgumentNullException(nameof(options)),
        _ => throw new ArgumentException($"Unknown options type {options.GetType().Name}.", nameof(options)),
    };

    /// <summary>
    /// Dynamic int8: MatMul/Gemm weights to symmetric int8, activations quantized at run time
    /// (<c>com.microsoft.DynamicQuantizeMatMul</c>), including a tied output projection <c>MatMul(x, Transpose(wte))</c>; embedding
    /// tables to int8 with per-row scales, a tied table stored once for both (see <see cref="Int8DynamicOptions.QuantizeEmbeddings"/>).
    /// </summary>
    /// <param name="model">The float32 model.</param>
    /// <param name="options">Options (default: per tensor, MatMul and Gemm, embedding tables, every eligible node).</param>
    /// <param name="cancellationToken">Stops the work between nodes.</param>
    /// <returns>The quantized model and a report.</returns>
    public static QuantizationResult QuantizeDynamicInt8(OnnxModel model, Int8DynamicOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Int8DynamicQuantizer.Quantize(model, options ?? new Int8DynamicOptions(), cancellationToken);
    }

    /// <summary>4-bit block-wise weight-only quantization of MatMul/Gemm weights (<c>com.microsoft.MatMulNBits</c>).</summary>
    /// <param name="model">The float32 model.</param>
    /// <param name="options">Options (default: block 32, symmetric).</param>
    /// <param name="cancellationToken">Stops the work between nodes.</param>
    /// <returns>The quantized model and a report.</returns>
    public static QuantizationResult QuantizeInt4(OnnxModel model, Int4Options? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Int4Quantizer.Quantize(model, options ?? new Int4Options(), cancellationToken);
    }

    /// <summary>float16 weights and compute, float32 graph inputs and outputs, a block list of operators kept float32.</summary>
    /// <param name="model">The float32 model.</param>
    /// <param name="options">Options (default: <see cref="Float16Options.DefaultBlockedOpTypes"/>, float32 I/O).</param>
    /// <param name="cancellationToken">Stops the work between nodes.</param>
    /// <returns>The converted model and a report (converted nodes, nodes kept float32 and why).</returns>
    public static QuantizationResult ConvertToFloat16(OnnxModel model, Float16Options? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Float16Converter.Convert(model, options ?? new Float16Options(), cancellationToken);
    }

    /// <summary>
    /// Calibrates the ranges of the activations static int8 quantization needs (the first inputs of the selected MatMul/Gemm
    /// nodes) by running the model over <paramref name="feeds"/>. The feeds are enumerated once; their values stay the caller's.
    /// </summary>
    /// <param name="model">The float32 model.</param>
    /// <param name="feeds">Input feeds: each maps every graph input name to a value.</param>
    /// <param name="options">The node selection (the same as for <see cref="QuantizeStatic(OnnxModel, CalibrationTable, Int8StaticOptions?, CancellationToken)"/>).</param>
    /// <param name="calibration">Method and session options (default: min-max).</param>
    /// <param name="cancellationToken">Stops between feeds and cancels the running one.</param>
    /// <returns>The ranges.</returns>
    /// <exception cref="CalibrationException">No feeds, or a feed that does not fit the model.</exception>
    public static CalibrationTable Calibrate(OnnxModel model, IEnumerable<IReadOnlyDictionary<string, OrtValue>> feeds, Int8StaticOptions? options = null, CalibrationOptions? calibration = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Calibrator.Calibrate(model, feeds, options ?? new Int8StaticOptions(), calibration ?? new CalibrationOptions(), cancellationToken);
    }

    /// <summary>Static int8 in QDQ format with the ranges of a calibration table.</summary>
    /// <param name="model">The float32 model.</param>
    /// <param name="table">Ranges from <see cref="Calibrate"/> (with the same node selection).</param>
    /// <param name="options">Options (default: per-tensor weights, MatMul and Gemm).</param>
    /// <param name="cancellationToken">Stops the work between nodes.</param>
    /// <returns>The quantized model and a report.</returns>
    public static QuantizationResult QuantizeStatic(OnnxModel model, CalibrationTable table, Int8StaticOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        return StaticQuantizer.Quantize(model, table, options ?? new Int8StaticOptions(), cancellationToken);
    }

    /// <summary>Calibrates on <paramref name="feeds"/>, then quantizes to static int8 in QDQ format.</summary>
    /// <param name="model">The float32 model.</param>
    /// <param name="feeds">Input feeds: each maps every graph input name to a value.</param>
    /// <param name="options">Options (default: per-tensor weights, MatMul and Gemm).</param>
    /// <param name="calibration">Calibration method (default: min-max).</param>
    /// <param name="cancellationToken">Stops the work.</param>
    /// <returns>The quantized model and a report.</returns>
    public static QuantizationResult QuantizeStatic(OnnxModel model, IEnumerable<IReadOnlyDictionary<string, OrtValue>> feeds, Int8StaticOptions? options = null, CalibrationOptions? calibration = null, CancellationToken cancellationToken = default)
    {
        options ??= new Int8StaticOptions();
        CalibrationTable table = Calibrate(model, feeds, options, calibration, cancellationToken);
        return QuantizeStatic(model, table, options, cancellationToken);
    }

    /// <summary>
    /// Checks that a quantized model declares the same graph inputs and outputs as the original (names, element types, ranks)
    /// and that ONNX Runtime loads it.
    /// </summary>
    /// <param name="original">The source model.</param>
    /// <param name="quantized">The quantized model.</param>
    /// <param name="sessionOptions">Options for the test load (default: ONNX Runtime's).</param>
    /// <exception cref="QuantizationException">A difference, or ONNX Runtime cannot load the model.</exception>
    public static void Verify(OnnxModel original, OnnxModel quantized, SessionOptions? sessionOptions = null)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(quantized);
        CompareValues("input", Inputs(original.Graph), Inputs(quantized.Graph));
        CompareValues("output", original.Graph.Output, quantized.Graph.Output);
        try
        {
            using var session = quantized.Path is not null
                ? new InferenceSession(quantized.Path, sessionOptions)
                : new InferenceSession(quantized.ToBytes(), sessionOptions);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new QuantizationException($"ONNX Runtime cannot load the quantized model: {ex.Message}", ex);
        }
    }

    private static IEnumerable<ValueInfoProto> Inputs(GraphProto graph)
    {
        var initializers = graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        return graph.Input.Where(i => !initializers.Contains(i.Name));
    }

    private static void CompareValues(string kind, IEnumerable<ValueInfoProto> expected, IEnumerable<ValueInfoProto> actual)
    {
        static string Describe(ValueInfoProto v) =>
            $"{v.Name}: {OnnxDataType.Name(v.Type?.TensorType?.ElemType ?? 0)} rank {v.Type?.TensorType?.Shape?.Dim.Count ?? -1}";

        string[] want = expected.Select(Describe).ToArray(), have = actual.Select(Describe).ToArray();
        if (!want.SequenceEqual(have, StringComparer.Ordinal))
        {
            string missing = string.Join(", ", want.Except(have, StringComparer.Ordinal));
            string extra = string.Join(", ", have.Except(want, StringComparer.Ordinal));
            throw new QuantizationException($"The quantized model's graph {kind}s differ from the original's: expected [{missing}], found [{extra}].");
        }
    }
}
