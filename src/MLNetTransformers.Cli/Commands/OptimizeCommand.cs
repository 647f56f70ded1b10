using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MLNetTransformers.Onnx.Model;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Cli.Commands;

/// <summary>
/// <c>mlnt optimize --model IN --out OUT --level basic|extended|layout|all</c>: saves the graph ONNX Runtime runs after its own
/// optimizations (constant folding, redundant node elimination, and from <c>extended</c> on fusions such as
/// SimplifiedLayerNormalization, FusedMatMul, QuickGelu, attention) and reports the operator histogram before and after.
/// </summary>
internal static class OptimizeCommand
{
    /// <summary>ONNX Runtime's session configuration key for the external data file of the optimized model.</summary>
    internal const string ExternalInitializersFileKey = "session.optimized_model_external_initializers_file_name";

    private static readonly Dictionary<string, GraphOptimizationLevel> Levels = new(StringComparer.Ordinal)
    {
        ["basic"] = GraphOptimizationLevel.Basic,
        ["extended"] = GraphOptimizationLevel.Extended,
        ["layout"] = GraphOptimizationLevel.Layout,
        ["all"] = GraphOptimizationLevel.All,
    };

    public static Command Create(CliConsole console)
    {
        var model = new Option<string>("--model") { Description = "The model: an .onnx file, or a model folder (onnx/model.onnx is used).", Required = true };
        var output = new Option<string>("--out") { Description = "Where to write the optimized .onnx file (never the input).", Required = true };
        var level = new Option<string>("--level")
        {
            Description = "basic (constant folding, redundant nodes), extended (+ fusions), layout (+ layout changes), all (+ hardware-specific layouts; the file then only suits this kind of machine). Default extended.",
            DefaultValueFactory = _ => "extended",
        };
        level.AcceptOnlyFromAmong([.. Levels.Keys]);
        var externalData = new Option<bool>("--external-data") { Description = "Write the weights to OUT_data next to OUT (automatic when the input has external data)." };
        var json = new Option<bool>("--json") { Description = "Write the report as one JSON object to stdout." };
        var runtime = new RuntimeOptions();
        var command = new Command("optimize", "Save ONNX Runtime's optimized graph of a model and report which fusions happened (operator counts before and after).")
        {
            model, output, level, externalData, json,
        };
        runtime.AddTo(command);
        command.SetAction(parse =>
        {
            try
            {
                return Run(console, parse.GetValue(model)!, parse.GetValue(output)!, parse.GetValue(level)!, parse.GetValue(externalData), parse.GetValue(json), parse, runtime);
            }
            catch (Exception ex)
            {
                return console.Fail(ex);
            }
        });
        return command;
    }

    /// <summary>
    /// The full path with every symbolic link along it resolved (the final file and the folders above it), so that two names of
    /// one file compare equal. Parts that do not exist are kept as they are. (Hard links are not detected.)
    /// </summary>
    internal static string Canonical(string path)
    {
        string full = Path.GetFullPath(path);
        string root = Path.GetPathRoot(full) ?? string.Empty;
        var pending = new Stack<string>(full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse());
        string current = root;
        int links = 0;
        while (pending.Count > 0)
        {
            string next = Path.Combine(current, pending.Pop());
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            string? target = info.Exists ? info.LinkTarget : null;
            if (target is null)
            {
                current = next;
                continue;
            }

            if (++links > 40)
            {
                return full; // a cycle: leave it to the file system to complain
            }

            // Resolve the link's target relative to the folder holding the link, then walk the rest of it component by component.
            string resolved = Path.GetFullPath(target, current);
            string resolvedRoot = Path.GetPathRoot(resolved) ?? string.Empty;
            foreach (string part in resolved[resolvedRoot.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse())
            {
                pending.Push(part);
            }

            current = resolvedRoot;
        }

        return current;
    }

    private static int Run(CliConsole console, string model, string output, string levelName, bool externalData, bool json, ParseResult parse, RuntimeOptions runtime)
    {
        GraphOptimizationLevel level = Levels[levelName];
        string input = ModelPaths.ResolveOnnxFile(model);
        string outFile = Path.GetFullPath(output);
        if (Directory.Exists(outFile))
        {
            throw new CliException($"--out: {outFile} is a folder; give the path of the .onnx file to write.");
        }

        if (string.Equals(Canonical(outFile), Canonical(input), StringComparison.Ordinal))
        {
            throw new CliException($"--out: {outFile} is the input model; write the optimized model to another file (the source is never overwritten).");
        }

        OnnxModelSummary before;
        IReadOnlyList<string> inputData;
        long bytesBefore;
        using (OnnxModel original = OnnxModel.Load(input))
        {
            before = OnnxModelSummary.Create(original);
            inputData = original.ExternalDataFiles();
            bytesBefore = InspectCommand.TotalBytes(input, inputData);
        }

        string inputDirectory = Path.GetDirectoryName(input)!;
        foreach (string data in inputData)
        {
            if (string.Equals(Canonical(Path.Combine(inputDirectory, data)), Canonical(outFile), StringComparison.Ordinal))
            {
                throw new CliException($"--out: {outFile} is the input model's external data file; write the optimized model elsewhere.");
            }
        }

        Directory.CreateDirectory(Path.GetDirectoryName(outFile)!);
        SessionOptions options = runtime.CreateSessionOptions(console, parse);
        options.GraphOptimizationLevel = level;
        options.OptimizedModelFilePath = outFile;
        if (externalData || inputData.Count > 0)
        {
            string dataFile = Path.GetFileName(outFile) + "_data";
            string dataPath = Path.Combine(Path.GetDirectoryName(outFile)!, dataFile);
            if (inputData.Any(data => string.Equals(Canonical(Path.Combine(inputDirectory, data)), Canonical(dataPath), StringComparison.Ordinal)))
            {
                throw new CliException($"--out: the optimized model's data file {dataPath} would overwrite the input's external data; write it elsewhere.");
            }

            options.ConfigEntries[ExternalInitializersFileKey] = dataFile;
            File.Delete(dataPath); // a stale file from an earlier run must not be mistaken for this one's
        }

        File.Delete(outFile); // not the input (checked above); so that a file left by an earlier run is never reported as this one's
        var stopwatch = Stopwatch.StartNew();
        IReadOnlyList<string> providers;
        using (var session = new InferenceSession(input, options))
        {
            providers = session.EffectiveProviders;
        }

        double seconds = stopwatch.Elapsed.TotalSeconds;
        if (!File.Exists(outFile))
        {
            throw new CliException($"ONNX Runtime did not write {outFile}.", ExitCodes.Failure);
        }

        OnnxModelSummary after;
        IReadOnlyList<string> outData;
        using (OnnxModel optimized = OnnxModel.Load(outFile))
        {
            after = OnnxModelSummary.Create(optimized);
            outData = optimized.ExternalDataFiles();
        }

        long bytesAfter = InspectCommand.TotalBytes(outFile, outData);
        var countsBefore = before.Operators.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var countsAfter = after.Operators.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var changes = countsBefore.Keys.Union(countsAfter.Keys, StringComparer.Ordinal)
            .Select(op => (Op: op, Before: countsBefore.GetValueOrDefault(op), After: countsAfter.GetValueOrDefault(op)))
            .Where(c => c.Before != c.After)
            .OrderByDescending(c => Math.Abs(c.After - c.Before)).ThenBy(c => c.Op, StringComparer.Ordinal)
            .ToArray();
        string[] fusions = changes.Where(c => c.Before == 0).OrderByDescending(c => c.After).ThenBy(c => c.Op, StringComparer.Ordinal).Select(c => c.Op).ToArray();

        if (json)
        {
            console.WriteJsonLine(w =>
            {
                w.WriteString("model", input);
                w.WriteString("out", outFile);
                w.WriteString("level", levelName);
                w.WriteStartArray("effective_providers");
                foreach (string provider in providers)
                {
                    w.WriteStringValue(provider);
                }

                w.WriteEndArray();
                w.WriteNumber("seconds", Math.Round(seconds, 3));
                w.WriteNumber("nodes_before", before.NodeCount);
                w.WriteNumber("nodes_after", after.NodeCount);
                w.WriteNumber("bytes_before", bytesBefore);
                w.WriteNumber("bytes_after", bytesAfter);
                w.WriteStartArray("fusions");
                foreach (string op in fusions)
                {
                    w.WriteStringValue(op);
                }

                w.WriteEndArray();
                w.WriteStartArray("changes");
                foreach (var (op, countBefore, countAfter) in changes)
                {
                    w.WriteStartObject();
                    w.WriteString("op", op);
                    w.WriteNumber("before", countBefore);
                    w.WriteNumber("after", countAfter);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                InspectCommand.WriteOperators(w, "ops_before", before.Operators);
                InspectCommand.WriteOperators(w, "ops_after", after.Operators);
                w.WriteStartArray("external_data");
                foreach (string data in outData)
                {
                    w.WriteStringValue(data);
                }

                w.WriteEndArray();
            });
            return ExitCodes.Success;
        }

        TextWriter o = console.Err;
        o.WriteLine($"model:      {input}");
        o.WriteLine($"optimized:  {outFile}{(outData.Count > 0 ? $" (+ {string.Join(", ", outData)})" : string.Empty)}");
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"level:      {levelName} on {string.Join(", ", providers)} ({seconds:F2} s)"));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"nodes:      {before.NodeCount} -> {after.NodeCount}"));
        o.WriteLine($"size:       {InspectCommand.FormatBytes(bytesBefore)} -> {InspectCommand.FormatBytes(bytesAfter)}");
        o.WriteLine(fusions.Length == 0 ? "new ops:    none" : $"new ops:    {string.Join(", ", fusions.Select(op => $"{op} x{countsAfter[op]}"))}");
        o.WriteLine(changes.Length == 0 ? "op counts:  unchanged" : "op counts (before -> after):");
        int width = changes.Length == 0 ? 0 : changes.Max(c => c.Op.Length);
        foreach (var (op, countBefore, countAfter) in changes)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {(countAfter > countBefore ? '+' : '-')} {op.PadRight(width)}  {countBefore,5} -> {countAfter}"));
        }

        if (level > GraphOptimizationLevel.Extended)
        {
            o.WriteLine($"note:       level {levelName} may use layouts specific to this machine's providers; use 'extended' for a portable file.");
        }

        return ExitCodes.Success;
    }
}
