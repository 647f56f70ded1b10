using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using MLNetTransformers.Generation;
using MLNetTransformers.Onnx.Model;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Cli.Tests;

/// <summary>Shared helpers for the ONNX tool commands' tests.</summary>
internal static class OnnxTools
{
    public static readonly string TinyLlama = Path.Combine(AppContext.BaseDirectory, "models", "tiny-llama");

    public static string TinyLlamaModel => Path.Combine(TinyLlama, "onnx", "model.onnx");

    public static Task<(int Code, string Out, string Err)> Mlnt(params string[] args) => InspectCommandTests.Mlnt(args);

    public static JsonElement SingleJson(string stdout)
    {
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.HasCount(1, lines, "one JSON object per line and nothing else on stdout");
        using var document = JsonDocument.Parse(lines[0]);
        return document.RootElement.Clone();
    }

    public static string TempDirectory(string name) => Directory.CreateTempSubdirectory("mlnt-cli-" + name).FullName;

    /// <summary>The first <paramref name="count"/> validation lines in a temporary file.</summary>
    public static string ValidationSlice(string directory, int count)
    {
        string path = Path.Combine(directory, "slice.txt");
        File.WriteAllLines(path, File.ReadLines(Path.Combine(TinyLlama, "reference", "validation.txt")).Take(count));
        return path;
    }

    public static JsonElement Config()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(TinyLlama, "config.json")));
        return document.RootElement.Clone();
    }

    /// <summary>Copies the tiny Llama (config, tokenizer, onnx/) to a new folder, optionally with a replaced model file.</summary>
    public static string CopyModelFolder(string directory, byte[]? model = null)
    {
        Directory.CreateDirectory(Path.Combine(directory, "onnx"));
        foreach (string file in new[] { "config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json" })
        {
            File.Copy(Path.Combine(TinyLlama, file), Path.Combine(directory, file));
        }

        string target = Path.Combine(directory, "onnx", "model.onnx");
        if (model is null)
        {
            File.Copy(TinyLlamaModel, target);
        }
        else
        {
            File.WriteAllBytes(target, model);
        }

        return directory;
    }

    /// <summary>The logits of one forward pass with an empty past.</summary>
    public static float[] Logits(string modelFile, long[] ids)
    {
        CliLogging.EnsureEnvironment(LogLevel.Error);
        using var session = new InferenceSession(modelFile, new SessionOptions { IntraOpThreads = 1 });
        using var inputs = DecoderInputs.CreateWithEmptyPast(DecoderSignature.FromSession(session), ids);
        using SessionOutputs outputs = session.Run(inputs.Feeds);
        return outputs["logits"].ToArray<float>();
    }
}

[TestClass]
public sealed class PerplexityCommandTests
{
    [TestMethod]
    public async Task JsonOnASliceAtTwoWindowSizes()
    {
        string directory = OnnxTools.TempDirectory("ppl");
        try
        {
            string slice = OnnxTools.ValidationSlice(directory, 80);
            var (code, stdout, stderr) = await OnnxTools.Mlnt("perplexity", "--model", OnnxTools.TinyLlama, "--file", slice, "--json", "--threads", "2");
            Assert.AreEqual(0, code, stderr);
            JsonElement w256 = OnnxTools.SingleJson(stdout);
            (code, stdout, stderr) = await OnnxTools.Mlnt("perplexity", "--model", OnnxTools.TinyLlama, "--file", slice, "--window", "64", "--batch-size", "4", "--json", "--threads", "2");
            Assert.AreEqual(0, code, stderr);
            JsonElement w64 = OnnxTools.SingleJson(stdout);

            int stream = w256.GetProperty("stream_tokens").GetInt32();
            Assert.IsGreaterThan(2000, stream, "80 dictionary lines are a few thousand tokens");
            foreach ((JsonElement result, int window) in new[] { (w256, 256), (w64, 64) })
            {
                double perplexity = result.GetProperty("perplexity").GetDouble();
                long tokens = result.GetProperty("tokens").GetInt64();
                Assert.AreEqual(stream - 1, tokens, "every token but the first is predicted once");
                Assert.AreEqual((stream - 1 + window - 1) / window, result.GetProperty("windows").GetInt32());
                Assert.AreEqual(window, result.GetProperty("window").GetInt32());
                Assert.AreEqual(window, result.GetProperty("stride").GetInt32());
                Assert.IsTrue(double.IsFinite(perplexity) && perplexity is > 5 and < 200, $"perplexity {perplexity}");
                Assert.AreEqual(Math.Exp(result.GetProperty("nll").GetDouble() / tokens), perplexity, 1e-9 * perplexity);
            }

            Assert.IsGreaterThan(w256.GetProperty("perplexity").GetDouble(), w64.GetProperty("perplexity").GetDouble(), "less context predicts worse");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public async Task StrideAndMaxTokensAndTheHumanReport()
    {
        string directory = OnnxTools.TempDirectory("ppl-stride");
        try
        {
            string slice = OnnxTools.ValidationSlice(directory, 20);
            var (code, stdout, stderr) = await OnnxTools.Mlnt("perplexity", "--model", OnnxTools.TinyLlamaModel, "--file", slice, "--max-tokens", "300", "--stride", "128", "--json", "--threads", "2");
            Assert.AreEqual(0, code, stderr);
            JsonElement result = OnnxTools.SingleJson(stdout);
            Assert.AreEqual(299, result.GetProperty("tokens").GetInt32());
            Assert.AreEqual(300, result.GetProperty("stream_tokens").GetInt32());
            Assert.AreEqual(2, result.GetProperty("windows").GetInt32(), "[0, 256) and [128, 299)");

            (code, stdout, stderr) = await OnnxTools.Mlnt("perplexity", "--model", OnnxTools.TinyLlama, "--file", slice, "--threads", "2");
            Assert.AreEqual(0, code, stderr);
            Assert.AreEqual(string.Empty, stdout);
            StringAssert.Contains(stderr, "perplexity:");
            StringAssert.Contains(stderr, "predicted tokens:");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public async Task BadInputIsExitTwoWithOneLine()
    {
        string directory = OnnxTools.TempDirectory("ppl-bad");
        try
        {
            string empty = Path.Combine(directory, "empty.txt");
            File.WriteAllText(empty, string.Empty);
            var (code, stdout, stderr) = await OnnxTools.Mlnt("perplexity", "--model", OnnxTools.TinyLlama, "--file", empty, "--json");
            Assert.AreEqual(2, code);
            Assert.AreEqual(string.Empty, stdout);
            Assert.AreEqual($"mlnt: error: --file: {empty} has no tokens to evaluate (it is empty).", stderr.TrimEnd());

            (code, _, stderr) = await OnnxTools.Mlnt("perplexity", "--model", OnnxTools.TinyLlama);
            Assert.AreEqual(2, code);
            StringAssert.Contains(stderr, "--file");

            string missing = Path.Combine(directory, "missing.txt");
            (code, _, stderr) = await OnnxTools.Mlnt("perplexity", "--model", OnnxTools.TinyLlama, "--file", missing);
            Assert.AreEqual(2, code);
            Assert.AreEqual($"mlnt: error: --file: no such file: {missing}", stderr.TrimEnd());

            string slice = OnnxTools.ValidationSlice(directory, 3);
            foreach (var (args, message) in new[]
            {
                (new[] { "--window", "1024" }, "--window: 1024 is longer than the model's max_position_embeddings (512"),
                (new[] { "--window", "0" }, "--window: expected a positive number"),
                (new[] { "--stride", "300" }, "--stride: expected 1..256"),
                (new[] { "--variant", "fp16" }, "--variant: No model variant 'fp16'"),
            })
            {
                (code, _, stderr) = await OnnxTools.Mlnt(["perplexity", "--model", OnnxTools.TinyLlama, "--file", slice, .. args]);
                Assert.AreEqual(2, code, stderr);
                Assert.AreEqual(1, stderr.Trim().Split('\n').Length, stderr);
                StringAssert.StartsWith(stderr, "mlnt: error: " + message);
            }

            // A model folder whose ONNX file is truncated: exit 2, one line naming the file.
            byte[] truncated = File.ReadAllBytes(OnnxTools.TinyLlamaModel)[..100_000];
            string folder = OnnxTools.CopyModelFolder(Path.Combine(directory, "truncated"), truncated);
            (code, _, stderr) = await OnnxTools.Mlnt("perplexity", "--model", folder, "--file", slice);
            Assert.AreEqual(2, code, stderr);
            Assert.AreEqual(1, stderr.Trim().Split('\n').Length, stderr);
            StringAssert.StartsWith(stderr, "mlnt: error: invalid model:");
            StringAssert.Contains(stderr, Path.Combine(folder, "onnx", "model.onnx"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}

[TestClass]
public sealed class OptimizeCommandTests
{
    [TestMethod]
    public async Task ExtendedFusesNormsAndKeepsTheLogits()
    {
        string directory = OnnxTools.TempDirectory("opt");
        try
        {
            string output = Path.Combine(directory, "sub", "model-extended.onnx");
            var (code, stdout, stderr) = await OnnxTools.Mlnt("optimize", "--model", OnnxTools.TinyLlama, "--out", output, "--level", "extended", "--json", "--threads", "1");
            Assert.AreEqual(0, code, stderr);
            JsonElement report = OnnxTools.SingleJson(stdout);
            Assert.AreEqual(output, report.GetProperty("out").GetString());
            Assert.IsTrue(File.Exists(output));

            // The report is the files' own histograms.
            using (OnnxModel original = OnnxModel.Load(OnnxTools.TinyLlamaModel))
            using (OnnxModel optimized = OnnxModel.Load(output))
            {
                var before = OnnxModelSummary.Create(original);
                var after = OnnxModelSummary.Create(optimized);
                Assert.AreEqual(before.NodeCount, report.GetProperty("nodes_before").GetInt32());
                Assert.AreEqual(after.NodeCount, report.GetProperty("nodes_after").GetInt32());
                CollectionAssert.AreEqual(
                    after.Operators.Select(p => $"{p.Key}={p.Value}").ToArray(),
                    report.GetProperty("ops_after").EnumerateObject().Select(p => $"{p.Name}={p.Value.GetInt32()}").ToArray());
            }

            // Fusions in the expected direction: RMSNorm (Pow/ReduceMean/Add/Sqrt/Div/Mul) becomes SimplifiedLayerNormalization,
            // one per norm (2 per layer + the final one); fewer nodes; no new node kinds without a fusion.
            int layers = OnnxTools.Config().GetProperty("num_hidden_layers").GetInt32();
            JsonElement opsBefore = report.GetProperty("ops_before");
            JsonElement opsAfter = report.GetProperty("ops_after");
            Assert.IsFalse(opsBefore.TryGetProperty("SimplifiedLayerNormalization", out _));
            Assert.AreEqual((2 * layers) + 1, opsAfter.GetProperty("SimplifiedLayerNormalization").GetInt32());
            Assert.AreEqual((2 * layers) + 1, opsBefore.GetProperty("ReduceMean").GetInt32());
            Assert.IsFalse(opsAfter.TryGetProperty("ReduceMean", out _));
            Assert.IsFalse(opsAfter.TryGetProperty("Constant", out _), "constants are folded into initializers");
            Assert.IsLessThan(report.GetProperty("nodes_before").GetInt32(), report.GetProperty("nodes_after").GetInt32());
            string[] fusions = report.GetProperty("fusions").EnumerateArray().Select(e => e.GetString()!).ToArray();
            CollectionAssert.Contains(fusions, "SimplifiedLayerNormalization");
            Assert.IsTrue(fusions.All(op => !opsBefore.TryGetProperty(op, out _) && opsAfter.GetProperty(op).GetInt32() > 0));

            // It reloads and computes the same logits.
            long[] ids = [1, 378, 4076, 4052, 4046, 4041, 4024, 266, 4027, 355, 1096, 3882, 414, 1167, 2422, 551];
            float[] expected = OnnxTools.Logits(OnnxTools.TinyLlamaModel, ids);
            float[] actual = OnnxTools.Logits(output, ids);
            Assert.HasCount(expected.Length, actual);
            double maxDifference = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
            Assert.IsLessThan(1e-4, maxDifference, $"max |Δlogits| {maxDifference}");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public async Task HumanReportAndExternalData()
    {
        string directory = OnnxTools.TempDirectory("opt-external");
        try
        {
            string input = Path.Combine(directory, "in", "model.onnx");
            Directory.CreateDirectory(Path.GetDirectoryName(input)!);
            using (OnnxModel model = OnnxModel.Load(OnnxTools.TinyLlamaModel))
            {
                model.Save(input, new OnnxSaveOptions { ExternalData = ExternalDataMode.Always });
            }

            string output = Path.Combine(directory, "out", "model.onnx");
            var (code, stdout, stderr) = await OnnxTools.Mlnt("optimize", "--model", input, "--out", output, "--level", "basic", "--threads", "1");
            Assert.AreEqual(0, code, stderr);
            Assert.AreEqual(string.Empty, stdout);
            StringAssert.Contains(stderr, "level:      basic on CPU");
            StringAssert.Contains(stderr, "(+ model.onnx_data)");
            StringAssert.Contains(stderr, "- Constant");
            Assert.IsTrue(File.Exists(output + "_data"), "an input with external data gives an output with external data");
            using (OnnxModel optimized = OnnxModel.Load(output))
            {
                CollectionAssert.AreEqual(new[] { "model.onnx_data" }, optimized.ExternalDataFiles().ToArray());
            }

            long[] ids = [1, 425, 4063, 4056];
            float[] expected = OnnxTools.Logits(OnnxTools.TinyLlamaModel, ids);
            float[] actual = OnnxTools.Logits(output, ids);
            Assert.IsLessThan(1e-4, expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public async Task TheSourceIsNeverOverwritten()
    {
        string directory = OnnxTools.TempDirectory("opt-same");
        try
        {
            string input = Path.Combine(directory, "model.onnx");
            File.Copy(OnnxTools.TinyLlamaModel, input);
            string link = Path.Combine(directory, "link.onnx");
            File.CreateSymbolicLink(link, input);
            string linkedFolder = Path.Combine(directory, "linked-folder");
            Directory.CreateSymbolicLink(linkedFolder, directory);
            byte[] hash = SHA256.HashData(File.ReadAllBytes(input));
            foreach (string output in new[] { input, Path.Combine(directory, ".", "model.onnx"), link, Path.Combine(linkedFolder, "model.onnx"), Path.Combine(linkedFolder, "link.onnx") })
            {
                var (code, stdout, stderr) = await OnnxTools.Mlnt("optimize", "--model", input, "--out", output, "--level", "extended");
                Assert.AreEqual(2, code, stderr);
                Assert.AreEqual(string.Empty, stdout);
                Assert.AreEqual(1, stderr.Trim().Split('\n').Length, stderr);
                StringAssert.StartsWith(stderr, "mlnt: error: --out: ");
                StringAssert.Contains(stderr, "is the input model");
            }

            var (dirCode, _, dirErr) = await OnnxTools.Mlnt("optimize", "--model", directory, "--out", directory);
            Assert.AreEqual(2, dirCode, dirErr);
            CollectionAssert.AreEqual(hash, SHA256.HashData(File.ReadAllBytes(input)), "the source is untouched");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public async Task NotOnnxTruncatedAndBadLevelAreExitTwo()
    {
        string directory = OnnxTools.TempDirectory("opt-bad");
        try
        {
            string text = Path.Combine(directory, "text.onnx");
            File.WriteAllText(text, "definitely not protobuf");
            string truncated = Path.Combine(directory, "truncated.onnx");
            File.WriteAllBytes(truncated, File.ReadAllBytes(OnnxTools.TinyLlamaModel)[..100_000]);
            string output = Path.Combine(directory, "out.onnx");
            foreach (string bad in new[] { text, truncated })
            {
                var (code, stdout, stderr) = await OnnxTools.Mlnt("optimize", "--model", bad, "--out", output, "--json");
                Assert.AreEqual(2, code, stderr);
                Assert.AreEqual(string.Empty, stdout);
                Assert.AreEqual(1, stderr.Trim().Split('\n').Length, stderr);
                StringAssert.StartsWith(stderr, $"mlnt: error: {bad} is not a valid ONNX model");
                Assert.IsFalse(File.Exists(output));
            }

            var (levelCode, _, levelErr) = await OnnxTools.Mlnt("optimize", "--model", OnnxTools.TinyLlama, "--out", output, "--level", "fast");
            Assert.AreEqual(2, levelCode);
            StringAssert.Contains(levelErr, "'fast'");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}

[TestClass]
public sealed class InspectFileAnalysisTests
{
    [TestMethod]
    public async Task ParameterCountOpsetsAndOperatorsOfTheTinyLlama()
    {
        var (code, stdout, stderr) = await OnnxTools.Mlnt("inspect", "--model", OnnxTools.TinyLlama, "--json", "--threads", "1");
        Assert.AreEqual(0, code, stderr);
        JsonElement root = OnnxTools.SingleJson(stdout);

        // Llama parameters from config.json: embeddings and untied lm_head, per layer q/k/v/o (grouped-query sizes), gate/up/down
        // and two RMSNorm weights, and the final norm.
        JsonElement config = OnnxTools.Config();
        long vocab = config.GetProperty("vocab_size").GetInt64();
        long hidden = config.GetProperty("hidden_size").GetInt64();
        long intermediate = config.GetProperty("intermediate_size").GetInt64();
        long layers = config.GetProperty("num_hidden_layers").GetInt64();
        long heads = config.GetProperty("num_attention_heads").GetInt64();
        long kvHeads = config.GetProperty("num_key_value_heads").GetInt64();
        long headDim = config.GetProperty("head_dim").GetInt64();
        long attention = (hidden * heads * headDim) + (2 * hidden * kvHeads * headDim) + (heads * headDim * hidden);
        long mlp = 3 * hidden * intermediate;
        long expected = (vocab * hidden * 2) + (layers * (attention + mlp + (2 * hidden))) + hidden;
        Assert.AreEqual(3_147_456, expected, "README: 3,147,456 parameters");
        Assert.AreEqual(expected, root.GetProperty("parameter_count").GetInt64());
        Assert.AreEqual(4 * expected, root.GetProperty("parameter_bytes").GetInt64());
        JsonElement group = root.GetProperty("parameters_by_dtype").EnumerateArray().Single();
        Assert.AreEqual("float32", group.GetProperty("dtype").GetString());
        Assert.AreEqual(expected, group.GetProperty("elements").GetInt64());
        Assert.AreEqual(3 + (layers * 9), group.GetProperty("tensors").GetInt64(), "embeddings, lm_head, final norm + 9 per layer");

        Assert.AreEqual(14, root.GetProperty("opsets").GetProperty("ai.onnx").GetInt32());
        Assert.AreEqual(1, root.GetProperty("opsets").EnumerateObject().Count());
        Assert.AreEqual(7, root.GetProperty("ir_version").GetInt32());
        var operators = root.GetProperty("operators").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        Assert.IsNotEmpty(operators);
        Assert.AreEqual(root.GetProperty("node_count").GetInt32(), operators.Values.Sum());
        Assert.AreEqual((layers * (7 + 2)) + 1, operators["MatMul"], "7 projections and 2 attention products per layer, and lm_head");
        Assert.AreEqual(layers, operators["Softmax"]);
        Assert.AreEqual(0, root.GetProperty("external_data").GetArrayLength());
        Assert.AreEqual(new FileInfo(OnnxTools.TinyLlamaModel).Length, root.GetProperty("file_bytes").GetInt64());

        // ONNX Runtime's view is still there.
        Assert.AreEqual("CPU", root.GetProperty("effective_providers")[0].GetString());
        Assert.AreEqual(11, root.GetProperty("inputs").GetArrayLength());
    }

    [TestMethod]
    public async Task HumanReportShowsTheFileAnalysis()
    {
        var (code, stdout, stderr) = await OnnxTools.Mlnt("inspect", "--model", OnnxTools.TinyLlamaModel, "--threads", "1");
        Assert.AreEqual(0, code, stderr);
        Assert.AreEqual(string.Empty, stdout);
        StringAssert.Contains(stderr, "effective providers: CPU");
        StringAssert.Contains(stderr, "opsets:              ai.onnx 14");
        StringAssert.Contains(stderr, "parameters:          3,147,456 (12.6 MB)");
        StringAssert.Contains(stderr, "external data:       none");
        StringAssert.Contains(stderr, "operators (947 nodes, 30 types):");
        StringAssert.Contains(stderr, "  MatMul ");
    }

    [TestMethod]
    public async Task ExternalDataFilesAreListed()
    {
        string directory = OnnxTools.TempDirectory("inspect-external");
        try
        {
            string path = Path.Combine(directory, "model.onnx");
            using (OnnxModel model = OnnxModel.Load(OnnxTools.TinyLlamaModel))
            {
                model.Save(path, new OnnxSaveOptions { ExternalData = ExternalDataMode.Always });
            }

            var (code, stdout, stderr) = await OnnxTools.Mlnt("inspect", "--model", path, "--json", "--threads", "1");
            Assert.AreEqual(0, code, stderr);
            JsonElement root = OnnxTools.SingleJson(stdout);
            JsonElement data = root.GetProperty("external_data").EnumerateArray().Single();
            Assert.AreEqual("model.onnx_data", data.GetProperty("file").GetString());
            Assert.AreEqual(new FileInfo(path + "_data").Length, data.GetProperty("bytes").GetInt64());
            Assert.IsGreaterThanOrEqualTo(4 * 3_000_000L, data.GetProperty("bytes").GetInt64());
            Assert.AreEqual(3_147_456, root.GetProperty("parameter_count").GetInt64());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public async Task TruncatedFileIsExitTwoNamingIt()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlnt-truncated-{Guid.NewGuid():N}.onnx");
        try
        {
            File.WriteAllBytes(path, File.ReadAllBytes(OnnxTools.TinyLlamaModel)[..100_000]);
            var (code, stdout, stderr) = await OnnxTools.Mlnt("inspect", "--model", path, "--json");
            Assert.AreEqual(2, code);
            Assert.AreEqual(string.Empty, stdout);
            Assert.AreEqual(1, stderr.Trim().Split('\n').Length, stderr);
            StringAssert.StartsWith(stderr, "mlnt: error: invalid model:");
            StringAssert.Contains(stderr, path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
