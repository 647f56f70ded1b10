using System.Text.Json;
using MLNetTransformers.Generation.Decoding;
using MLNetTransformers.Generation.Text;

namespace MLNetTransformers.Generation.Tests.Decoding;

[TestClass]
public sealed class GeneratorTests
{
    private static Generator s_llama = null!;
    private static Generator s_gpt2 = null!;

    [ClassInitialize]
    public static void Load(TestContext context)
    {
        _ = context;
        s_llama = new Generator(ModelFolder.Open(TestSupport.TinyLlamaDirectory), TestSupport.SessionOptions());
        s_gpt2 = new Generator(ModelFolder.Open(Path.Combine(RepoRoot(), "models", "tiny-gpt2")), TestSupport.SessionOptions());
    }

    [ClassCleanup]
    public static void Unload()
    {
        s_llama.Dispose();
        s_gpt2.Dispose();
    }

    public static IEnumerable<object[]> Models => [["tiny-llama"], ["tiny-gpt2"]];

    [TestMethod]
    [DynamicData(nameof(Models))]
    public void GreedyWithEosStoppingMatchesTheReference(string model)
    {
        Generator generator = Get(model);
        int lines = 0;
        foreach (Reference line in ReadReference(model))
        {
            GenerationResult result = generator.Generate(line.PromptIds, new GenerationOptions { MaxNewTokens = 40 });
            CollectionAssert.AreEqual(line.NewIds, result.NewIds.ToArray(), $"{model} line {lines}");
            CollectionAssert.AreEqual(line.PromptIds, result.PromptIds.ToArray());
            Assert.AreEqual(line.EosStopped ? FinishReason.Eos : FinishReason.Length, result.FinishReason);
            Assert.AreEqual(Continuation(generator, line), result.Text, $"{model} line {lines}");
            lines++;
        }

        Assert.AreEqual(6, lines);
    }

    [TestMethod]
    [DynamicData(nameof(Models))]
    public void FortyForcedStepsMatchArgmax40(string model)
    {
        Generator generator = Get(model);
        foreach (Reference line in ReadReference(model))
        {
            GenerationResult result = generator.Generate(line.PromptIds, new GenerationOptions { MaxNewTokens = 40, EosTokenIds = [] });
            CollectionAssert.AreEqual(line.Argmax40, result.NewIds.ToArray());
            Assert.AreEqual(FinishReason.Length, result.FinishReason);
        }
    }

    [TestMethod]
    public void EosDefaultsComeFromTheModelFolder()
    {
        CollectionAssert.AreEqual(new[] { 2 }, s_llama.DefaultEosTokenIds.ToArray());
        CollectionAssert.AreEqual(new[] { 50256 }, s_gpt2.DefaultEosTokenIds.ToArray());
    }

    [TestMethod]
    public void TextPromptIsEncodedWithTheTokenizer()
    {
        Reference first = ReadReference("tiny-llama").First();
        GenerationResult result = s_llama.Generate(first.Prompt, new GenerationOptions { MaxNewTokens = 40 });
        CollectionAssert.AreEqual(first.PromptIds, result.PromptIds.ToArray());
        CollectionAssert.AreEqual(first.NewIds, result.NewIds.ToArray());
    }

    [TestMethod]
    public void SameSeedGivesTheSameSample()
    {
        var options = new GenerationOptions { MaxNewTokens = 30, DoSample = true, Temperature = 1.3f, TopK = 0, Seed = 42, EosTokenIds = [] };
        int[] prompt = ReadReference("tiny-llama").First().PromptIds;
        GenerationResult a = s_llama.Generate(prompt, options);
        GenerationResult b = s_llama.Generate(prompt, options);
        GenerationResult c = s_llama.Generate(prompt, options with { Seed = 7 });
        CollectionAssert.AreEqual(a.NewIds.ToArray(), b.NewIds.ToArray());
        Assert.AreEqual(a.Text, b.Text);
        Assert.HasCount(30, a.NewIds);
        CollectionAssert.AreNotEqual(a.NewIds.ToArray(), c.NewIds.ToArray());
    }

    [TestMethod]
    public void TopKOneSamplingEqualsGreedy()
    {
        foreach (Reference line in ReadReference("tiny-llama"))
        {
            GenerationResult sampled = s_llama.Generate(line.PromptIds, new GenerationOptions { MaxNewTokens = 40, DoSample = true, TopK = 1, Temperature = 0.7f, Seed = 3 });
            CollectionAssert.AreEqual(line.NewIds, sampled.NewIds.ToArray());
        }
    }

    [TestMethod]
    public void StopStringTrimsTheTextAndFinishesWithStop()
    {
        Reference first = ReadReference("tiny-llama").First(); // "A person who is a fashionable and unexpected ..."
        GenerationResult result = s_llama.Generate(first.PromptIds, new GenerationOptions { MaxNewTokens = 40, StopStrings = ["fashion"] });
        Assert.AreEqual(FinishReason.Stop, result.FinishReason);
        Assert.AreEqual("fashion", result.StopString);
        string expected = Continuation(s_llama, first);
        Assert.AreEqual(expected[..expected.IndexOf("fashion", StringComparison.Ordinal)], result.Text);
        Assert.IsLessThan(first.NewIds.Length, result.NewIds.Count);
        CollectionAssert.AreEqual(first.NewIds[..result.NewIds.Count], result.NewIds.ToArray());
    }

    [TestMethod]
    public async Task StreamingGivesTokensDeltasAndAFinalResult()
    {
        Reference first = ReadReference("tiny-llama").First();
        var ids = new List<int>();
        string text = string.Empty;
        GenerationResult? result = null;
        await foreach (GenerationUpdate update in s_llama.GenerateAsync(first.PromptIds, new GenerationOptions { MaxNewTokens = 40 }))
        {
            Assert.IsNull(result, "nothing after the final update");
            if (update.TokenId >= 0)
            {
                ids.Add(update.TokenId);
            }

            text += update.Text;
            result = update.Result;
        }

        Assert.IsNotNull(result);
        CollectionAssert.AreEqual(first.NewIds, ids.ToArray());
        Assert.AreEqual(Continuation(s_llama, first), text);
        Assert.AreEqual(result.Text, text);
        Assert.AreEqual(FinishReason.Eos, result.FinishReason);
    }

    [TestMethod]
    public async Task CancellationStopsWithinAStep()
    {
        int[] prompt = ReadReference("tiny-llama").First().PromptIds;
        using var cts = new CancellationTokenSource();
        int tokens = 0;
        await Assert.ThrowsAsync<OperationCanceledException>(async () =>
        {
            await foreach (GenerationUpdate update in s_llama.GenerateAsync(prompt, new GenerationOptions { MaxNewTokens = 200, EosTokenIds = [] }, cts.Token))
            {
                tokens++;
                if (tokens == 3)
                {
                    cts.Cancel();
                }
            }
        });
        Assert.AreEqual(3, tokens);

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsExactly<OperationCanceledException>(() => s_llama.Generate(prompt, null, cancelled.Token));
    }

    [TestMethod]
    public void BadOptionsNameTheParameter()
    {
        ArgumentOutOfRangeException max = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GenerationOptions { MaxNewTokens = 0 });
        Assert.AreEqual(nameof(GenerationOptions.MaxNewTokens), max.ParamName);
        max = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GenerationOptions { MaxNewTokens = -5 });
        Assert.AreEqual(nameof(GenerationOptions.MaxNewTokens), max.ParamName);
        ArgumentOutOfRangeException temperature = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GenerationOptions { Temperature = -0.1f });
        Assert.AreEqual(nameof(GenerationOptions.Temperature), temperature.ParamName);
        ArgumentOutOfRangeException topP = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GenerationOptions { TopP = 0f });
        Assert.AreEqual(nameof(GenerationOptions.TopP), topP.ParamName);
    }

    [TestMethod]
    public void BadPromptsAreRejected()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => s_llama.Generate([1, 999_999]));
        Assert.ThrowsExactly<ArgumentException>(() => s_llama.Generate(Enumerable.Repeat(5, 600).ToArray()));
        GenerationResult fromBos = s_llama.Generate(Array.Empty<int>(), new GenerationOptions { MaxNewTokens = 3, EosTokenIds = [] });
        CollectionAssert.AreEqual(new[] { 1 }, fromBos.PromptIds.ToArray());
        Assert.HasCount(3, fromBos.NewIds);
    }

    [TestMethod]
    public void ContextLimitsAreClearAndLeftTruncationKeepsBosAndTheEnd()
    {
        int[] prompt = [1, .. Enumerable.Range(0, 599).Select(i => 300 + (i % 500))];
        var tooMany = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => s_llama.Generate([1, 5], new GenerationOptions { MaxNewTokens = 512 }));
        StringAssert.Contains(tooMany.Message, "context of 512");
        var noRoom = Assert.ThrowsExactly<ArgumentException>(() => s_llama.Generate(prompt[..450], new GenerationOptions { MaxNewTokens = 100 }));
        StringAssert.Contains(noRoom.Message, "450");
        StringAssert.Contains(noRoom.Message, "left truncation");

        var left = new GenerationOptions { MaxNewTokens = 10, EosTokenIds = [], Truncation = PromptTruncation.Left };
        GenerationResult truncated = s_llama.Generate(prompt, left);
        Assert.HasCount(502, truncated.PromptIds);
        Assert.AreEqual(1, truncated.PromptIds[0], "BOS is kept");
        CollectionAssert.AreEqual(prompt[^501..], truncated.PromptIds.Skip(1).ToArray(), "the newest tokens are kept");
        Assert.HasCount(10, truncated.NewIds);
        GenerationResult direct = s_llama.Generate(truncated.PromptIds, left with { Truncation = PromptTruncation.None });
        CollectionAssert.AreEqual(direct.NewIds.ToArray(), truncated.NewIds.ToArray());

        // A default budget shrinks to what the context leaves instead of failing.
        GenerationResult capped = s_llama.Generate(prompt[..500], new GenerationOptions { EosTokenIds = [] });
        Assert.HasCount(12, capped.NewIds);
    }

    [TestMethod]
    public void TimingsSplitPrefillAndDecodingAndTheirModelShare()
    {
        GenerationResult result = s_llama.Generate([1, 425, 4063], new GenerationOptions { MaxNewTokens = 10, EosTokenIds = [] });
        GenerationTimings timings = result.Timings!;
        Assert.IsNotNull(timings);
        Assert.AreEqual(9, timings.DecodeSteps, "one model run per token after the first");
        Assert.IsGreaterThan(TimeSpan.Zero, timings.PrefillModelTime);
        Assert.IsGreaterThan(TimeSpan.Zero, timings.DecodeModelTime);
        Assert.IsLessThanOrEqualTo(timings.PrefillTime, timings.PrefillModelTime);
        Assert.IsLessThanOrEqualTo(timings.DecodeTime, timings.DecodeModelTime);
    }

    [TestMethod]
    public void MinNewTokensDelaysEos()
    {
        Reference shortest = ReadReference("tiny-llama").OrderBy(r => r.NewIds.Length).First();
        GenerationResult result = s_llama.Generate(shortest.PromptIds, new GenerationOptions { MaxNewTokens = 40, MinNewTokens = shortest.NewIds.Length + 2 });
        Assert.IsGreaterThanOrEqualTo(shortest.NewIds.Length + 2, result.NewIds.Count);
        Assert.IsFalse(result.NewIds.Take(shortest.NewIds.Length + 1).Contains(2));
    }

    /// <summary>The reference's new text in context: full_text after the decoded prompt (the reference's own "text" decodes the new
    /// ids alone, where the Llama decoder strips the leading space that a continuation keeps).</summary>
    private static string Continuation(Generator generator, Reference line)
    {
        string prompt = generator.Tokenizer!.Decode(line.PromptIds, skipSpecialTokens: true);
        Assert.StartsWith(prompt, line.FullText);
        Assert.AreEqual(line.Text.TrimStart(), line.FullText[prompt.Length..].TrimStart());
        return line.FullText[prompt.Length..];
    }

    private static Generator Get(string model) => model == "tiny-llama" ? s_llama : s_gpt2;

    private static string RepoRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MLNetTransformers.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("MLNetTransformers.sln not found above " + AppContext.BaseDirectory);
    }

    private static IEnumerable<Reference> ReadReference(string model)
    {
        string directory = model == "tiny-llama" ? TestSupport.TinyLlamaDirectory : Path.Combine(RepoRoot(), "models", model);
        foreach (string line in File.ReadLines(Path.Combine(directory, "reference", "greedy.jsonl")))
        {
            if (line.Length == 0)
            {
                continue;
            }

            using var document = JsonDocument.Parse(line);
            JsonElement root = document.RootElement;
            yield return new Reference(
                root.GetProperty("prompt").GetString()!,
                Ids(root, "prompt_ids"),
                Ids(root, "new_ids"),
                Ids(root, "argmax_40"),
                root.GetProperty("text").GetString()!,
                root.GetProperty("full_text").GetString()!,
                root.GetProperty("eos_stopped").GetBoolean());
        }

        static int[] Ids(JsonElement root, string name) => root.GetProperty(name).EnumerateArray().Select(e => e.GetInt32()).ToArray();
    }

    private sealed record Reference(string Prompt, int[] PromptIds, int[] NewIds, int[] Argmax40, string Text, string FullText, bool EosStopped);
}
