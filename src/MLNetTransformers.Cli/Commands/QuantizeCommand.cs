using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using MLNetTransformers.Generation;
using MLNetTransformers.Onnx.Model;
using MLNetTransformers.Onnx.Protos;
using MLNetTransformers.Onnx.Quantization;
using MLNetTransformers.OnnxRuntime;
using MLNetTransformers.Tokenizers;

namespace MLNetTransformers.Cli.Commands;

/// <summary>
/// <c>mlnt quantize --model IN --out OUT --mode int8|int8-static|int4|fp16</c>: quantizes a model with
/// <see cref="OnnxQuantizer"/>. IN is a model folder (its ONNX file, <c>onnx/model.onnx</c> first) or an .onnx file; OUT is an
/// .onnx file, or a folder that receives <c>onnx/model.onnx</c> and (when IN is a folder) a copy of IN's other files (config,
/// tokenizer). For <c>int8-static</c>, <c>--calibration F</c> is a text file whose non-empty lines are tokenized with the
/// model folder's tokenizer and fed as decoder/encoder inputs. The result is checked to load in ONNX Runtime with the
/// original inputs and outputs. With <c>--eval F</c> the original and the result are then compared side by side (file size,
/// parameter bytes, perplexity on F for decoders or the first output's cosine similarity for encoders, forward latency; see
/// <see cref="QuantizationEvaluation"/>). JSON: <c>{"mode", "input", "output", "quantized_nodes", "skipped_nodes", "input_bytes",
/// "output_bytes", "parameter_bytes_before", "parameter_bytes_after", "verified", "seconds"}</c>, with <c>--eval</c> also
/// <c>"eval": {...}, "original": {...}, "quantized": {...}, "relative_perplexity_change"</c> (decoders) or
/// <c>"mean_cosine_similarity"</c> (encoders), <c>"size_ratio", "speedup"</c>.
/// </summary>
internal static class QuantizeCommand
{
    private static readonly string[] Modes = ["int8", "int8-static", "int4", "fp16"];

    public static Command Create(CliConsole console)
    {
        var model = new Option<string>("--model") { Description = "The model: a folder (Hugging Face layout; onnx/model.onnx is used) or an .onnx file.", Required = true };
        var output = new Option<string>("--out") { Description = "An .onnx file to write, or a folder (gets onnx/model.onnx plus the input folder's other files). Never the input.", Required = true };
        var mode = new Option<string>("--mode") { Description = "int8 (dynamic, DynamicQuantizeMatMul), int8-static (QDQ, calibrated), int4 (MatMulNBits, weight-only), fp16.", Required = true };
        mode.AcceptOnlyFromAmong(Modes);
        var calibration = new Option<string?>("--calibration") { Description = "int8-static: a text file, one calibration input per non-empty line (tokenized with the model folder's tokenizer)." };
        var method = new Option<string>("--calibration-method") { Description = "int8-static: minmax or percentile.", DefaultValueFactory = _ => "minmax" };
        method.AcceptOnlyFromAmong("minmax", "percentile");
        var percentile = new Option<double>("--percentile") { Description = "int8-static with --calibration-method percentile: the share of values (in percent) kept in range at each end.", DefaultValueFactory = _ => 99.999 };
        var maxTokens = new Option<int>("--calibration-max-tokens") { Description = "int8-static: tokens per calibration line at most.", DefaultValueFactory = _ => 512 };
        var blockSize = new Option<int?>("--block-size") { Description = "int4: weights per block along K, a power of two from 16 to 256 (default 32)." };
        var asymmetric = new Option<bool>("--asymmetric") { Description = "int4: per-block zero points instead of symmetric blocks." };
        var accuracyLevel = new Option<int?>("--accuracy-level") { Description = "int4: MatMulNBits accuracy_level, 0 (unset) to 4 (int8 compute)." };
        var perChannel = new Option<bool>("--per-channel") { Description = "int8, int8-static: one weight scale per output column." };
        var reduceRange = new Option<bool>("--reduce-range") { Description = "int8: 7-bit weights, for CPUs without VNNI whose u8s8 kernels can saturate." };
        var exclude = new Option<string[]>("--exclude")
        {
            Description = "Nodes to leave float32, by name or output name; * and ? are wildcards, plain text matches any name containing it (e.g. lm_head). Repeatable.",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = true,
        };
        var include = new Option<string[]>("--include")
        {
            Description = "Only these nodes (patterns as for --exclude); a named node the mode cannot handle is an error. Repeatable.",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = true,
        };
        var keepOutputProjection = new Option<bool>("--keep-output-projection") { Description = "int8, int8-static, int4: leave MatMul/Gemm nodes that produce a graph output (the vocabulary projection) float32." };
        var keepFloat32 = new Option<string[]>("--fp16-keep-op")
        {
            Description = "fp16: more operator types to keep float32, besides the default block list. Repeatable.",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = true,
        };
        var noVerify = new Option<bool>("--no-verify") { Description = "Skip loading the result in ONNX Runtime to check it." };
        var threads = new Option<int?>("--threads") { Description = "Intra-op threads for calibration and --eval runs (default: ONNX Runtime's)." };
        var eval = new Option<string?>("--eval")
        {
            Description = "After quantizing, compare the original and the result on this text file: file size, parameter bytes, perplexity (decoders; "
                + "[bos] + line + [eos] per line, as mlnt perplexity) or the first output's mean cosine similarity over the lines (encoders), and the "
                + $"median latency of one forward pass of {QuantizationEvaluation.LatencyTokens} tokens.",
        };
        var evalMaxTokens = new Option<int?>("--eval-max-tokens") { Description = $"--eval: evaluate at most this many tokens of the file (default {QuantizationEvaluation.DefaultMaxTokens})." };
        var evalWindow = new Option<int?>("--eval-window")
        {
            Description = $"--eval: decoders: tokens per perplexity window (default {QuantizationEvaluation.DefaultWindow}, at most max_position_embeddings); encoders: tokens per line at most (default max_position_embeddings, else 512).",
        };
        var evalRuns = new Option<int?>("--eval-runs") { Description = $"--eval: timed forward passes per model, after {QuantizationEvaluation.WarmupRuns} warm-up passes (default {QuantizationEvaluation.DefaultRuns})." };
        var json = new Option<bool>("--json") { Description = "Write the report as one JSON object to stdout." };
        var command = new Command("quantize", "Quantize a model: dynamic or static int8, 4-bit weight-only, or float16; inputs and outputs stay as they are.")
        {
            model, output, mode, calibration, method, percentile, maxTokens, blockSize, asymmetric, accuracyLevel, perChannel, reduceRange,
            exclude, include, keepOutputProjection, keepFloat32, noVerify, threads, eval, evalMaxTokens, evalWindow, evalRuns, json,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            try
            {
                var request = new Request(
                    parse.GetValue(model)!,
                    parse.GetValue(output)!,
                    parse.GetValue(mode)!,
                    parse.GetValue(calibration),
                    parse.GetValue(method)!,
                    parse.GetValue(percentile),
                    parse.GetValue(maxTokens),
                    parse.GetValue(blockSize),
                    parse.GetValue(asymmetric),
                    parse.GetValue(accuracyLevel),
                    parse.GetValue(perChannel),
                    parse.GetValue(reduceRange),
                    parse.GetValue(exclude) ?? [],
                    parse.GetValue(include) ?? [],
                    parse.GetValue(keepOutputProjection),
                    parse.GetValue(keepFloat32) ?? [],
                    !parse.GetValue(noVerify),
                    parse.GetValue(threads),
                    parse.GetValue(json))
                {
                    Eval = parse.GetValue(eval),
                    EvalMaxTokens = parse.GetValue(evalMaxTokens),
                    EvalWindow = parse.GetValue(evalWindow),
                    EvalRuns = parse.GetValue(evalRuns),
                };
                return Task.FromResult(Run(console, request, cancellationToken));
            }
            catch (Exception ex)
            {
                return Task.FromResult(Fail(console, ex));
            }
        });
        return command;
    }

    internal sealed record Request(
        string Model,
        string Output,
        string Mode,
        string? Calibration,
        string CalibrationMethod,
        double Percentile,
        int CalibrationMaxTokens,
        int? BlockSize,
        bool Asymmetric,
        int? AccuracyLevel,
        bool PerChannel,
        bool ReduceRange,
        string[] Exclude,
        string[] Include,
        bool KeepOutputProjection,
        string[] KeepFloat32,
        bool Verify,
        int? Threads,
        bool Json)
    {
        /// <summary>The <c>--eval</c> text file, or <see langword="null"/>.</summary>
        public string? Eval { get; init; }

        /// <summary><c>--eval-max-tokens</c>, or <see langword="null"/> for the default.</summary>
        public int? EvalMaxTokens { get; init; }

        /// <summary><c>--eval-window</c>, or <see langword="null"/> for the default.</summary>
        public int? EvalWindow { get; init; }

        /// <summary><c>--eval-runs</c>, or <see langword="null"/> for the default.</summary>
        public int? EvalRuns { get; init; }
    }

    /// <summary>Quantization errors that are the input's fault are exit code 2; the rest go through the usual mapping.</summary>
    private static int Fail(CliConsole console, Exception ex) => ex switch
    {
        UnsupportedModelException or CalibrationException => console.Fail(new CliException(ex.Message, ExitCodes.BadInput, ex)),
        ArgumentException argument when ex is not ArgumentNullException => console.Fail(new CliException(argument.Message, ExitCodes.BadInput, ex)),
        _ => console.Fail(ex),
    };

    private static int Run(CliConsole console, Request request, CancellationToken cancellationToken)
    {
        CheckOptions(request);
        string input = ModelPaths.ResolveOnnxFile(request.Model);
        string? inputFolder = Directory.Exists(request.Model) ? Path.GetFullPath(request.Model) : null;
        string outFull = Path.GetFullPath(request.Output);
        bool outIsFile = outFull.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || File.Exists(outFull);
        string? outFolder = outIsFile ? null : outFull;
        string outFile = outIsFile ? outFull : Path.Combine(outFull, "onnx", "model.onnx");
        if (SamePath(outFile, input) || (outFolder is not null && inputFolder is not null && SamePath(outFolder, inputFolder)))
        {
            throw new CliException($"--out: {outFull} is the input model; write the quantized model elsewhere (the source is never overwritten).");
        }

        var stopwatch = Stopwatch.StartNew();
        using OnnxModel source = OnnxModel.Load(input);
        long preparing = Stopwatch.GetTimestamp();
        EvaluationData? evaluation = request.Eval is null ? null : PrepareEvaluation(source, input, inputFolder, request, cancellationToken);
        TimeSpan preparation = Stopwatch.GetElapsedTime(preparing);
        long inputBytes = ModelBytes(input, source.ExternalDataFiles());
        foreach (string data in source.ExternalDataFiles())
        {
            string dataPath = Path.Combine(Path.GetDirectoryName(input)!, data);
            if (SamePath(dataPath, outFile) || SamePath(dataPath, outFile + "_data"))
            {
                throw new CliException($"--out: writing {outFile} would overwrite the input's external data file {dataPath}.");
            }
        }

        using QuantizationResult result = request.Mode switch
        {
            "int8" => OnnxQuantizer.QuantizeDynamicInt8(source, Configure(new Int8DynamicOptions { PerChannel = request.PerChannel, ReduceRange = request.ReduceRange }, request), cancellationToken),
            "int4" => OnnxQuantizer.QuantizeInt4(source, Configure(new Int4Options
            {
                BlockSize = request.BlockSize ?? 32,
                Symmetric = !request.Asymmetric,
                AccuracyLevel = request.AccuracyLevel ?? 0,
            }, request), cancellationToken),
            "fp16" => OnnxQuantizer.ConvertToFloat16(source, Configure(new Float16Options(), request), cancellationToken),
            _ => QuantizeStatic(source, input, inputFolder, request, cancellationToken),
        };

        cancellationToken.ThrowIfCancellationRequested();
        Directory.CreateDirectory(Path.GetDirectoryName(outFile)!);
        // Large weights (or a source that kept them outside the .onnx file) go to OUT_data; a small model stays one file.
        long weightBytes = result.Model.Graph.Initializer.Sum(t => (long)t.RawData.Length);
        bool external = source.ExternalDataFiles().Count > 0 || weightBytes > (1L << 30);
        result.Save(outFile, new OnnxSaveOptions { ExternalData = external ? ExternalDataMode.Always : ExternalDataMode.Never });
        if (outFolder is not null && inputFolder is not null)
        {
            CopyFolder(inputFolder, outFolder, cancellationToken);
        }

        long outputBytes;
        long parametersAfter;
        using (OnnxModel written = OnnxModel.Load(outFile))
        {
            if (request.Verify)
            {
                OnnxQuantizer.Verify(source, written, new SessionOptions { IntraOpThreads = 1, InterOpThreads = 1 });
            }

            outputBytes = ModelBytes(outFile, written.ExternalDataFiles());
            parametersAfter = OnnxModelSummary.Create(written).ParameterBytes;
        }

        long parametersBefore = OnnxModelSummary.Create(source).ParameterBytes;
        double seconds = (stopwatch.Elapsed - preparation).TotalSeconds;
        EvaluationReport? report = null;
        if (evaluation is not null)
        {
            CliLogging.Enter(console.Err, LogLevel.Warning);
            CliLogging.EnsureEnvironment(LogLevel.Warning);
            console.Err.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mlnt: quantize: evaluating the original and the result on {Path.GetFileName(evaluation.File)} ({evaluation.Tokens} tokens)"));
            report = QuantizationEvaluation.Run(input, outFile, evaluation, request.Threads, cancellationToken);
        }

        if (request.Json)
        {
            console.WriteJsonLine(w =>
            {
                w.WriteString("mode", request.Mode);
                w.WriteString("input", input);
                w.WriteString("output", outFile);
                w.WriteNumber("quantized_nodes", result.Quantized.Count);
                w.WriteNumber("skipped_nodes", result.Skipped.Count);
                w.WriteNumber("input_bytes", inputBytes);
                w.WriteNumber("output_bytes", outputBytes);
                w.WriteNumber("parameter_bytes_before", parametersBefore);
                w.WriteNumber("parameter_bytes_after", parametersAfter);
                w.WriteBoolean("verified", request.Verify);
                w.WriteNumber("seconds", Math.Round(seconds, 3));
                if (report is not null)
                {
                    QuantizationEvaluation.WriteJson(w, report, inputBytes, outputBytes, parametersBefore, parametersAfter);
                }
            });
        }
        else
        {
            TextWriter o = console.Err;
            o.WriteLine($"quantized {input} ({request.Mode}) -> {outFile}");
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  nodes:      {result.Quantized.Count} rewritten, {result.Skipped.Count} left as they were"));
            foreach (var group in result.Skipped.GroupBy(s => s.Reason).OrderByDescending(g => g.Count()).Take(6))
            {
                o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {group.Count(),4} x {group.Key} (e.g. {group.First().NodeName})"));
            }

            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  file size:  {inputBytes:N0} -> {outputBytes:N0} bytes ({100.0 * outputBytes / Math.Max(1, inputBytes):F1}%)"));
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  parameters: {parametersBefore:N0} -> {parametersAfter:N0} bytes"));
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  time:       {seconds:F2} s{(request.Verify ? ", loads in ONNX Runtime with the original inputs and outputs" : string.Empty)}"));
            if (report is not null)
            {
                QuantizationEvaluation.WriteReport(o, report, inputBytes, outputBytes, parametersBefore, parametersAfter);
            }
        }

        return ExitCodes.Success;
    }

    private static void CheckOptions(Request request)
    {
        bool isStatic = request.Mode == "int8-static";
        if (isStatic && request.Calibration is null)
        {
            throw new CliException("--mode int8-static needs --calibration F (a text file of calibration inputs, one per line).");
        }

        if (!isStatic && request.Calibration is not null)
        {
            throw new CliException("--calibration applies to --mode int8-static only.");
        }

        if (request.Mode != "int4" && (request.BlockSize is not null || request.Asymmetric || request.AccuracyLevel is not null))
        {
            throw new CliException("--block-size, --asymmetric and --accuracy-level apply to --mode int4 only.");
        }

        if (request.Mode is not ("int8" or "int8-static") && request.PerChannel)
        {
            throw new CliException("--per-channel applies to --mode int8 and int8-static only.");
        }

        if (request.Mode != "int8" && request.ReduceRange)
        {
            throw new CliException("--reduce-range applies to --mode int8 only.");
        }

        if (request.Mode != "fp16" && request.KeepFloat32.Length > 0)
        {
            throw new CliException("--fp16-keep-op applies to --mode fp16 only.");
        }

        if (request.Mode == "fp16" && request.KeepOutputProjection)
        {
            throw new CliException("--keep-output-projection applies to --mode int8, int8-static and int4 (with fp16 use --exclude).");
        }

        if (request.BlockSize is { } block && (block < 16 || block > 256 || (block & (block - 1)) != 0))
        {
            throw new CliException($"--block-size: expected a power of two from 16 to 256, got {block}.");
        }

        if (request.AccuracyLevel is < 0 or > 4)
        {
            throw new CliException($"--accuracy-level: expected 0 to 4, got {request.AccuracyLevel}.");
        }

        if (request.Percentile is <= 50 or > 100)
        {
            throw new CliException($"--percentile: expected a number in (50, 100], got {request.Percentile.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (request.CalibrationMaxTokens < 1)
        {
            throw new CliException($"--calibration-max-tokens: expected a positive number, got {request.CalibrationMaxTokens}.");
        }

        if (request.Threads is < 0)
        {
            throw new CliException($"--threads: expected a non-negative integer, got {request.Threads}.");
        }

        if (request.Eval is null && (request.EvalMaxTokens is not null || request.EvalWindow is not null || request.EvalRuns is not null))
        {
            throw new CliException("--eval-max-tokens, --eval-window and --eval-runs apply with --eval F only.");
        }

        if (request.EvalMaxTokens is < 2)
        {
            throw new CliException($"--eval-max-tokens: expected at least 2, got {request.EvalMaxTokens}.");
        }

        if (request.EvalWindow is < 1)
        {
            throw new CliException($"--eval-window: expected a positive number of tokens, got {request.EvalWindow}.");
        }

        if (request.EvalRuns is < 1)
        {
            throw new CliException($"--eval-runs: expected a positive number, got {request.EvalRuns}.");
        }
    }

    /// <summary>Tokenizes the --eval file before quantizing, so that a bad file or tokenizer fails before anything is written.</summary>
    private static EvaluationData PrepareEvaluation(OnnxModel source, string input, string? inputFolder, Request request, CancellationToken cancellationToken)
    {
        ModelConfig? config;
        try
        {
            config = ModelFolder.Open(input).Config;
        }
        catch (InvalidDataException ex)
        {
            throw new CliException($"--model: {ex.Message}", ExitCodes.BadInput, ex);
        }

        Tokenizer tokenizer = LoadTokenizer(input, inputFolder, "--eval");
        var settings = new EvaluationSettings(
            request.Eval!,
            request.EvalMaxTokens ?? QuantizationEvaluation.DefaultMaxTokens,
            request.EvalWindow,
            request.EvalRuns ?? QuantizationEvaluation.DefaultRuns);
        return QuantizationEvaluation.Prepare(source, tokenizer, config, settings, cancellationToken);
    }

    private static T Configure<T>(T options, Request request)
        where T : QuantizationOptions
    {
        foreach (string pattern in request.Exclude.Where(p => p.Length > 0))
        {
            options.ExcludeNodes.Add(pattern);
        }

        foreach (string pattern in request.Include.Where(p => p.Length > 0))
        {
            options.IncludeNodes.Add(pattern);
        }

        if (options is WeightQuantizationOptions weights)
        {
            weights.KeepOutputProjection = request.KeepOutputProjection;
        }

        if (options is Float16Options fp16)
        {
            foreach (string op in request.KeepFloat32)
            {
                fp16.BlockedOpTypes.Add(op);
            }
        }

        return options;
    }

    private static QuantizationResult QuantizeStatic(OnnxModel source, string input, string? inputFolder, Request request, CancellationToken cancellationToken)
    {
        string file = Path.GetFullPath(request.Calibration!);
        if (!File.Exists(file))
        {
            throw new CliException($"--calibration: no such file: {file}");
        }

        string[] lines = File.ReadLines(file).Where(l => !string.IsNullOrWhiteSpace(l)).ToArray();
        if (lines.Length == 0)
        {
            throw new CliException($"--calibration: {file} is empty (it needs at least one non-empty line).");
        }

        Tokenizer tokenizer = LoadTokenizer(input, inputFolder, "--calibration");
        var options = Configure(new Int8StaticOptions { PerChannel = request.PerChannel }, request);
        var calibration = new CalibrationOptions
        {
            Method = request.CalibrationMethod == "percentile" ? Onnx.Quantization.CalibrationMethod.Percentile : Onnx.Quantization.CalibrationMethod.MinMax,
            Percentile = request.Percentile,
            SessionOptions = new SessionOptions { IntraOpThreads = request.Threads },
        };
        var inputs = source.Graph.Input.Where(i => !source.Graph.Initializer.Any(t => t.Name == i.Name)).ToArray();
        IEnumerable<IReadOnlyDictionary<string, OrtValue>> feeds = CalibrationFeeds(tokenizer, lines, inputs, request.CalibrationMaxTokens);
        return OnnxQuantizer.QuantizeStatic(source, feeds, options, calibration, cancellationToken);
    }

    /// <summary>The tokenizer next to the model: the --model folder, else the .onnx file's folder or (for onnx/x.onnx) its parent.</summary>
    private static Tokenizer LoadTokenizer(string input, string? inputFolder, string option)
    {
        string fileFolder = Path.GetDirectoryName(input)!;
        string?[] candidates = [inputFolder, fileFolder, Path.GetFileName(fileFolder) == "onnx" ? Path.GetDirectoryName(fileFolder) : null];
        foreach (string? folder in candidates)
        {
            if (folder is not null && (File.Exists(Path.Combine(folder, "tokenizer.json")) || File.Exists(Path.Combine(folder, "tokenizer.model"))))
            {
                try
                {
                    return Tokenizer.FromDirectory(folder);
                }
                catch (Exception ex) when (ex is InvalidDataException or NotSupportedException or FileNotFoundException)
                {
                    throw new CliException($"--model: the tokenizer in {folder} cannot be loaded: {ex.Message}", ExitCodes.BadInput, ex);
                }
            }
        }

        throw new CliException($"{option} needs the model's tokenizer: no tokenizer.json or tokenizer.model next to {input}; give --model the model folder.");
    }

    /// <summary>
    /// One feed per line: input_ids, attention_mask (ones), position_ids (0..n-1), token_type_ids (zeros), and empty
    /// past_key_values.* tensors (symbolic dims: the first 1, the others 0) as the graph declares them.
    /// </summary>
    internal static IEnumerable<IReadOnlyDictionary<string, OrtValue>> CalibrationFeeds(Tokenizer tokenizer, IEnumerable<string> lines, IReadOnlyList<ValueInfoProto> inputs, int maxTokens)
    {
        foreach (ValueInfoProto input in inputs)
        {
            if (!IsKnownInput(input.Name))
            {
                throw new CliException($"--calibration: the model has an input '{input.Name}' that calibration from text cannot fill (known: input_ids, attention_mask, position_ids, token_type_ids, past_key_values.*).");
            }
        }

        foreach (string line in lines)
        {
            int[] ids = tokenizer.Encode(line).Ids.Take(maxTokens).ToArray();
            if (ids.Length == 0)
            {
                continue;
            }

            var feeds = new Dictionary<string, OrtValue>(StringComparer.Ordinal);
            try
            {
                foreach (ValueInfoProto input in inputs)
                {
                    feeds[input.Name] = CreateInput(input, ids);
                }

                yield return feeds;
            }
            finally
            {
                foreach (OrtValue value in feeds.Values)
                {
                    value.Dispose();
                }
            }
        }
    }

    internal static bool IsKnownInput(string name) =>
        name is "input_ids" or "attention_mask" or "position_ids" or "token_type_ids" || name.StartsWith("past_key_values.", StringComparison.Ordinal) || name.StartsWith("past_", StringComparison.Ordinal);

    /// <summary>One input for the token ids: the ids, ones, 0..n-1, zeros, or an empty past_key_values tensor.</summary>
    internal static OrtValue CreateInput(ValueInfoProto input, int[] ids)
    {
        var elementType = (TensorElementType)(input.Type?.TensorType?.ElemType ?? 0);
        int n = ids.Length;
        long[] values = input.Name switch
        {
            "input_ids" => ids.Select(i => (long)i).ToArray(),
            "attention_mask" => Enumerable.Repeat(1L, n).ToArray(),
            "position_ids" => Enumerable.Range(0, n).Select(i => (long)i).ToArray(),
            "token_type_ids" => new long[n],
            _ => [],
        };

        if (values.Length > 0 || input.Name is "input_ids" or "attention_mask" or "position_ids" or "token_type_ids")
        {
            return elementType switch
            {
                TensorElementType.Int32 => OrtValue.CreateTensor(values.Select(v => (int)v).ToArray(), [1, n]),
                _ => OrtValue.CreateTensor(values, [1, n]),
            };
        }

        // An empty cache: [batch=1, heads, past=0, head_dim] from the declared dims.
        var dims = input.Type?.TensorType?.Shape?.Dim ?? [];
        long[] shape = dims.Select((d, i) => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : i == 0 ? 1 : 0).ToArray();
        return OrtValue.CreateAllocatedTensor(elementType == TensorElementType.Undefined ? TensorElementType.Float32 : elementType, shape);
    }

    private static void CopyFolder(string from, string to, CancellationToken cancellationToken)
    {
        string source = Path.GetFullPath(from), target = Path.GetFullPath(to);
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            cancellationToken.ThrowIfCancellationRequested();
            string relative = Path.GetRelativePath(source, file);
            string first = relative.Split(Path.DirectorySeparatorChar)[0];
            if (first == "onnx" || IsInside(file, target))
            {
                continue; // the model files (the quantized one is written there), and the output folder if it is inside the input
            }

            string destination = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination, overwrite: true);
        }
    }

    private static long ModelBytes(string file, IEnumerable<string> externalData) =>
        new FileInfo(file).Length + externalData.Select(d => Path.Combine(Path.GetDirectoryName(file)!, d)).Where(File.Exists).Sum(d => new FileInfo(d).Length);

    private static bool SamePath(string a, string b) => string.Equals(Canonical(a), Canonical(b), StringComparison.Ordinal);

    private static bool IsInside(string path, string folder)
    {
        string root = Canonical(folder).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        return (Canonical(path).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar).StartsWith(root, StringComparison.Ordinal);
    }

    /// <summary>The full path with symbolic links resolved, so that two names of one file compare equal.</summary>
    private static string Canonical(string path)
    {
        string full = Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar);
        try
        {
            FileSystemInfo info = Directory.Exists(full) ? new DirectoryInfo(full) : new FileInfo(full);
            if (info.Exists && info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
            {
                return Path.GetFullPath(target.FullName).TrimEnd(Path.DirectorySeparatorChar);
            }
        }
        catch (IOException)
        {
        }

        return full;
    }
}
