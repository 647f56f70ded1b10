using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MLNetTransformers.Onnx.Model;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Cli.Commands;

/// <summary>
/// <c>mlnt inspect --model FILE|DIR</c>: ONNX Runtime's view (version, providers, inputs and outputs, load time) and the file's
/// own (IR version, opset imports, operator histogram, parameter count and bytes by data type, external data files).
/// </summary>
internal static class InspectCommand
{
    public static Command Create(CliConsole console)
    {
        var model = new Option<string>("--model") { Description = "A model folder (Hugging Face layout) or an .onnx file.", Required = true };
        var json = new Option<bool>("--json") { Description = "Write one JSON object to stdout." };
        var runtime = new RuntimeOptions();
        var command = new Command("inspect", "Load a model and show ONNX Runtime's view of it (version, providers, inputs, outputs, load time) and the file's (opsets, operators, parameters, external data).")
        {
            model,
            json,
        };
        runtime.AddTo(command);
        command.SetAction(parse =>
        {
            try
            {
                return Run(console, parse.GetValue(model)!, parse.GetValue(json), parse, runtime);
            }
            catch (Exception ex)
            {
                return console.Fail(ex);
            }
        });
        return command;
    }

    private static int Run(CliConsole console, string model, bool json, ParseResult parse, RuntimeOptions runtime)
    {
        string file = ModelPaths.ResolveOnnxFile(model);
        SessionOptions options = runtime.CreateSessionOptions(console, parse);

        var stopwatch = Stopwatch.StartNew();
        using var session = new InferenceSession(file, options);
        double loadMs = stopwatch.Elapsed.TotalMilliseconds;
        ModelMetadata metadata = session.GetModelMetadata();
        IReadOnlyList<string> available = OnnxRuntimeLibrary.GetAvailableProviders();
        OnnxModelSummary summary;
        IReadOnlyList<string> externalData;
        using (OnnxModel onnx = OnnxModel.Load(file))
        {
            summary = OnnxModelSummary.Create(onnx);
            externalData = onnx.ExternalDataFiles();
        }

        string directory = Path.GetDirectoryName(file)!;
        long fileBytes = new FileInfo(file).Length;

        if (json)
        {
            console.WriteJsonLine(w =>
            {
                w.WriteString("model", file);
                w.WriteString("onnxruntime_version", OnnxRuntimeLibrary.Version);
                w.WriteString("onnxruntime_library", OnnxRuntimeLibrary.LoadedFrom);
                w.WriteStrings("available_providers", available);
                w.WriteStrings("effective_providers", session.EffectiveProviders);
                w.WriteStartArray("provider_fallbacks");
                foreach (ExecutionProviderFallback fallback in session.ProviderFallbacks)
                {
                    w.WriteStartObject();
                    w.WriteString("provider", fallback.Provider.Name);
                    w.WriteString("reason", fallback.Reason);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteString("producer", metadata.ProducerName);
                w.WriteString("graph_name", metadata.GraphName);
                WriteNodes(w, "inputs", session.InputMetadata);
                WriteNodes(w, "outputs", session.OutputMetadata);
                w.WriteNumber("load_ms", Math.Round(loadMs, 3));
                w.WriteNumber("file_bytes", fileBytes);
                w.WriteNumber("ir_version", summary.IrVersion);
                w.WriteString("file_producer", summary.Producer);
                w.WriteStartObject("opsets");
                foreach (var (domain, version) in summary.Opsets.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    w.WriteNumber(domain.Length == 0 ? "ai.onnx" : domain, version);
                }

                w.WriteEndObject();
                w.WriteNumber("node_count", summary.NodeCount);
                WriteOperators(w, "operators", summary.Operators);
                w.WriteNumber("parameter_count", summary.ParameterCount);
                w.WriteNumber("parameter_bytes", summary.ParameterBytes);
                w.WriteStartArray("parameters_by_dtype");
                foreach (OnnxParameterGroup group in summary.Parameters)
                {
                    w.WriteStartObject();
                    w.WriteString("dtype", group.DataType);
                    w.WriteNumber("tensors", group.Tensors);
                    w.WriteNumber("elements", group.Elements);
                    w.WriteNumber("bytes", group.Bytes);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteStartArray("external_data");
                foreach (string data in externalData)
                {
                    w.WriteStartObject();
                    w.WriteString("file", data);
                    w.WriteNumber("bytes", FileBytes(Path.Combine(directory, data)));
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            });
            return ExitCodes.Success;
        }

        TextWriter o = console.Err;
        o.WriteLine($"model:               {file}");
        o.WriteLine($"ONNX Runtime:        {OnnxRuntimeLibrary.Version} ({OnnxRuntimeLibrary.LoadedFrom})");
        o.WriteLine($"available providers: {string.Join(", ", available)}");
        o.WriteLine($"effective providers: {string.Join(", ", session.EffectiveProviders)}");
        foreach (ExecutionProviderFallback fallback in session.ProviderFallbacks)
        {
            o.WriteLine($"  skipped {fallback.Provider.Name}: {fallback.Reason}");
        }

        o.WriteLine($"producer:            {metadata.ProducerName}");
        o.WriteLine($"inputs ({session.InputMetadata.Count}):");
        foreach (NodeMetadata input in session.InputMetadata)
        {
            o.WriteLine($"  {input}");
        }

        o.WriteLine($"outputs ({session.OutputMetadata.Count}):");
        foreach (NodeMetadata output in session.OutputMetadata)
        {
            o.WriteLine($"  {output}");
        }

        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"load time:           {loadMs:F1} ms"));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"file:                {FormatBytes(fileBytes)}, IR version {summary.IrVersion}, produced by {(summary.Producer.Length == 0 ? "(unknown)" : summary.Producer)}"));
        o.WriteLine($"opsets:              {string.Join(", ", summary.Opsets.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => string.Create(CultureInfo.InvariantCulture, $"{(p.Key.Length == 0 ? "ai.onnx" : p.Key)} {p.Value}")))}");
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"parameters:          {summary.ParameterCount:N0} ({FormatBytes(summary.ParameterBytes)})"));
        foreach (OnnxParameterGroup group in summary.Parameters)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {group.DataType,-10} {group.Elements,15:N0} in {group.Tensors} tensors ({FormatBytes(group.Bytes)})"));
        }

        o.WriteLine(externalData.Count == 0
            ? "external data:       none"
            : $"external data:       {string.Join(", ", externalData.Select(d => $"{d} ({FormatBytes(FileBytes(Path.Combine(directory, d)))})"))}");
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"operators ({summary.NodeCount} nodes, {summary.Operators.Count} types):"));
        int width = summary.Operators.Count == 0 ? 0 : summary.Operators.Max(p => p.Key.Length);
        foreach (var (op, count) in summary.Operators)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {op.PadRight(width)}  {count,6}"));
        }

        return ExitCodes.Success;
    }

    /// <summary>Writes an operator histogram as a JSON object, op → count, most frequent first.</summary>
    internal static void WriteOperators(Utf8JsonWriter w, string name, IReadOnlyList<KeyValuePair<string, int>> operators)
    {
        w.WriteStartObject(name);
        foreach (var (op, count) in operators)
        {
            w.WriteNumber(op, count);
        }

        w.WriteEndObject();
    }

    /// <summary>The size of a model file plus its external data files (relative to its folder).</summary>
    internal static long TotalBytes(string file, IEnumerable<string> externalData) =>
        FileBytes(file) + externalData.Sum(d => FileBytes(Path.Combine(Path.GetDirectoryName(file)!, d)));

    /// <summary>A size in B, kB, MB or GB (powers of 1000, as file sizes are usually quoted), invariant culture.</summary>
    internal static string FormatBytes(long bytes) => bytes switch
    {
        < 1000 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1000 * 1000 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e3:F1} kB"),
        < 1000L * 1000 * 1000 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:F1} MB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e9:F2} GB"),
    };

    private static long FileBytes(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    private static void WriteNodes(Utf8JsonWriter w, string name, IReadOnlyList<NodeMetadata> nodes)
    {
        w.WriteStartArray(name);
        foreach (NodeMetadata node in nodes)
        {
            w.WriteStartObject();
            w.WriteString("name", node.Name);
            w.WriteString("kind", node.ValueType.ToString().ToLowerInvariant());
            w.WriteString("type", node.ElementType.GetName());
            w.WriteStartArray("shape");
            for (int i = 0; i < node.Rank; i++)
            {
                if (node.Dimensions[i] >= 0)
                {
                    w.WriteNumberValue(node.Dimensions[i]);
                }
                else if (node.SymbolicDimensions[i].Length > 0)
                {
                    w.WriteStringValue(node.SymbolicDimensions[i]);
                }
                else
                {
                    w.WriteNullValue();
                }
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static void WriteStrings(this Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (string value in values)
        {
            w.WriteStringValue(value);
        }

        w.WriteEndArray();
    }
}
