using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Cli.Commands;

/// <summary><c>mlnt inspect --model FILE|DIR</c>: runtime version, providers, inputs and outputs, load time.</summary>
internal static class InspectCommand
{
    public static Command Create(CliConsole console)
    {
        var model = new Option<string>("--model") { Description = "A model folder (Hugging Face layout) or an .onnx file.", Required = true };
        var json = new Option<bool>("--json") { Description = "Write one JSON object to stdout." };
        var runtime = new RuntimeOptions();
        var command = new Command("inspect", "Load a model and show ONNX Runtime's view of it: version, providers, inputs, outputs, load time.")
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
        return ExitCodes.Success;
    }

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
