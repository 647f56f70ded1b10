using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MLNetTransformers.Generation;
using MLNetTransformers.Onnx.Model;
using MLNetTransformers.Onnx.Protos;
using MLNetTransformers.OnnxRuntime;
using MLNetTransformers.Tokenizers;

namespace MLNetTransformers.Cli.Commands;

/// <summary>How <c>mlnt quantize --eval</c> compares the models: perplexity for causal decoders, output cosine for the rest.</summary>
internal enum EvaluationKind
{
    /// <summary>A causal decoder (past_key_values inputs, or a *ForCausalLM / *LMHeadModel config, with a logits output): perplexity.</summary>
    Decoder,

    /// <summary>Any other model fed from token ids (an encoder): cosine similarity of the first output, line by line.</summary>
    Encoder,
}

/// <summary>The <c>--eval*</c> options of <c>mlnt quantize</c>.</summary>
/// <param name="File">The text file.</param>
/// <param name="MaxTokens">Tokens to evaluate at most.</param>
/// <param name="Window">Decoders: the perplexity window; encoders: tokens per line at most; null for the defaults.</param>
/// <param name="Runs">Timed forward passes per model.</param>
internal sealed record EvaluationSettings(string File, int MaxTokens, int? Window, int Runs);

/// <summary>The tokenized evaluation data, prepared before quantizing so that a bad file fails before anything is written.</summary>
internal sealed class EvaluationData
{
    public required EvaluationKind Kind { get; init; }

    public required string File { get; init; }

    /// <summary>Decoders: the perplexity window. Encoders: tokens per line at most.</summary>
    public required int Window { get; init; }

    /// <summary>Decoders: the token stream (<c>[bos] + line + [eos]</c> per line), cut to the token budget.</summary>
    public int[] Stream { get; init; } = [];

    /// <summary>Encoders: the tokenized lines (with the tokenizer's special tokens), within the token budget.</summary>
    public IReadOnlyList<int[]> Lines { get; init; } = [];

    /// <summary>The ids of the fixed forward pass whose latency is measured.</summary>
    public required int[] LatencyIds { get; init; }

    public required int Runs { get; init; }

    public ModelConfig? Config { get; init; }

    /// <summary>Encoders: the graph inputs to fill.</summary>
    public IReadOnlyList<ValueInfoProto> Inputs { get; init; } = [];

    /// <summary>The tokens evaluated: the stream's length (decoders) or the lines' total (encoders).</summary>
    public int Tokens => Kind == EvaluationKind.Decoder ? Stream.Length : Lines.Sum(l => l.Length);
}

/// <summary>What was measured on one model.</summary>
/// <param name="Perplexity">Decoders: the perplexity on the file; null for encoders.</param>
/// <param name="MeanNll">Decoders: the mean negative log-likelihood per predicted token (nats).</param>
/// <param name="LatencyMedianMs">The median forward latency in milliseconds.</param>
/// <param name="LatencyMinMs">The fastest forward pass in milliseconds.</param>
internal sealed record ModelMeasurement(double? Perplexity, double? MeanNll, double LatencyMedianMs, double LatencyMinMs);

/// <summary>The side-by-side result of <c>--eval</c>.</summary>
internal sealed record EvaluationReport(
    EvaluationData Data,
    ModelMeasurement Original,
    ModelMeasurement Quantized,
    long PredictedTokens,
    string? ComparedOutput,
    double? MeanCosine,
    double? MinCosine,
    double Seconds)
{
    /// <summary><c>(quantized - original) / original</c> perplexity; null for encoders.</summary>
    public double? RelativePerplexityChange =>
        Original.Perplexity is { } before && Quantized.Perplexity is { } after ? (after - before) / before : null;

    /// <summary>Original median latency over the quantized one.</summary>
    public double Speedup => Original.LatencyMedianMs / Math.Max(Quantized.LatencyMedianMs, 1e-9);
}

/// <summary>
/// <c>mlnt quantize --eval F</c>: runs the original and the quantized model on the same data and reports, side by side, file size,
/// parameter bytes, perplexity on F (decoders, by the reference procedure of <see cref="PerplexityEvaluator"/>) or the mean cosine
/// similarity of the first output over F's lines (encoders), and the median latency of one fixed forward pass.
/// </summary>
internal static class QuantizationEvaluation
{
    /// <summary>The default token budget of <c>--eval-max-tokens</c>.</summary>
    public const int DefaultMaxTokens = 4096;

    /// <summary>The default perplexity window (the reference procedure's), capped at the model's positions.</summary>
    public const int DefaultWindow = 256;

    /// <summary>The default number of timed forward passes per model.</summary>
    public const int DefaultRuns = 10;

    /// <summary>Tokens of the forward pass whose latency is measured (fewer when the window is smaller).</summary>
    public const int LatencyTokens = 64;

    /// <summary>Untimed forward passes per model before the timed ones.</summary>
    public const int WarmupRuns = 3;

    /// <summary>Tokens per line for encoders without max_position_embeddings in config.json.</summary>
    private const int DefaultEncoderLength = 512;

    /// <summary>Whether the model is a causal decoder: logits, input_ids, and past_key_values inputs or a causal-LM config.</summary>
    public static bool IsDecoder(IReadOnlyList<ValueInfoProto> inputs, IEnumerable<ValueInfoProto> outputs, ModelConfig? config)
    {
        if (!outputs.Any(o => o.Name == DecoderSignature.LogitsName) || !inputs.Any(i => i.Name == DecoderSignature.InputIdsName))
        {
            return false;
        }

        return inputs.Any(i => i.Name.StartsWith("past_key_values.", StringComparison.Ordinal))
            || (config?.Architectures.Any(a => a.EndsWith("ForCausalLM", StringComparison.Ordinal) || a.EndsWith("LMHeadModel", StringComparison.Ordinal)) ?? false);
    }

    /// <summary>Reads and tokenizes the evaluation file.</summary>
    /// <exception cref="CliException">The file is missing or has no tokens, or a window is out of range (exit code 2).</exception>
    public static EvaluationData Prepare(OnnxModel source, Tokenizer tokenizer, ModelConfig? config, EvaluationSettings settings, CancellationToken cancellationToken)
    {
        string file = Path.GetFullPath(settings.File);
        if (!File.Exists(file))
        {
            throw new CliException($"--eval: no such file: {file}");
        }

        var inputs = source.Graph.Input.Where(i => !source.Graph.Initializer.Any(t => t.Name == i.Name)).ToArray();
        int? maxPositions = config?.MaxPositionEmbeddings;
        if (settings.Window is { } explicitWindow && maxPositions is { } positions && explicitWindow > positions)
        {
            throw new CliException($"--eval-window: {explicitWindow} is longer than the model's max_position_embeddings ({positions}, config.json).");
        }

        string[] lines = PerplexityCommand.ReadLines(file);
        if (IsDecoder(inputs, source.Graph.Output, config))
        {
            int window = settings.Window ?? Math.Min(DefaultWindow, maxPositions ?? DefaultWindow);
            // Line by line, so that only what the budget needs is tokenized; the same stream as one BuildTokenStream call, cut.
            var tokens = new List<int>();
            foreach (string line in lines)
            {
                tokens.AddRange(PerplexityEvaluator.BuildTokenStream(tokenizer, [line], cancellationToken: cancellationToken));
                if (tokens.Count >= settings.MaxTokens)
                {
                    break;
                }
            }

            int[] stream = tokens.Take(settings.MaxTokens).ToArray();

            if (stream.Length < 2)
            {
                throw new CliException($"--eval: {file} has no tokens to evaluate ({(stream.Length == 0 ? "it is empty" : "one token")}).");
            }

            return new EvaluationData
            {
                Kind = EvaluationKind.Decoder,
                File = file,
                Window = window,
                Stream = stream,
                LatencyIds = Cycle(stream, Math.Min(LatencyTokens, window)),
                Runs = settings.Runs,
                Config = config,
            };
        }

        foreach (ValueInfoProto input in inputs)
        {
            if (!QuantizeCommand.IsKnownInput(input.Name))
            {
                throw new CliException($"--eval: the model has an input '{input.Name}' that evaluation from text cannot fill (known: input_ids, attention_mask, position_ids, token_type_ids, past_key_values.*).");
            }
        }

        if (!inputs.Any(i => i.Name == DecoderSignature.InputIdsName))
        {
            throw new CliException($"--eval: the model has no '{DecoderSignature.InputIdsName}' input, so it cannot be evaluated on text.");
        }

        int length = settings.Window ?? maxPositions ?? DefaultEncoderLength;
        var encoded = new List<int[]>();
        int total = 0;
        foreach (string line in lines.Where(l => !string.IsNullOrWhiteSpace(l)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            int[] ids = tokenizer.Encode(line).Ids.Take(Math.Min(length, settings.MaxTokens - total)).ToArray();
            if (ids.Length == 0)
            {
                continue;
            }

            encoded.Add(ids);
            total += ids.Length;
            if (total >= settings.MaxTokens)
            {
                break;
            }
        }

        if (encoded.Count == 0)
        {
            throw new CliException($"--eval: {file} has no tokens to evaluate (it needs at least one non-empty line).");
        }

        return new EvaluationData
        {
            Kind = EvaluationKind.Encoder,
            File = file,
            Window = length,
            Lines = encoded,
            LatencyIds = Cycle(encoded.SelectMany(l => l).ToArray(), Math.Min(LatencyTokens, length)),
            Runs = settings.Runs,
            Config = config,
            Inputs = inputs,
        };
    }

    /// <summary>Runs both models on the data: perplexity or cosine similarity, then interleaved timed forward passes.</summary>
    public static EvaluationReport Run(string originalFile, string quantizedFile, EvaluationData data, int? threads, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        using var original = new InferenceSession(originalFile, new SessionOptions { IntraOpThreads = threads });
        using var quantized = new InferenceSession(quantizedFile, new SessionOptions { IntraOpThreads = threads });
        if (data.Kind == EvaluationKind.Decoder)
        {
            DecoderSignature originalSignature = Signature(original, data.Config);
            DecoderSignature quantizedSignature = Signature(quantized, data.Config);
            var options = new PerplexityOptions { Window = data.Window };
            PerplexityResult before = new PerplexityEvaluator(original, originalSignature).Evaluate(data.Stream, options, cancellationToken: cancellationToken);
            PerplexityResult after = new PerplexityEvaluator(quantized, quantizedSignature).Evaluate(data.Stream, options, cancellationToken: cancellationToken);
            long[] ids = Array.ConvertAll(data.LatencyIds, i => (long)i);
            using var originalFeeds = DecoderInputs.CreateWithEmptyPast(originalSignature, ids);
            using var quantizedFeeds = DecoderInputs.CreateWithEmptyPast(quantizedSignature, ids);
            var (originalTimes, quantizedTimes) = Time(original, originalFeeds.Feeds, quantized, quantizedFeeds.Feeds, data.Runs, cancellationToken);
            return new EvaluationReport(
                data,
                new ModelMeasurement(before.Perplexity, before.MeanNll, Median(originalTimes), originalTimes.Min()),
                new ModelMeasurement(after.Perplexity, after.MeanNll, Median(quantizedTimes), quantizedTimes.Min()),
                before.PredictedTokens,
                null,
                null,
                null,
                stopwatch.Elapsed.TotalSeconds);
        }

        string output = original.OutputNames[0];
        if (!quantized.OutputNames.Contains(output))
        {
            throw new CliException($"--eval: the quantized model has no output '{output}' (the original's first output).", ExitCodes.Failure);
        }

        string[] outputNames = [output];
        double sum = 0, min = double.PositiveInfinity;
        foreach (int[] line in data.Lines)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Dictionary<string, OrtValue> feeds = CreateFeeds(data.Inputs, line);
            try
            {
                using SessionOutputs a = original.Run(feeds, outputNames, cancellationToken: cancellationToken);
                using SessionOutputs b = quantized.Run(feeds, outputNames, cancellationToken: cancellationToken);
                double cosine = Cosine(ToFloats(a[0], output), ToFloats(b[0], output));
                sum += cosine;
                min = Math.Min(min, cosine);
            }
            finally
            {
                Dispose(feeds);
            }
        }

        Dictionary<string, OrtValue> latencyFeeds = CreateFeeds(data.Inputs, data.LatencyIds);
        try
        {
            var (originalTimes, quantizedTimes) = Time(original, latencyFeeds, quantized, latencyFeeds, data.Runs, cancellationToken);
            return new EvaluationReport(
                data,
                new ModelMeasurement(null, null, Median(originalTimes), originalTimes.Min()),
                new ModelMeasurement(null, null, Median(quantizedTimes), quantizedTimes.Min()),
                0,
                output,
                sum / data.Lines.Count,
                min,
                stopwatch.Elapsed.TotalSeconds);
        }
        finally
        {
            Dispose(latencyFeeds);
        }
    }

    /// <summary>Writes the evaluation's fields into the quantize command's JSON object.</summary>
    public static void WriteJson(Utf8JsonWriter w, EvaluationReport report, long inputBytes, long outputBytes, long parametersBefore, long parametersAfter)
    {
        EvaluationData data = report.Data;
        w.WriteStartObject("eval");
        w.WriteString("file", data.File);
        w.WriteString("kind", data.Kind == EvaluationKind.Decoder ? "decoder" : "encoder");
        w.WriteNumber("tokens", data.Tokens);
        if (data.Kind == EvaluationKind.Decoder)
        {
            w.WriteNumber("predicted_tokens", report.PredictedTokens);
            w.WriteNumber("window", data.Window);
        }
        else
        {
            w.WriteNumber("lines", data.Lines.Count);
            w.WriteNumber("max_line_tokens", data.Window);
            w.WriteString("compared_output", report.ComparedOutput);
        }

        w.WriteNumber("latency_tokens", data.LatencyIds.Length);
        w.WriteNumber("latency_runs", data.Runs);
        w.WriteNumber("seconds", Math.Round(report.Seconds, 3));
        w.WriteEndObject();

        WriteModel(w, "original", report.Original, inputBytes, parametersBefore, null);
        WriteModel(w, "quantized", report.Quantized, outputBytes, parametersAfter, report.MeanCosine);
        if (report.RelativePerplexityChange is { } change)
        {
            WriteFinite(w, "relative_perplexity_change", change);
        }

        if (report.MeanCosine is { } mean)
        {
            WriteFinite(w, "mean_cosine_similarity", mean);
            WriteFinite(w, "min_cosine_similarity", report.MinCosine ?? double.NaN);
        }

        w.WriteNumber("size_ratio", Math.Round((double)outputBytes / Math.Max(1, inputBytes), 4));
        w.WriteNumber("speedup", Math.Round(report.Speedup, 3));
    }

    /// <summary>Writes the side-by-side table of the human report.</summary>
    public static void WriteReport(TextWriter o, EvaluationReport report, long inputBytes, long outputBytes, long parametersBefore, long parametersAfter)
    {
        EvaluationData data = report.Data;
        ModelMeasurement before = report.Original, after = report.Quantized;
        string what = data.Kind == EvaluationKind.Decoder
            ? $"decoder: perplexity over {data.Tokens:N0} tokens in windows of {data.Window}"
            : $"encoder: cosine similarity of '{report.ComparedOutput}' over {data.Lines.Count:N0} lines, {data.Tokens:N0} tokens";
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  eval:       {Path.GetFileName(data.File)} ({what}; {report.Seconds:F1} s)"));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {string.Empty,-18}{"original",16}{"quantized",16}"));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"file size (bytes)",-18}{inputBytes,16:N0}{outputBytes,16:N0}   {100.0 * outputBytes / Math.Max(1, inputBytes):F1}%"));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"parameter bytes",-18}{parametersBefore,16:N0}{parametersAfter,16:N0}   {100.0 * parametersAfter / Math.Max(1, parametersBefore):F1}%"));
        if (data.Kind == EvaluationKind.Decoder)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"perplexity",-18}{before.Perplexity,16:F4}{after.Perplexity,16:F4}   {report.RelativePerplexityChange,0:+0.000%;-0.000%;0.000%}"));
        }
        else
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"cosine similarity",-18}{1.0,16:F6}{report.MeanCosine,16:F6}   mean over lines (min {report.MinCosine:F6})"));
        }

        string latency = $"latency ({data.LatencyIds.Length} tok)";
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {latency,-18}{before.LatencyMedianMs,13:F3} ms{after.LatencyMedianMs,13:F3} ms   {report.Speedup:F2}x (median of {data.Runs} after {WarmupRuns} warm-up)"));
    }

    private static DecoderSignature Signature(InferenceSession session, ModelConfig? config)
    {
        try
        {
            return DecoderSignature.FromSession(session, config);
        }
        catch (InvalidDataException ex)
        {
            throw new CliException($"--eval: {ex.Message}", ExitCodes.BadInput, ex);
        }
    }

    /// <summary>Warm-up, then timed runs alternating which model goes first, so that drift affects both alike.</summary>
    private static (double[] Original, double[] Quantized) Time(
        InferenceSession original, IReadOnlyDictionary<string, OrtValue> originalFeeds, InferenceSession quantized, IReadOnlyDictionary<string, OrtValue> quantizedFeeds, int runs, CancellationToken cancellationToken)
    {
        for (int i = 0; i < WarmupRuns; i++)
        {
            TimeOne(original, originalFeeds, cancellationToken);
            TimeOne(quantized, quantizedFeeds, cancellationToken);
        }

        double[] a = new double[runs], b = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            if (i % 2 == 0)
            {
                a[i] = TimeOne(original, originalFeeds, cancellationToken);
                b[i] = TimeOne(quantized, quantizedFeeds, cancellationToken);
            }
            else
            {
                b[i] = TimeOne(quantized, quantizedFeeds, cancellationToken);
                a[i] = TimeOne(original, originalFeeds, cancellationToken);
            }
        }

        return (a, b);
    }

    private static double TimeOne(InferenceSession session, IReadOnlyDictionary<string, OrtValue> feeds, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        long start = Stopwatch.GetTimestamp();
        using (session.Run(feeds, cancellationToken: cancellationToken))
        {
        }

        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static double Median(double[] values)
    {
        double[] sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
    }

    /// <summary>The first <paramref name="count"/> ids, repeating the sequence when it is shorter.</summary>
    private static int[] Cycle(int[] ids, int count)
    {
        int[] result = new int[count];
        for (int i = 0; i < count; i++)
        {
            result[i] = ids[i % ids.Length];
        }

        return result;
    }

    private static Dictionary<string, OrtValue> CreateFeeds(IReadOnlyList<ValueInfoProto> inputs, int[] ids)
    {
        var feeds = new Dictionary<string, OrtValue>(StringComparer.Ordinal);
        try
        {
            foreach (ValueInfoProto input in inputs)
            {
                feeds[input.Name] = QuantizeCommand.CreateInput(input, ids);
            }

            return feeds;
        }
        catch
        {
            Dispose(feeds);
            throw;
        }
    }

    private static void Dispose(Dictionary<string, OrtValue> feeds)
    {
        foreach (OrtValue value in feeds.Values)
        {
            value.Dispose();
        }
    }

    private static float[] ToFloats(OrtValue value, string name) => value.ElementType switch
    {
        TensorElementType.Float32 => value.ToArray<float>(),
        TensorElementType.Float16 => Array.ConvertAll(value.ToArray<Half>(), h => (float)h),
        _ => throw new CliException($"--eval: the output '{name}' is {value.ElementType.GetName()}; cosine similarity needs float32 or float16.", ExitCodes.BadInput),
    };

    /// <summary>The cosine of the angle between two flattened outputs, in double precision (1 when both are zero).</summary>
    internal static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            throw new CliException($"--eval: the outputs differ in size ({a.Length} and {b.Length} values).", ExitCodes.Failure);
        }

        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return na == 0 && nb == 0 ? 1 : na == 0 || nb == 0 ? 0 : dot / (Math.Sqrt(na) * Math.Sqrt(nb));
    }

    private static void WriteModel(Utf8JsonWriter w, string name, ModelMeasurement model, long fileBytes, long parameterBytes, double? cosine)
    {
        w.WriteStartObject(name);
        w.WriteNumber("file_bytes", fileBytes);
        w.WriteNumber("parameter_bytes", parameterBytes);
        if (model.Perplexity is { } perplexity)
        {
            WriteFinite(w, "perplexity", perplexity);
            WriteFinite(w, "mean_nll", model.MeanNll ?? double.NaN);
        }

        if (cosine is { } c)
        {
            WriteFinite(w, "cosine_similarity", c);
        }

        w.WriteNumber("latency_ms", Math.Round(model.LatencyMedianMs, 4));
        w.WriteNumber("latency_ms_min", Math.Round(model.LatencyMinMs, 4));
        w.WriteEndObject();
    }

    /// <summary>JSON has no NaN or infinity: a broken model's non-finite value is written as null.</summary>
    private static void WriteFinite(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value))
        {
            w.WriteNumber(name, value);
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
