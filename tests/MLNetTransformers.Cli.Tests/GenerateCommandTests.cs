using System.Text.Json;

namespace MLNetTransformers.Cli.Tests;

/// <summary><c>mlnt generate</c> on the default model against its PyTorch reference.</summary>
[TestClass]
public sealed class GenerateCommandTests
{
    private static readonly string TinyLlama = Path.Combine(AppContext.BaseDirectory, "models", "tiny-llama");

    [TestMethod]
    public async Task GreedyJsonMatchesTheReferenceContinuation()
    {
        string reference = File.ReadLines(Path.Combine(RepositoryRoot(), "models", "tiny-llama", "reference", "greedy.jsonl")).First();
        using var expected = JsonDocument.Parse(reference);
        var (code, stdout, stderr) = await InspectCommandTests.Mlnt("generate", "--model", TinyLlama, "--prompt", expected.RootElement.GetProperty("prompt").GetString()!, "--json", "--threads", "1");
        Assert.AreEqual(0, code, stderr);
        using var result = JsonDocument.Parse(stdout);
        CollectionAssert.AreEqual(
            expected.RootElement.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            result.RootElement.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        CollectionAssert.AreEqual(
            expected.RootElement.GetProperty("new_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            result.RootElement.GetProperty("new_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        Assert.AreEqual("eos", result.RootElement.GetProperty("finish_reason").GetString());
        Assert.AreEqual(" " + expected.RootElement.GetProperty("text").GetString(), result.RootElement.GetProperty("text").GetString());
    }

    [TestMethod]
    public async Task StreamsTextToStdoutAndStopsOnAStopString()
    {
        var (code, stdout, stderr) = await InspectCommandTests.Mlnt("generate", "--model", TinyLlama, "POLITICS, n.", "--stop", "unexpected", "--threads", "1");
        Assert.AreEqual(0, code, stderr);
        Assert.AreEqual(" A person who is a fashionable and \n", stdout);
        StringAssert.Contains(stderr, "finish reason stop");
    }

    [TestMethod]
    public async Task SeededSamplingIsRepeatableAndLengthLimited()
    {
        string[] args = ["generate", "--model", TinyLlama, "CAT, n.", "--temperature", "0.9", "--seed", "42", "--max-new-tokens", "12", "--json", "--threads", "1"];
        var (first, out1, _) = await InspectCommandTests.Mlnt(args);
        var (second, out2, _) = await InspectCommandTests.Mlnt(args);
        Assert.AreEqual(0, first);
        Assert.AreEqual(0, second);
        Assert.AreEqual(out1, out2, "the same seed gives the same output");
        using var result = JsonDocument.Parse(out1);
        int generated = result.RootElement.GetProperty("new_ids").GetArrayLength();
        Assert.IsTrue(generated <= 12);
        if (generated == 12)
        {
            Assert.AreEqual("length", result.RootElement.GetProperty("finish_reason").GetString());
        }
    }

    [TestMethod]
    public async Task BadOptionsAreExitTwoNamingTheOption()
    {
        var (topP, _, err1) = await InspectCommandTests.Mlnt("generate", "--model", TinyLlama, "x", "--top-p", "1.5");
        Assert.AreEqual(2, topP);
        StringAssert.Contains(err1, "--top-p: top_p must be in (0, 1]");
        var (temperature, _, err2) = await InspectCommandTests.Mlnt("generate", "--model", TinyLlama, "x", "--temperature", "-1");
        Assert.AreEqual(2, temperature);
        StringAssert.Contains(err2, "--temperature");
        var (beams, _, err3) = await InspectCommandTests.Mlnt("generate", "--model", TinyLlama, "x", "--num-beams", "0");
        Assert.AreEqual(2, beams);
        StringAssert.Contains(err3, "--num-beams: expected a positive number");
        var (missing, _, err4) = await InspectCommandTests.Mlnt("generate", "--model", "/no/such/model", "x");
        Assert.AreEqual(2, missing);
        StringAssert.Contains(err4, "/no/such/model");
    }

    [TestMethod]
    public async Task ModelAndContextProblemsAreExitTwoNamingTheCause()
    {
        var (provider, _, err1) = await InspectCommandTests.Mlnt("generate", "--model", TinyLlama, "x", "--provider", "warp");
        Assert.AreEqual(2, provider);
        StringAssert.Contains(err1, "--provider:");
        StringAssert.Contains(err1, "'warp'");
        var (context, _, err2) = await InspectCommandTests.Mlnt("generate", "--model", TinyLlama, "x", "--max-new-tokens", "600");
        Assert.AreEqual(2, context);
        StringAssert.Contains(err2, "context of 512");
        var (zero, _, err3) = await InspectCommandTests.Mlnt("generate", "--model", TinyLlama, "x", "--max-new-tokens", "0");
        Assert.AreEqual(2, zero);
        StringAssert.Contains(err3, "--max-new-tokens");
        var (dtype, _, err4) = await InspectCommandTests.Mlnt("generate", "--model", TinyLlama, "x", "--dtype", "q4");
        Assert.AreEqual(2, dtype);
        StringAssert.Contains(err4, "onnx/model_q4.onnx");

        string folder = Directory.CreateTempSubdirectory("mlnt-cli-notok").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(folder, "onnx"));
            File.Copy(Path.Combine(TinyLlama, "onnx", "model.onnx"), Path.Combine(folder, "onnx", "model.onnx"));
            var (tokenizer, _, err5) = await InspectCommandTests.Mlnt("generate", "--model", folder, "hello");
            Assert.AreEqual(2, tokenizer);
            StringAssert.Contains(err5, Path.Combine(folder, "tokenizer.json"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public async Task NumReturnSequencesWritesOneJsonObjectPerSequence()
    {
        var (code, stdout, _) = await InspectCommandTests.Mlnt("generate", "--model", TinyLlama, "CAT, n.", "--temperature", "1.2", "--seed", "3", "--max-new-tokens", "8", "--num-return-sequences", "3", "--json");
        Assert.AreEqual(0, code);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.HasCount(3, lines);
        foreach (string line in lines)
        {
            using var document = System.Text.Json.JsonDocument.Parse(line);
            Assert.IsLessThanOrEqualTo(8, document.RootElement.GetProperty("new_ids").GetArrayLength());
        }

        var (greedy, _, err) = await InspectCommandTests.Mlnt("generate", "--model", TinyLlama, "CAT, n.", "--num-return-sequences", "2");
        Assert.AreEqual(2, greedy);
        StringAssert.Contains(err, "sampling or beam search");
    }

    [TestMethod]
    public async Task LeftTruncationKeepsTheEndOfALongPrompt()
    {
        string prompt = string.Concat(Enumerable.Repeat("POLITICS, n. A strife of interests masquerading as a contest of principles. ", 40));
        var (rejected, _, err) = await InspectCommandTests.Mlnt("generate", "--model", TinyLlama, prompt, "--max-new-tokens", "5");
        Assert.AreEqual(2, rejected);
        StringAssert.Contains(err, "left truncation");
        var (code, stdout, _) = await InspectCommandTests.Mlnt("generate", "--model", TinyLlama, prompt, "--max-new-tokens", "5", "--truncate", "left", "--json");
        Assert.AreEqual(0, code);
        using var document = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.AreEqual(507, document.RootElement.GetProperty("prompt_ids").GetArrayLength());
        Assert.AreEqual(1, document.RootElement.GetProperty("prompt_ids")[0].GetInt32());
    }

    [TestMethod]
    public async Task BeamSearchWithOneBeamIsGreedyAndWithFourReturnsAValidSequence()
    {
        var (greedyCode, greedy, _) = await InspectCommandTests.Mlnt("generate", "--model", TinyLlama, "POLITICS, n.", "--json", "--threads", "1");
        var (oneBeamCode, oneBeam, _) = await InspectCommandTests.Mlnt("generate", "--model", TinyLlama, "POLITICS, n.", "--json", "--num-beams", "1", "--threads", "1");
        Assert.AreEqual(0, greedyCode);
        Assert.AreEqual(0, oneBeamCode);
        Assert.AreEqual(greedy, oneBeam);

        var (code, stdout, stderr) = await InspectCommandTests.Mlnt("generate", "--model", TinyLlama, "POLITICS, n.", "--json", "--num-beams", "4", "--max-new-tokens", "12", "--threads", "1");
        Assert.AreEqual(0, code, stderr);
        using var result = JsonDocument.Parse(stdout);
        int generated = result.RootElement.GetProperty("new_ids").GetArrayLength();
        Assert.IsTrue(generated is > 0 and <= 12);
        Assert.IsFalse(string.IsNullOrWhiteSpace(result.RootElement.GetProperty("text").GetString()));
    }

    [TestMethod]
    public async Task BenchDecodeAndPrefillReportTheContractFields()
    {
        foreach (string scenario in new[] { "decode", "prefill" })
        {
            var (code, stdout, stderr) = await InspectCommandTests.Mlnt("bench", "--model", TinyLlama, "--scenario", scenario, "--new-tokens", "8", "--seconds", "0.1", "--json", "--threads", "1");
            Assert.AreEqual(0, code, stderr);
            using var doc = JsonDocument.Parse(stdout);
            JsonElement root = doc.RootElement;
            Assert.AreEqual(scenario, root.GetProperty("scenario").GetString());
            foreach (string field in new[] { "tokens_per_s", "ttft_ms", "p50_ms", "p95_ms", "peak_rss_mb" })
            {
                Assert.IsGreaterThan(0.0, root.GetProperty(field).GetDouble(), $"{scenario} {field}");
            }

            Assert.IsLessThanOrEqualTo(root.GetProperty("p95_ms").GetDouble(), root.GetProperty("p50_ms").GetDouble());
            Assert.IsGreaterThanOrEqualTo(3, root.GetProperty("runs").GetInt32());
        }
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MLNetTransformers.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("repository root not found");
    }
}
