using System.Security.Cryptography;
using System.Text.Json;
using MLNetTransformers.Onnx.Builders;
using MLNetTransformers.Onnx.Model;

namespace MLNetTransformers.Cli.Tests;

[TestClass]
public sealed class QuantizeCommandTests
{
    private static readonly string[] CopiedFiles = ["config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];

    [TestMethod]
    [DataRow("int8", new[] { "com.microsoft.DynamicQuantizeMatMul", "MatMulInteger" })]
    [DataRow("int4", new[] { "com.microsoft.MatMulNBits" })]
    public async Task QuantizesIntoASmallerModelFolder(string mode, string[] expectedOperators)
    {
        string directory = OnnxTools.TempDirectory("quantize-" + mode);
        try
        {
            string output = Path.Combine(directory, "out");
            var (code, stdout, stderr) = await OnnxTools.Mlnt("quantize", "--model", OnnxTools.TinyLlama, "--out", output, "--mode", mode, "--json", "--threads", "1");
            Assert.AreEqual(0, code, stderr);
            JsonElement report = OnnxTools.SingleJson(stdout);

            string model = Path.Combine(output, "onnx", "model.onnx");
            Assert.IsTrue(File.Exists(model), model);
            foreach (string file in CopiedFiles)
            {
                string copy = Path.Combine(output, file);
                Assert.IsTrue(File.Exists(copy), copy);
                CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(OnnxTools.TinyLlama, file)), File.ReadAllBytes(copy), file);
            }

            Assert.AreEqual(mode, report.GetProperty("mode").GetString());
            Assert.AreEqual(model, report.GetProperty("output").GetString());
            Assert.IsTrue(report.GetProperty("verified").GetBoolean());
            Assert.IsGreaterThan(0, report.GetProperty("quantized_nodes").GetInt32());
            long inputBytes = new FileInfo(OnnxTools.TinyLlamaModel).Length;
            long outputBytes = new FileInfo(model).Length;
            Assert.AreEqual(inputBytes, report.GetProperty("input_bytes").GetInt64());
            Assert.AreEqual(outputBytes, report.GetProperty("output_bytes").GetInt64());
            Assert.IsLessThan(inputBytes / 2, outputBytes, $"{mode}: {outputBytes} bytes from {inputBytes}");
            Assert.IsLessThan(report.GetProperty("parameter_bytes_before").GetInt64(), report.GetProperty("parameter_bytes_after").GetInt64());

            using OnnxModel written = OnnxModel.Load(model);
            var operators = OnnxModelSummary.Create(written).Operators.Select(p => p.Key).ToHashSet();
            Assert.IsTrue(expectedOperators.Any(operators.Contains), $"{mode}: operators {string.Join(", ", operators)}");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    [DataRow("int8")]
    [DataRow("int4")]
    [DataRow("fp16")]
    public async Task EvalKeepsThePerplexityWithinTenPercent(string mode)
    {
        string directory = OnnxTools.TempDirectory("quantize-eval-" + mode);
        try
        {
            string slice = OnnxTools.ValidationSlice(directory, 40);
            string output = Path.Combine(directory, "out");
            var (code, stdout, stderr) = await OnnxTools.Mlnt(
                "quantize", "--model", OnnxTools.TinyLlama, "--out", output, "--mode", mode,
                "--eval", slice, "--eval-max-tokens", "1024", "--eval-runs", "3", "--json", "--threads", "1");
            Assert.AreEqual(0, code, stderr);
            JsonElement report = OnnxTools.SingleJson(stdout);

            JsonElement eval = report.GetProperty("eval");
            Assert.AreEqual("decoder", eval.GetProperty("kind").GetString());
            Assert.AreEqual(slice, eval.GetProperty("file").GetString());
            Assert.AreEqual(1024, eval.GetProperty("tokens").GetInt32());
            Assert.AreEqual(1023, eval.GetProperty("predicted_tokens").GetInt32());
            Assert.AreEqual(256, eval.GetProperty("window").GetInt32());
            Assert.AreEqual(64, eval.GetProperty("latency_tokens").GetInt32());
            Assert.AreEqual(3, eval.GetProperty("latency_runs").GetInt32());

            JsonElement original = report.GetProperty("original");
            JsonElement quantized = report.GetProperty("quantized");
            double before = original.GetProperty("perplexity").GetDouble();
            double after = quantized.GetProperty("perplexity").GetDouble();
            Assert.IsTrue(double.IsFinite(before) && before is > 5 and < 200, $"original perplexity {before}");
            Assert.IsTrue(double.IsFinite(after), $"quantized perplexity {after}");
            Assert.IsLessThanOrEqualTo(before * 1.10, after, $"{mode}: perplexity {before} -> {after}");
            Assert.AreEqual((after - before) / before, report.GetProperty("relative_perplexity_change").GetDouble(), 1e-12);

            Assert.AreEqual(report.GetProperty("input_bytes").GetInt64(), original.GetProperty("file_bytes").GetInt64());
            Assert.AreEqual(report.GetProperty("output_bytes").GetInt64(), quantized.GetProperty("file_bytes").GetInt64());
            Assert.AreEqual(report.GetProperty("parameter_bytes_before").GetInt64(), original.GetProperty("parameter_bytes").GetInt64());
            Assert.AreEqual(report.GetProperty("parameter_bytes_after").GetInt64(), quantized.GetProperty("parameter_bytes").GetInt64());
            Assert.IsLessThan(original.GetProperty("file_bytes").GetInt64(), quantized.GetProperty("file_bytes").GetInt64());
            foreach (JsonElement side in new[] { original, quantized })
            {
                double median = side.GetProperty("latency_ms").GetDouble();
                Assert.IsTrue(median > 0 && side.GetProperty("latency_ms_min").GetDouble() <= median, side.ToString());
            }

            // The original's number is mlnt perplexity's on the same tokens: the same procedure, not an approximation of it.
            (code, stdout, stderr) = await OnnxTools.Mlnt("perplexity", "--model", OnnxTools.TinyLlama, "--file", slice, "--max-tokens", "1024", "--json", "--threads", "1");
            Assert.AreEqual(0, code, stderr);
            Assert.AreEqual(OnnxTools.SingleJson(stdout).GetProperty("perplexity").GetDouble(), before, 1e-9 * before);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public async Task EvalHumanReportIsOnStderr()
    {
        string directory = OnnxTools.TempDirectory("quantize-eval-human");
        try
        {
            string slice = OnnxTools.ValidationSlice(directory, 20);
            string output = Path.Combine(directory, "model-int8.onnx");
            var (code, stdout, stderr) = await OnnxTools.Mlnt(
                "quantize", "--model", OnnxTools.TinyLlama, "--out", output, "--mode", "int8", "--eval", slice, "--eval-max-tokens", "300", "--eval-runs", "2", "--threads", "1");
            Assert.AreEqual(0, code, stderr);
            Assert.AreEqual(string.Empty, stdout);
            Assert.IsTrue(File.Exists(output));
            StringAssert.Contains(stderr, "eval:       slice.txt (decoder: perplexity over 300 tokens in windows of 256;");
            StringAssert.Contains(stderr, "file size (bytes)");
            StringAssert.Contains(stderr, "parameter bytes");
            StringAssert.Contains(stderr, "perplexity   ");
            StringAssert.Contains(stderr, "latency (64 tok)");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public async Task EvalOfAnEncoderReportsTheOutputCosine()
    {
        string directory = OnnxTools.TempDirectory("quantize-eval-bert");
        try
        {
            string bert = Path.Combine(directory, "bert");
            new BertBuilder(new BertBuilderOptions { Layers = 2, Hidden = 64, Heads = 4, Vocab = 500, MaxPositions = 64, Seed = 7 }).WriteFolder(bert);
            string slice = OnnxTools.ValidationSlice(directory, 20);
            var (code, stdout, stderr) = await OnnxTools.Mlnt(
                "quantize", "--model", bert, "--out", Path.Combine(directory, "out"), "--mode", "int8", "--eval", slice, "--eval-max-tokens", "400", "--eval-runs", "2", "--json", "--threads", "1");
            Assert.AreEqual(0, code, stderr);
            JsonElement report = OnnxTools.SingleJson(stdout);
            JsonElement eval = report.GetProperty("eval");
            Assert.AreEqual("encoder", eval.GetProperty("kind").GetString());
            Assert.AreEqual("last_hidden_state", eval.GetProperty("compared_output").GetString());
            Assert.AreEqual(64, eval.GetProperty("max_line_tokens").GetInt32(), "max_position_embeddings");
            Assert.IsTrue(eval.GetProperty("tokens").GetInt32() is > 0 and <= 400);
            Assert.IsGreaterThan(0, eval.GetProperty("lines").GetInt32());
            Assert.IsFalse(report.TryGetProperty("relative_perplexity_change", out _));
            double mean = report.GetProperty("mean_cosine_similarity").GetDouble();
            double min = report.GetProperty("min_cosine_similarity").GetDouble();
            Assert.IsTrue(mean is > 0.95 and <= 1 + 1e-9, $"mean cosine {mean}");
            Assert.IsTrue(min <= mean + 1e-12, $"min {min}, mean {mean}");
            Assert.AreEqual(mean, report.GetProperty("quantized").GetProperty("cosine_similarity").GetDouble());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public async Task OutputEqualToInputIsRefusedAndTheSourceIsUntouched()
    {
        string directory = OnnxTools.TempDirectory("quantize-same");
        try
        {
            string folder = OnnxTools.CopyModelFolder(Path.Combine(directory, "model"));
            string model = Path.Combine(folder, "onnx", "model.onnx");
            byte[] hash = SHA256.HashData(File.ReadAllBytes(model));
            string link = Path.Combine(directory, "link.onnx");
            File.CreateSymbolicLink(link, model);
            foreach (var (input, output) in new[] { (folder, folder), (model, model), (folder, model), (model, link), (folder, Path.Combine(folder, ".", "onnx", "model.onnx")) })
            {
                var (code, stdout, stderr) = await OnnxTools.Mlnt("quantize", "--model", input, "--out", output, "--mode", "int8", "--json");
                Assert.AreEqual(2, code, $"{input} -> {output}: {stderr}");
                Assert.AreEqual(string.Empty, stdout);
                Assert.AreEqual(1, stderr.Trim().Split('\n').Length, stderr);
                StringAssert.StartsWith(stderr, "mlnt: error: --out: ");
                StringAssert.Contains(stderr, "is the input model");
            }

            CollectionAssert.AreEqual(hash, SHA256.HashData(File.ReadAllBytes(model)), "the source is untouched");
            CollectionAssert.AreEquivalent(
                new[] { "config.json", "onnx", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json" },
                Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName).ToArray(),
                "nothing was written into the source folder");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public async Task MissingOrEmptyCalibrationIsExitTwo()
    {
        string directory = OnnxTools.TempDirectory("quantize-calibration");
        try
        {
            string missing = Path.Combine(directory, "missing.txt");
            string empty = Path.Combine(directory, "empty.txt");
            File.WriteAllText(empty, string.Empty);
            string blank = Path.Combine(directory, "blank.txt");
            File.WriteAllText(blank, "\n  \n\t\n");
            string output = Path.Combine(directory, "out.onnx");
            foreach (var (file, message) in new[]
            {
                (missing, $"--calibration: no such file: {missing}"),
                (empty, $"--calibration: {empty} is empty"),
                (blank, $"--calibration: {blank} is empty"),
            })
            {
                var (code, stdout, stderr) = await OnnxTools.Mlnt("quantize", "--model", OnnxTools.TinyLlama, "--out", output, "--mode", "int8-static", "--calibration", file, "--json");
                Assert.AreEqual(2, code, stderr);
                Assert.AreEqual(string.Empty, stdout);
                Assert.AreEqual(1, stderr.Trim().Split('\n').Length, stderr);
                StringAssert.StartsWith(stderr, "mlnt: error: " + message);
                Assert.IsFalse(File.Exists(output));
            }

            var (noFile, _, noFileErr) = await OnnxTools.Mlnt("quantize", "--model", OnnxTools.TinyLlama, "--out", output, "--mode", "int8-static");
            Assert.AreEqual(2, noFile, noFileErr);
            StringAssert.StartsWith(noFileErr, "mlnt: error: --mode int8-static needs --calibration F");
            Assert.IsFalse(File.Exists(output));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public async Task UnknownModeIsExitTwo()
    {
        string output = Path.Combine(Path.GetTempPath(), $"mlnt-mode-{Guid.NewGuid():N}.onnx");
        var (code, stdout, stderr) = await OnnxTools.Mlnt("quantize", "--model", OnnxTools.TinyLlama, "--out", output, "--mode", "int3");
        Assert.AreEqual(2, code, stderr);
        Assert.AreEqual(string.Empty, stdout);
        Assert.AreEqual(1, stderr.Trim().Split('\n').Length, stderr);
        StringAssert.StartsWith(stderr, "mlnt: error: ");
        StringAssert.Contains(stderr, "'int3'");
        Assert.IsFalse(File.Exists(output));
    }

    [TestMethod]
    public async Task TruncatedModelIsExitTwoNamingTheFile()
    {
        string directory = OnnxTools.TempDirectory("quantize-truncated");
        try
        {
            byte[] truncated = File.ReadAllBytes(OnnxTools.TinyLlamaModel)[..100_000];
            string file = Path.Combine(directory, "truncated.onnx");
            File.WriteAllBytes(file, truncated);
            string folder = OnnxTools.CopyModelFolder(Path.Combine(directory, "folder"), truncated);
            string output = Path.Combine(directory, "out");
            foreach (var (model, named) in new[] { (file, file), (folder, Path.Combine(folder, "onnx", "model.onnx")) })
            {
                var (code, stdout, stderr) = await OnnxTools.Mlnt("quantize", "--model", model, "--out", output, "--mode", "int4", "--json");
                Assert.AreEqual(2, code, stderr);
                Assert.AreEqual(string.Empty, stdout);
                Assert.AreEqual(1, stderr.Trim().Split('\n').Length, stderr);
                StringAssert.StartsWith(stderr, $"mlnt: error: {named} is not a valid ONNX model");
                Assert.IsFalse(Directory.Exists(output));
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public async Task BadEvalOptionsAreExitTwoBeforeAnythingIsWritten()
    {
        string directory = OnnxTools.TempDirectory("quantize-eval-bad");
        try
        {
            string slice = OnnxTools.ValidationSlice(directory, 3);
            string missing = Path.Combine(directory, "missing.txt");
            string empty = Path.Combine(directory, "empty.txt");
            File.WriteAllText(empty, string.Empty);
            string output = Path.Combine(directory, "out");
            foreach (var (args, message) in new[]
            {
                (new[] { "--eval", missing }, $"--eval: no such file: {missing}"),
                (new[] { "--eval", empty }, $"--eval: {empty} has no tokens to evaluate (it is empty)."),
                (new[] { "--eval", slice, "--eval-max-tokens", "1" }, "--eval-max-tokens: expected at least 2, got 1."),
                (new[] { "--eval", slice, "--eval-window", "1024" }, "--eval-window: 1024 is longer than the model's max_position_embeddings (512"),
                (new[] { "--eval", slice, "--eval-runs", "0" }, "--eval-runs: expected a positive number, got 0."),
                (new[] { "--eval-max-tokens", "100" }, "--eval-max-tokens, --eval-window and --eval-runs apply with --eval F only."),
            })
            {
                var (code, stdout, stderr) = await OnnxTools.Mlnt(["quantize", "--model", OnnxTools.TinyLlama, "--out", output, "--mode", "int8", "--json", .. args]);
                Assert.AreEqual(2, code, stderr);
                Assert.AreEqual(string.Empty, stdout);
                Assert.AreEqual(1, stderr.Trim().Split('\n').Length, stderr);
                StringAssert.StartsWith(stderr, "mlnt: error: " + message);
                Assert.IsFalse(Directory.Exists(output), string.Join(" ", args));
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
