using System.Diagnostics;
using System.Text.Json;

[assembly: Parallelize(Workers = 2, Scope = ExecutionScope.MethodLevel)]

namespace MLNetTransformers.Cli.Tests;

/// <summary>Drives <c>mlnt</c> in-process through <see cref="CliApp.RunAsync"/> with captured streams.</summary>
[TestClass]
public sealed class InspectCommandTests
{
    private static readonly string TinyLlama = Path.Combine(AppContext.BaseDirectory, "models", "tiny-llama");

    internal static async Task<(int Code, string Out, string Err)> Mlnt(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = await CliApp.RunAsync(args, stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [TestMethod]
    public async Task JsonDescribesTheTinyLlamaDecoder()
    {
        var (code, stdout, stderr) = await Mlnt("inspect", "--model", TinyLlama, "--json", "--threads", "1");
        Assert.AreEqual(0, code, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual(1, lines.Length, "one JSON object per line and nothing else on stdout");
        using var doc = JsonDocument.Parse(lines[0]);
        JsonElement root = doc.RootElement;
        Assert.AreEqual("1.30.0", root.GetProperty("onnxruntime_version").GetString());
        Assert.AreEqual("CPU", root.GetProperty("effective_providers")[0].GetString());
        Assert.IsTrue(root.GetProperty("available_providers").EnumerateArray().Any(p => p.GetString() == "CPUExecutionProvider"));

        // The tiny Llama has 4 layers with 2 KV heads of size 32 (config.json): 3 + 8 inputs, 1 + 8 outputs.
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(TinyLlama, "config.json")));
        int layers = config.RootElement.GetProperty("num_hidden_layers").GetInt32();
        int kvHeads = config.RootElement.GetProperty("num_key_value_heads").GetInt32();
        int headDim = config.RootElement.GetProperty("hidden_size").GetInt32() / config.RootElement.GetProperty("num_attention_heads").GetInt32();
        int vocab = config.RootElement.GetProperty("vocab_size").GetInt32();
        var inputs = root.GetProperty("inputs").EnumerateArray().ToList();
        var outputs = root.GetProperty("outputs").EnumerateArray().ToList();
        Assert.AreEqual(3 + (2 * layers), inputs.Count);
        Assert.AreEqual(1 + (2 * layers), outputs.Count);
        Assert.AreEqual("input_ids", inputs[0].GetProperty("name").GetString());
        Assert.AreEqual("int64", inputs[0].GetProperty("type").GetString());
        Assert.AreEqual("batch_size", inputs[0].GetProperty("shape")[0].GetString());
        JsonElement pastKey = inputs.Single(i => i.GetProperty("name").GetString() == "past_key_values.0.key");
        Assert.AreEqual("float32", pastKey.GetProperty("type").GetString());
        Assert.AreEqual(kvHeads, pastKey.GetProperty("shape")[1].GetInt32());
        Assert.AreEqual(headDim, pastKey.GetProperty("shape")[3].GetInt32());
        Assert.AreEqual(vocab, outputs[0].GetProperty("shape")[2].GetInt32());
        Assert.IsGreaterThan(0.0, root.GetProperty("load_ms").GetDouble());
    }

    [TestMethod]
    public async Task HumanReportGoesToStderrAndStdoutStaysEmpty()
    {
        var (code, stdout, stderr) = await Mlnt("inspect", "--model", Path.Combine(TinyLlama, "onnx", "model.onnx"), "--threads", "1");
        Assert.AreEqual(0, code, stderr);
        Assert.AreEqual(string.Empty, stdout);
        StringAssert.Contains(stderr, "input_ids: int64[batch_size, sequence_length]");
        StringAssert.Contains(stderr, "effective providers: CPU");
        StringAssert.Contains(stderr, "load time:");
    }

    [TestMethod]
    public async Task MissingModelIsExitTwoWithOneLineNamingIt()
    {
        string missing = Path.Combine(Path.GetTempPath(), "mlnt-missing-model-dir");
        var (code, stdout, stderr) = await Mlnt("inspect", "--model", missing);
        Assert.AreEqual(2, code);
        Assert.AreEqual(string.Empty, stdout);
        Assert.AreEqual($"mlnt: error: --model: no such file or folder: {missing}", stderr.TrimEnd());
    }

    [TestMethod]
    public async Task CorruptModelIsExitTwoWithoutAStackTrace()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlnt-corrupt-{Guid.NewGuid():N}.onnx");
        await File.WriteAllTextAsync(path, "definitely not protobuf");
        var (code, _, stderr) = await Mlnt("inspect", "--model", path);
        Assert.AreEqual(2, code);
        Assert.AreEqual(1, stderr.Trim().Split('\n').Length, stderr);
        StringAssert.StartsWith(stderr, "mlnt: error: invalid model: [InvalidProtobuf]");
        StringAssert.Contains(stderr, path);
        Assert.IsFalse(stderr.Contains("   at ", StringComparison.Ordinal), "no stack trace");
    }

    [TestMethod]
    public async Task FolderWithoutAnOnnxFileIsExitTwo()
    {
        string directory = Directory.CreateTempSubdirectory("mlnt-empty").FullName;
        var (code, _, stderr) = await Mlnt("inspect", "--model", directory);
        Assert.AreEqual(2, code);
        StringAssert.Contains(stderr, $"no .onnx file in {directory}");
    }

    [TestMethod]
    public async Task UsageErrorsAreExitTwo()
    {
        var (missingOption, _, err1) = await Mlnt("inspect");
        Assert.AreEqual(2, missingOption);
        StringAssert.Contains(err1, "--model");

        var (unknown, _, err2) = await Mlnt("inspect", "--model", TinyLlama, "--frobnicate");
        Assert.AreEqual(2, unknown);
        StringAssert.Contains(err2, "--frobnicate");

        var (badProvider, _, err3) = await Mlnt("inspect", "--model", TinyLlama, "--provider", "cuda:x");
        Assert.AreEqual(2, badProvider);
        StringAssert.Contains(err3, "--provider: Invalid device id 'x'");
    }

    [TestMethod]
    public async Task CudaOnThisCpuBuildFailsStrictlyOrFallsBackWhenAskedTo()
    {
        var (strict, _, strictErr) = await Mlnt("inspect", "--model", TinyLlama, "--provider", "cuda", "--threads", "1");
        Assert.AreEqual(1, strict);
        StringAssert.StartsWith(strictErr, "mlnt: error: ");
        StringAssert.Contains(strictErr, "execution provider CUDA could not be added");

        var (fallback, stdout, fallbackErr) = await Mlnt("inspect", "--model", TinyLlama, "--provider", "cuda", "--provider-fallback", "--json", "--threads", "1");
        Assert.AreEqual(0, fallback, fallbackErr);
        StringAssert.Contains(fallbackErr, "mlnt: warning:");
        using var doc = JsonDocument.Parse(stdout);
        Assert.AreEqual(1, doc.RootElement.GetProperty("effective_providers").GetArrayLength());
        Assert.AreEqual("CUDA", doc.RootElement.GetProperty("provider_fallbacks")[0].GetProperty("provider").GetString());
    }
}

/// <summary>Runs the real <c>mlnt</c> executable: process exit codes and a native library that cannot be found.</summary>
[TestClass]
public sealed class MlntProcessTests
{
    private static (int Code, string Out, string Err) RunProcess(IDictionary<string, string?> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "mlnt.dll"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var pair in environment)
        {
            start.Environment[pair.Key] = pair.Value;
        }

        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("mlnt did not exit within 120 s");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    [TestMethod]
    public void InspectRunsAsAProcessWithExitCodeZero()
    {
        var (code, stdout, stderr) = RunProcess(new Dictionary<string, string?>(), "inspect", "--model", Path.Combine(AppContext.BaseDirectory, "models", "tiny-llama"), "--json", "--threads", "1");
        Assert.AreEqual(0, code, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.AreEqual(11, doc.RootElement.GetProperty("inputs").GetArrayLength());
    }

    [TestMethod]
    public void TokenizerNeedingUnicodeNormalizationRefusesToRunUnderInvariantGlobalization()
    {
        string directory = Directory.CreateTempSubdirectory("mlnt-nfd").FullName;
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"),
            "{\"normalizer\": {\"type\": \"NFD\"}, \"pre_tokenizer\": {\"type\": \"Whitespace\"}, \"model\": {\"type\": \"WordLevel\", \"vocab\": {\"[UNK]\": 0}, \"unk_token\": \"[UNK]\"}}");
        var (code, stdout, stderr) = RunProcess(new Dictionary<string, string?> { ["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1" }, "tokenize", "--model", directory, "--text", "é");
        Assert.AreEqual(2, code, stderr);
        Assert.AreEqual(string.Empty, stdout);
        StringAssert.Contains(stderr, "needs Unicode normalization (FormD)");
        StringAssert.Contains(stderr, "invariant");

        var (ok, okOut, okErr) = RunProcess(new Dictionary<string, string?>(), "tokenize", "--model", directory, "--text", "é");
        Assert.AreEqual(0, ok, okErr);
        Assert.AreEqual("0", okOut.Trim());
    }

    [TestMethod]
    public void NativeLibraryThatCannotBeFoundIsExitOneListingWhereItLooked()
    {
        string badPath = Path.Combine(Path.GetTempPath(), "mlnt-no-ort", "libonnxruntime.so.1");
        var (code, stdout, stderr) = RunProcess(
            new Dictionary<string, string?> { ["MLNT_ONNXRUNTIME_PATH"] = badPath },
            "inspect", "--model", Path.Combine(AppContext.BaseDirectory, "models", "tiny-llama"));
        Assert.AreEqual(1, code);
        Assert.AreEqual(string.Empty, stdout);
        Assert.AreEqual(1, stderr.Trim().Split('\n').Length, stderr);
        StringAssert.Contains(stderr, "The native ONNX Runtime library could not be loaded");
        StringAssert.Contains(stderr, $"environment variable MLNT_ONNXRUNTIME_PATH: {badPath} (file does not exist)");
    }
}

/// <summary><c>mlnt tokenize</c>, <c>detokenize</c> and <c>bench --scenario tokenize</c> on the default model's tokenizer.</summary>
[TestClass]
public sealed class TokenizeCommandTests
{
    private static readonly string TinyLlama = Path.Combine(AppContext.BaseDirectory, "models", "tiny-llama");

    [TestMethod]
    public async Task TokenizeJsonHasIdsTokensAndOffsetsPerInputLine()
    {
        string file = Path.Combine(Path.GetTempPath(), $"mlnt-lines-{Guid.NewGuid():N}.txt");
        await File.WriteAllLinesAsync(file, ["Hello world", "POLITICS, n."]);
        var (code, stdout, stderr) = await InspectCommandTests.Mlnt("tokenize", "--model", TinyLlama, "--file", file, "--json");
        Assert.AreEqual(0, code, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual(2, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        CollectionAssert.AreEqual(new[] { 1, 506, 420, 4011, 1577 }, first.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        CollectionAssert.AreEqual(new[] { "<s>", "▁H", "ell", "o", "▁world" }, first.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetString()).ToArray());
        var offsets = first.RootElement.GetProperty("offsets").EnumerateArray().Select(o => (o[0].GetInt32(), o[1].GetInt32())).ToArray();
        CollectionAssert.AreEqual(new[] { (0, 0), (0, 1), (1, 4), (4, 5), (5, 11) }, offsets);
        using var second = JsonDocument.Parse(lines[1]);
        // The reference prompt ids of models/tiny-llama/reference/greedy.jsonl.
        CollectionAssert.AreEqual(new[] { 1, 425, 4063, 4056, 4046, 4044, 4046, 4041, 4039, 4024, 266, 4027 }, second.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
    }

    [TestMethod]
    public async Task TokenizeWithoutSpecialTokensAndPlainOutput()
    {
        var (code, stdout, _) = await InspectCommandTests.Mlnt("tokenize", "--model", TinyLlama, "--text", "Hello world", "--no-special");
        Assert.AreEqual(0, code);
        Assert.AreEqual("506 420 4011 1577", stdout.Trim());
    }

    [TestMethod]
    public async Task DetokenizeRoundTripsAndNamesBadIds()
    {
        var (code, stdout, _) = await InspectCommandTests.Mlnt("detokenize", "--model", TinyLlama, "--ids", "1,506,420,4011,1577", "--skip-special");
        Assert.AreEqual(0, code);
        Assert.AreEqual("Hello world", stdout.TrimEnd('\n'));

        var (json, jsonOut, _) = await InspectCommandTests.Mlnt("detokenize", "--model", TinyLlama, "--ids", "1,506", "--json");
        Assert.AreEqual(0, json);
        Assert.AreEqual("<s> H", JsonDocument.Parse(jsonOut).RootElement.GetProperty("text").GetString());

        var (outOfRange, _, err) = await InspectCommandTests.Mlnt("detokenize", "--model", TinyLlama, "--ids", "1,99999");
        Assert.AreEqual(2, outOfRange);
        StringAssert.Contains(err, "Token id 99999 (at index 1)");

        var (notNumber, _, err2) = await InspectCommandTests.Mlnt("detokenize", "--model", TinyLlama, "--ids", "1,x");
        Assert.AreEqual(2, notNumber);
        StringAssert.Contains(err2, "--ids: 'x' is not an integer");
    }

    [TestMethod]
    public async Task TokenizeInputErrorsAreExitTwo()
    {
        var (both, _, err) = await InspectCommandTests.Mlnt("tokenize", "--model", TinyLlama);
        Assert.AreEqual(2, both);
        StringAssert.Contains(err, "exactly one of --text or --file");

        var (missingFile, _, err2) = await InspectCommandTests.Mlnt("tokenize", "--model", TinyLlama, "--file", "/no/such/file.txt");
        Assert.AreEqual(2, missingFile);
        StringAssert.Contains(err2, "--file: no such file: /no/such/file.txt");

        string broken = Directory.CreateTempSubdirectory("mlnt-broken-tok").FullName;
        await File.WriteAllTextAsync(Path.Combine(broken, "tokenizer.json"), "{\"model\": {\"type\": \"Nope\"}}");
        var (badModel, _, err3) = await InspectCommandTests.Mlnt("tokenize", "--model", broken, "--text", "x");
        Assert.AreEqual(2, badModel);
        StringAssert.Contains(err3, "$.model.type: unknown model type 'Nope'");
    }

    [TestMethod]
    public async Task BenchTokenizeReportsTheContractFields()
    {
        string file = Path.Combine(Path.GetTempPath(), $"mlnt-bench-{Guid.NewGuid():N}.txt");
        await File.WriteAllLinesAsync(file, Enumerable.Range(0, 50).Select(i => $"Line {i}: the quick brown fox jumps over the lazy dog."));
        var (code, stdout, stderr) = await InspectCommandTests.Mlnt("bench", "--model", TinyLlama, "--scenario", "tokenize", "--file", file, "--seconds", "0.2", "--json");
        Assert.AreEqual(0, code, stderr);
        using var doc = JsonDocument.Parse(stdout);
        JsonElement root = doc.RootElement;
        Assert.AreEqual("tokenize", root.GetProperty("scenario").GetString());
        foreach (string field in new[] { "tokens_per_s", "p50_ms", "p95_ms", "peak_rss_mb", "mb_per_s" })
        {
            Assert.IsGreaterThan(0.0, root.GetProperty(field).GetDouble(), field);
        }

        Assert.AreEqual(JsonValueKind.Null, root.GetProperty("ttft_ms").ValueKind);
        Assert.IsLessThanOrEqualTo(root.GetProperty("p95_ms").GetDouble(), root.GetProperty("p50_ms").GetDouble());

        var (unknown, _, err) = await InspectCommandTests.Mlnt("bench", "--model", TinyLlama, "--scenario", "warp");
        Assert.AreEqual(2, unknown);
        StringAssert.Contains(err, "unknown scenario 'warp'");
    }
}
