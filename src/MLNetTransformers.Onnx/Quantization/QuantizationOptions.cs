using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Onnx.Quantization;

/// <summary>The quantization modes.</summary>
public enum QuantizationMode
{
    /// <summary>
    /// MatMul/Gemm weights to int8, activations quantized at run time (<c>com.microsoft.DynamicQuantizeMatMul</c>); embedding
    /// tables to int8 with a scale per row (see <see cref="Int8DynamicOptions.QuantizeEmbeddings"/>).
    /// </summary>
    Int8Dynamic,

    /// <summary>QDQ format: <c>QuantizeLinear</c>/<c>DequantizeLinear</c> around MatMul/Gemm inputs with calibrated activation ranges.</summary>
    Int8Static,

    /// <summary>4-bit block-wise weight-only quantization (<c>com.microsoft.MatMulNBits</c>).</summary>
    Int4,

    /// <summary>Float16 weights and compute, float32 graph inputs and outputs.</summary>
    Float16,
}

/// <summary>Names of the modes as the command line spells them.</summary>
public static class QuantizationModes
{
    /// <summary>The short name: <c>int8</c>, <c>int8-static</c>, <c>int4</c>, <c>fp16</c>.</summary>
    /// <param name="mode">The mode.</param>
    /// <returns>The name.</returns>
    public static string Name(QuantizationMode mode) => mode switch
    {
        QuantizationMode.Int8Dynamic => "int8",
        QuantizationMode.Int8Static => "int8-static",
        QuantizationMode.Int4 => "int4",
        QuantizationMode.Float16 => "fp16",
        _ => mode.ToString(),
    };
}

/// <summary>Which nodes a quantization applies to, and what every mode shares.</summary>
public abstract class QuantizationOptions
{
    /// <summary>
    /// Node patterns the mode is restricted to (empty: every eligible node). A pattern is matched against the node's name and its
    /// output names; <c>*</c> and <c>?</c> are wildcards, and a pattern without wildcards matches any name that contains it
    /// (so <c>lm_head</c> matches <c>/model/lm_head/MatMul</c>). A node matched here that the mode cannot handle is an error.
    /// </summary>
    public IList<string> IncludeNodes { get; } = new List<string>();

    /// <summary>Node patterns (as for <see cref="IncludeNodes"/>) left as they are (kept float32).</summary>
    public IList<string> ExcludeNodes { get; } = new List<string>();

    /// <summary>The quantization mode these options are for.</summary>
    public abstract QuantizationMode Mode { get; }

    internal NodeSelection Selection => new(IncludeNodes, ExcludeNodes);
}

/// <summary>Options shared by the modes that rewrite MatMul/Gemm nodes with constant weights.</summary>
public abstract class WeightQuantizationOptions : QuantizationOptions
{
    /// <summary>The operator types to quantize: <c>MatMul</c> and/or <c>Gemm</c>. Default both.</summary>
    public ISet<string> OpTypes { get; } = new HashSet<string>(StringComparer.Ordinal) { "MatMul", "Gemm" };

    /// <summary>
    /// Keeps float the MatMul/Gemm nodes whose output is a graph output, such as a decoder's vocabulary projection
    /// (<c>lm_head</c> producing <c>logits</c>). Default false.
    /// </summary>
    public bool KeepOutputProjection { get; set; }
}

/// <summary>Options for <see cref="QuantizationMode.Int8Dynamic"/>.</summary>
public sealed class Int8DynamicOptions : WeightQuantizationOptions
{
    /// <inheritdoc/>
    public override QuantizationMode Mode => QuantizationMode.Int8Dynamic;

    /// <summary>One scale per output column of each weight instead of one per weight. Default false.</summary>
    public bool PerChannel { get; set; }

    /// <summary>
    /// Uses 7-bit weights ([-63, 63]) so that the u8×s8 kernels of CPUs without VNNI cannot saturate their 16-bit
    /// intermediate sums. Default false (full [-127, 127]).
    /// </summary>
    public bool ReduceRange { get; set; }

    /// <summary>
    /// Quantizes embedding tables too: a <c>Gather</c> of rows (axis 0) of a constant float32 [rows, columns] initializer
    /// (token and position embeddings) reads an int8 table with one symmetric scale per row instead, and only the rows it
    /// gathers are converted back (<c>Gather</c> → <c>Cast</c> → <c>Mul</c> by the gathered scales, standard operators). A
    /// table that a quantized MatMul/Gemm also reads transposed — a tied output projection, <c>MatMul(x, Transpose(wte))</c> —
    /// is stored once, as the int8 [columns, rows] weight of the projection's <c>DynamicQuantizeMatMul</c> with one scale per
    /// row of the table (whatever <see cref="PerChannel"/> says), and the embedding gathers its columns. A table is only
    /// quantized when no float32 reader of it remains (otherwise the int8 copy would add bytes): keeping the output projection
    /// float (<see cref="WeightQuantizationOptions.KeepOutputProjection"/>, or excluding it by name) keeps a tied embedding
    /// float as well. <see cref="QuantizationOptions.ExcludeNodes"/> and <see cref="QuantizationOptions.IncludeNodes"/>
    /// apply to the Gather nodes by name. Default true.
    /// </summary>
    public bool QuantizeEmbeddings { get; set; } = true;

    /// <summary>
    /// The smallest table (in values, rows × columns) that <see cref="QuantizeEmbeddings"/> quantizes on its own; smaller
    /// ones stay float32, where the bytes saved are not worth three more nodes per lookup. A table shared with a quantized
    /// output projection is quantized whatever its size. Default 65,536 (a 256 KB float32 table).
    /// </summary>
    public long MinimumEmbeddingElements { get; set; } = 65_536;
}

/// <summary>Options for <see cref="QuantizationMode.Int4"/>.</summary>
public sealed class Int4Options : WeightQuantizationOptions
{
    /// <summary>Weights per block along K (one scale, and zero point, per block): a power of two from 16 to 256. Default 32.</summary>
    public int BlockSize { get; set; } = 32;

    /// <summary>Symmetric blocks (no zero points, implicit 8) when true; per-block 4-bit zero points when false. Default true.</summary>
    public bool Symmetric { get; set; } = true;

    /// <summary>
    /// MatMulNBits <c>accuracy_level</c>: 0 unset, 1 fp32, 2 fp16, 3 bf16, 4 int8 (activations quantized per block; fastest on
    /// CPUs with int8 dot products). Default 0.
    /// </summary>
    public int AccuracyLevel { get; set; }

    /// <inheritdoc/>
    public override QuantizationMode Mode => QuantizationMode.Int4;
}

/// <summary>Options for <see cref="QuantizationMode.Int8Static"/>.</summary>
public sealed class Int8StaticOptions : WeightQuantizationOptions
{
    /// <inheritdoc/>
    public override QuantizationMode Mode => QuantizationMode.Int8Static;

    /// <summary>One weight scale per output column instead of one per weight (needs opset 13). Default false.</summary>
    public bool PerChannel { get; set; }
}

/// <summary>Options for <see cref="QuantizationMode.Float16"/>. <see cref="QuantizationOptions.ExcludeNodes"/> stay float32.</summary>
public sealed class Float16Options : QuantizationOptions
{
    /// <summary>
    /// The operators kept float32 by default: reductions and powers whose float16 results overflow or lose the precision
    /// normalization needs (RMSNorm's <c>Pow</c>/<c>ReduceMean</c>, the fused layer norms), position arithmetic
    /// (<c>Range</c>, <c>CumSum</c>, rotary <c>Sin</c>/<c>Cos</c>), and operators without float16 semantics worth having.
    /// </summary>
    public static IReadOnlyCollection<string> DefaultBlockedOpTypes { get; } =
    [
        "Pow", "ReduceMean", "LayerNormalization", "SimplifiedLayerNormalization", "SkipLayerNormalization",
        "SkipSimplifiedLayerNormalization", "Range", "CumSum", "Sin", "Cos", "TopK", "NonMaxSuppression", "Resize", "Upsample",
        "RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Multinomial", "Bernoulli", "EyeLike",
    ];

    /// <inheritdoc/>
    public override QuantizationMode Mode => QuantizationMode.Float16;

    /// <summary>Operator types kept float32 (Casts are inserted around them). Starts as <see cref="DefaultBlockedOpTypes"/>.</summary>
    public ISet<string> BlockedOpTypes { get; } = new HashSet<string>(DefaultBlockedOpTypes, StringComparer.Ordinal);

    /// <summary>Keeps float32 graph inputs and outputs, casting at the boundaries. Default true.</summary>
    public bool KeepIOTypes { get; set; } = true;
}

/// <summary>How activation ranges are taken from calibration data.</summary>
public enum CalibrationMethod
{
    /// <summary>The smallest and largest value seen.</summary>
    MinMax,

    /// <summary>The <see cref="CalibrationOptions.Percentile"/>-th percentile at each end of a histogram of the values seen.</summary>
    Percentile,
}

/// <summary>Options for calibrating activation ranges.</summary>
public sealed class CalibrationOptions
{
    /// <summary>The method. Default <see cref="CalibrationMethod.MinMax"/>.</summary>
    public CalibrationMethod Method { get; set; } = CalibrationMethod.MinMax;

    /// <summary>For <see cref="CalibrationMethod.Percentile"/>: the share of values (in percent) kept inside the range at each end. Default 99.999.</summary>
    public double Percentile { get; set; } = 99.999;

    /// <summary>Histogram bins for <see cref="CalibrationMethod.Percentile"/>. Default 2048.</summary>
    public int HistogramBins { get; set; } = 2048;

    /// <summary>Session options for the calibration runs (default: ONNX Runtime's defaults).</summary>
    public SessionOptions? SessionOptions { get; set; }
}
