using Google.Protobuf;
using MLNetTransformers.Onnx.Model;
using MLNetTransformers.Onnx.Protos;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Onnx.Quantization;

/// <summary>The calibrated range of one activation tensor.</summary>
/// <param name="Min">The low end of the range to quantize with.</param>
/// <param name="Max">The high end of the range to quantize with.</param>
/// <param name="ObservedMin">The smallest value seen.</param>
/// <param name="ObservedMax">The largest value seen.</param>
/// <param name="Count">How many values were seen.</param>
public sealed record ActivationRange(float Min, float Max, float ObservedMin, float ObservedMax, long Count);

/// <summary>Activation ranges calibrated on data, by tensor name (see <see cref="OnnxQuantizer.Calibrate"/>).</summary>
public sealed class CalibrationTable
{
    /// <summary>Creates a table (for ranges computed elsewhere, or to adjust calibrated ones).</summary>
    /// <param name="method">The method the ranges come from.</param>
    /// <param name="batches">How many input feeds were run.</param>
    /// <param name="ranges">The ranges by tensor name.</param>
    public CalibrationTable(CalibrationMethod method, int batches, IReadOnlyDictionary<string, ActivationRange> ranges)
    {
        Method = method;
        Batches = batches;
        Ranges = ranges ?? throw new ArgumentNullException(nameof(ranges));
    }

    /// <summary>The method.</summary>
    public CalibrationMethod Method { get; }

    /// <summary>How many input feeds were run.</summary>
    public int Batches { get; }

    /// <summary>The ranges by tensor name.</summary>
    public IReadOnlyDictionary<string, ActivationRange> Ranges { get; }
}

/// <summary>
/// Runs a calibration copy of the model (the activations to quantize added as extra graph outputs) over input feeds and
/// collects, per tensor, min/max and (for percentiles) a histogram that widens as values arrive.
/// </summary>
internal static class Calibrator
{
    public static CalibrationTable Calibrate(OnnxModel source, IEnumerable<IReadOnlyDictionary<string, OrtValue>> feeds, Int8StaticOptions options, CalibrationOptions calibration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(feeds);
        if (calibration.Method == CalibrationMethod.Percentile && (calibration.Percentile <= 50 || calibration.Percentile > 100))
        {
            throw new ArgumentException($"The calibration percentile must be in (50, 100], not {calibration.Percentile}.", nameof(calibration));
        }

        if (calibration.HistogramBins < 16)
        {
            throw new ArgumentException($"The histogram needs at least 16 bins, not {calibration.HistogramBins}.", nameof(calibration));
        }

        var graph = new GraphEditor(source, cancellationToken);
        var (candidates, _) = MatMulCandidates.Find(graph, options, gemmNeedsUntransposedA: false);
        var targets = candidates.Select(c => c.Node.Input[0]).Where(a => graph.ConstantInitializer(a) is null).Distinct(StringComparer.Ordinal).ToList();
        var stats = targets.ToDictionary(t => t, _ => new RangeStatistics(calibration.Method == CalibrationMethod.Percentile ? calibration.HistogramBins : 0), StringComparer.Ordinal);
        if (targets.Count == 0)
        {
            return new CalibrationTable(calibration.Method, 0, new Dictionary<string, ActivationRange>());
        }

        var existing = graph.Graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (string target in targets.Where(t => !existing.Contains(t)))
        {
            graph.Graph.Output.Add(new ValueInfoProto
            {
                Name = target,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
            });
        }

        int batches = 0;
        using (InferenceSession session = CreateSession(graph.Proto, calibration.SessionOptions, cancellationToken))
        {
            foreach (IReadOnlyDictionary<string, OrtValue> feed in feeds)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ArgumentNullException.ThrowIfNull(feed);
                SessionOutputs outputs;
                try
                {
                    outputs = session.Run(feed, targets, cancellationToken: cancellationToken);
                }
                catch (OnnxRuntimeException ex)
                {
                    throw new CalibrationException($"Calibration input {batches} does not fit the model: {ex.Message}", ex);
                }

                using (outputs)
                {
                    for (int i = 0; i < targets.Count; i++)
                    {
                        stats[targets[i]].Add(outputs[i].GetTensorReadOnlySpan<float>());
                    }
                }

                batches++;
            }
        }

        if (batches == 0)
        {
            throw new CalibrationException("The calibration data is empty: static int8 quantization needs at least one input feed.");
        }

        var ranges = new Dictionary<string, ActivationRange>(StringComparer.Ordinal);
        foreach (var (name, stat) in stats)
        {
            if (stat.Count == 0)
            {
                continue;
            }

            (float low, float high) = calibration.Method == CalibrationMethod.Percentile ? stat.Percentiles(calibration.Percentile) : (stat.Min, stat.Max);
            ranges[name] = new ActivationRange(low, high, stat.Min, stat.Max, stat.Count);
        }

        return new CalibrationTable(calibration.Method, batches, ranges);
    }

    private static InferenceSession CreateSession(ModelProto proto, SessionOptions? options, CancellationToken cancellationToken)
    {
        options ??= new SessionOptions();
        if (proto.CalculateSize() < OnnxModel.ProtobufLimit)
        {
            return new InferenceSession(proto.ToByteArray(), options);
        }

        // Too large for one buffer: through a temporary file with external data.
        string directory = Directory.CreateTempSubdirectory("mlnt-calibration-").FullName;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            string path = Path.Combine(directory, "model.onnx");
            OnnxModel.FromProto(proto).Save(path, new OnnxSaveOptions { ExternalData = ExternalDataMode.Always });
            return new InferenceSession(path, options);
        }
        finally
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // The session may still map the data file on some platforms; the folder is in the temp directory.
            }
        }
    }
}

/// <summary>Min, max and count of a stream of values, plus an optional histogram that re-bins when the range grows.</summary>
internal sealed class RangeStatistics(int bins)
{
    private long[]? _counts;
    private double _low;
    private double _high;

    public float Min { get; private set; } = float.PositiveInfinity;

    public float Max { get; private set; } = float.NegativeInfinity;

    public long Count { get; private set; }

    public void Add(ReadOnlySpan<float> values)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        long count = 0;
        foreach (float v in values)
        {
            if (float.IsNaN(v))
            {
                continue;
            }

            min = MathF.Min(min, v);
            max = MathF.Max(max, v);
            count++;
        }

        if (count == 0)
        {
            return;
        }

        Min = MathF.Min(Min, min);
        Max = MathF.Max(Max, max);
        Count += count;
        if (bins > 0)
        {
            AddToHistogram(values, min, max);
        }
    }

    /// <summary>The values at the (100 - p)-th and p-th percentiles, linear inside a bin, within the observed min/max.</summary>
    public (float Low, float High) Percentiles(double percentile)
    {
        if (_counts is null || Count == 0 || percentile >= 100)
        {
            return (Min, Max);
        }

        long total = _counts.Sum();
        double tail = total * (1 - (percentile / 100));
        double width = (_high - _low) / _counts.Length;
        double low = _low, high = _high;
        double cumulative = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            if (cumulative + _counts[i] > tail)
            {
                low = _low + ((i + ((tail - cumulative) / _counts[i])) * width);
                break;
            }

            cumulative += _counts[i];
        }

        cumulative = 0;
        for (int i = _counts.Length - 1; i >= 0; i--)
        {
            if (cumulative + _counts[i] > tail)
            {
                high = _low + ((i + 1 - ((tail - cumulative) / _counts[i])) * width);
                break;
            }

            cumulative += _counts[i];
        }

        return ((float)Math.Max(low, Min), (float)Math.Min(high, Max));
    }

    private void AddToHistogram(ReadOnlySpan<float> values, float min, float max)
    {
        if (_counts is null)
        {
            _counts = new long[bins];
            _low = min;
            _high = max > min ? max : min + Math.Max(1e-6, Math.Abs(min) * 1e-6);
        }
        else if (min < _low || max > _high)
        {
            double low = Math.Min(_low, min), high = Math.Max(_high, max);
            double margin = (high - low) * 0.1;
            Rebin(min < _low ? low - margin : low, max > _high ? high + margin : high);
        }

        double scale = _counts.Length / (_high - _low);
        int last = _counts.Length - 1;
        foreach (float v in values)
        {
            if (!float.IsNaN(v))
            {
                _counts[Math.Clamp((int)((v - _low) * scale), 0, last)]++;
            }
        }
    }

    private void Rebin(double low, double high)
    {
        long[] old = _counts!;
        double oldWidth = (_high - _low) / old.Length, scale = old.Length / (high - low);
        var counts = new long[old.Length];
        for (int i = 0; i < old.Length; i++)
        {
            if (old[i] != 0)
            {
                double center = _low + ((i + 0.5) * oldWidth);
                counts[Math.Clamp((int)((center - low) * scale), 0, old.Length - 1)] += old[i];
            }
        }

        _counts = counts;
        _low = low;
        _high = high;
    }
}
