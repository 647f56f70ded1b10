using System.Text.Json;
using MLNetTransformers.Generation.Decoding;
using MLNetTransformers.Generation.Text;

namespace MLNetTransformers.Generation.Tests.Decoding;

[TestClass]
public sealed class BatchGenerationTests
{
    private static Generator s_llama = null!;

    [ClassInitialize]
    public static void Load(TestContext context)
    {
        _ = context;
        s_llama = new Generator(ModelFolder.Open(TestSupport.TinyLlamaDirectory), TestSupport.SessionOptions());
    }

    [ClassCleanup]
    public static void Unload() => s_llama.Dispose();

    [TestMethod]
    public void GreedyBatchMatchesTheReferenceAndEachPromptAlone()
    {
        Reference[] lines = ReadReference();
        Assert.HasCount(6, lines);
        Assert.IsGreaterThan(1, lines.Select(l => l.PromptIds.Length).Distinct().Count(), "the prompts need padding");
        var options = new GenerationOptions { MaxNewTokens = 40 };
        IReadOnlyList<GenerationResult> batch = s_llama.GenerateBatch(lines.Select(l => l.PromptIds).ToArray(), options);
        Assert.HasCount(lines.Length, batch);
        for (int i = 0; i < lines.Length; i++)
        {
            GenerationResult alone = s_llama.Generate(lines[i].PromptIds, options);
            CollectionAssert.AreEqual(lines[i].NewIds, batch[i].NewIds.ToArray(), $"row {i} vs reference");
            CollectionAssert.AreEqual(alone.NewIds.ToArray(), batch[i].NewIds.ToArray(), $"row {i} vs alone");
            CollectionAssert.AreEqual(lines[i].PromptIds, batch[i].PromptIds.ToArray(), $"row {i} prompt");
            Assert.AreEqual(lines[i].EosStopped ? FinishReason.Eos : FinishReason.Length, batch[i].FinishReason, $"row {i}");
            Assert.AreEqual(alone.Text, batch[i].Text, $"row {i} text");
        }
    }

    [TestMethod]
    public void TextPromptsBatchLikeIdPrompts()
    {
        Reference[] lines = ReadReference();
        IReadOnlyList<GenerationResult> batch = s_llama.GenerateBatch(lines.Select(l => l.Prompt).ToArray(), new GenerationOptions { MaxNewTokens = 40 });
        for (int i = 0; i < lines.Length; i++)
        {
            CollectionAssert.AreEqual(lines[i].NewIds, batch[i].NewIds.ToArray(), $"row {i}");
        }
    }

    [TestMethod]
    public void StopStringFinishesOneRowWhileOthersContinue()
    {
        Reference[] lines = ReadReference().Take(3).ToArray(); // row 0 continues "A person who is a fashionable ..."
        GenerationOptions plain = new() { MaxNewTokens = 40 };
        GenerationOptions?[] rowOptions = [plain with { StopStrings = ["fashion"] }, plain, plain];
        IReadOnlyList<GenerationResult> batch = s_llama.GenerateBatch(lines.Select(l => l.PromptIds).ToArray(), rowOptions);

        GenerationResult stopped = batch[0];
        GenerationResult alone = s_llama.Generate(lines[0].PromptIds, rowOptions[0]);
        Assert.AreEqual(FinishReason.Stop, stopped.FinishReason);
        Assert.AreEqual("fashion", stopped.StopString);
        Assert.AreEqual(alone.Text, stopped.Text);
        Assert.DoesNotContain("fashion", stopped.Text);
        Assert.IsLessThan(lines[0].NewIds.Length, stopped.NewIds.Count);
        CollectionAssert.AreEqual(lines[0].NewIds[..stopped.NewIds.Count], stopped.NewIds.ToArray());
        for (int i = 1; i < lines.Length; i++)
        {
            Assert.AreEqual(FinishReason.Eos, batch[i].FinishReason, $"row {i}");
            CollectionAssert.AreEqual(lines[i].NewIds, batch[i].NewIds.ToArray(), $"row {i}");
        }
    }

    [TestMethod]
    public void RowsReachTheirOwnMaxNewTokens()
    {
        Reference[] lines = ReadReference().Take(3).ToArray();
        GenerationOptions?[] rowOptions =
        [
            new GenerationOptions { MaxNewTokens = 5 },
            new GenerationOptions { MaxNewTokens = 40 },
            new GenerationOptions { MaxNewTokens = 30, EosTokenIds = [] },
        ];
        IReadOnlyList<GenerationResult> batch = s_llama.GenerateBatch(lines.Select(l => l.PromptIds).ToArray(), rowOptions);
        Assert.AreEqual(FinishReason.Length, batch[0].FinishReason);
        CollectionAssert.AreEqual(lines[0].NewIds[..5], batch[0].NewIds.ToArray());
        Assert.AreEqual(FinishReason.Eos, batch[1].FinishReason);
        CollectionAssert.AreEqual(lines[1].NewIds, batch[1].NewIds.ToArray());
        Assert.AreEqual(FinishReason.Length, batch[2].FinishReason);
        CollectionAssert.AreEqual(lines[2].Argmax40[..30], batch[2].NewIds.ToArray(), "continues past EOS like argmax_40");

        IReadOnlyList<GenerationResult> same = s_llama.GenerateBatch(lines.Select(l => l.PromptIds).ToArray(), new GenerationOptions { MaxNewTokens = 4, EosTokenIds = [] });
        foreach (GenerationResult result in same)
        {
            Assert.AreEqual(FinishReason.Length, result.FinishReason);
            Assert.HasCount(4, result.NewIds);
        }
    }

    [TestMethod]
    public void BadBatchesAreRejected()
    {
        Assert.ThrowsExactly<ArgumentException>(() => s_llama.GenerateBatch(Array.Empty<int[]>()));
        Assert.ThrowsExactly<ArgumentException>(() => s_llama.GenerateBatch(new[] { new[] { 1, 5 } }, new GenerationOptions?[2]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => s_llama.GenerateBatch(new[] { new[] { 1, 5 }, new[] { 1, 999_999 } }));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsExactly<OperationCanceledException>(() => s_llama.GenerateBatch(new[] { new[] { 1, 5 } }, options: null, cancellationToken: cancelled.Token));
    }

    [TestMethod]
    public void NumReturnSequencesSamplesDistinctRepeatableRows()
    {
        int[] prompt = ReadReference()[0].PromptIds;
        var options = new GenerationOptions { MaxNewTokens = 12, DoSample = true, Temperature = 1.5f, TopK = 0, Seed = 42, NumReturnSequences = 4, EosTokenIds = [] };
        IReadOnlyList<GenerationResult> first = s_llama.GenerateSequences(prompt, options);
        IReadOnlyList<GenerationResult> again = s_llama.GenerateSequences(prompt, options);
        Assert.HasCount(4, first);
        for (int i = 0; i < 4; i++)
        {
            CollectionAssert.AreEqual(first[i].NewIds.ToArray(), again[i].NewIds.ToArray(), $"row {i} repeats with the seed");
        }

        Assert.IsGreaterThan(1, first.Select(r => string.Join(",", r.NewIds)).Distinct().Count(), "rows are different samples");
        GenerationResult single = s_llama.Generate(prompt, options with { NumReturnSequences = 1 });
        CollectionAssert.AreEqual(single.NewIds.ToArray(), first[0].NewIds.ToArray(), "row 0 uses the seed itself");

        Assert.ThrowsExactly<ArgumentException>(() => s_llama.GenerateSequences(prompt, new GenerationOptions { NumReturnSequences = 2 }));
        IReadOnlyList<GenerationResult> beams = s_llama.GenerateSequences(prompt, new GenerationOptions { MaxNewTokens = 6, NumBeams = 3, NumReturnSequences = 2 });
        Assert.HasCount(2, beams);
        Assert.IsGreaterThanOrEqualTo(beams[1].Score!.Value, beams[0].Score!.Value);
    }

    [TestMethod]
    public async Task StreamedBatchEqualsTheBatchRowForRow()
    {
        Reference[] lines = ReadReference();
        IReadOnlyList<int>[] prompts = [.. lines.Select(l => (IReadOnlyList<int>)l.PromptIds)];
        var options = new GenerationOptions { MaxNewTokens = 30 };
        IReadOnlyList<GenerationResult> expected = s_llama.GenerateBatch(prompts, options);
        var ids = prompts.Select(_ => new List<int>()).ToArray();
        var texts = prompts.Select(_ => new System.Text.StringBuilder()).ToArray();
        var results = new GenerationResult?[prompts.Length];
        var lastStep = new int[prompts.Length];
        int step = 0;
        int previousRow = int.MaxValue;
        await foreach (BatchGenerationUpdate update in s_llama.GenerateBatchAsync(prompts, Enumerable.Repeat<GenerationOptions?>(options, prompts.Length).ToArray()))
        {
            if (update.Row <= previousRow)
            {
                step++;
            }

            previousRow = update.Row;
            Assert.IsNull(results[update.Row], $"row {update.Row} has no updates after its result");
            ids[update.Row].Add(update.Update.TokenId);
            texts[update.Row].Append(update.Update.Text);
            results[update.Row] = update.Update.Result;
            lastStep[update.Row] = step;
        }

        for (int i = 0; i < prompts.Length; i++)
        {
            CollectionAssert.AreEqual(expected[i].NewIds.ToArray(), ids[i].ToArray(), $"row {i} ids");
            Assert.AreEqual(expected[i].Text, texts[i].ToString(), $"row {i} text");
            Assert.AreEqual(expected[i].FinishReason, results[i]!.FinishReason);
            Assert.IsNotNull(results[i]!.Timings);
        }

        Assert.IsGreaterThan(1, lastStep.Distinct().Count(), "rows finish at different steps");
    }

    [TestMethod]
    public async Task CancellingAStreamedBatchStopsIt()
    {
        Reference[] lines = ReadReference();
        using var cancellation = new CancellationTokenSource();
        int updates = 0;
        await Assert.ThrowsAsync<OperationCanceledException>(async () =>
        {
            await foreach (BatchGenerationUpdate update in s_llama.GenerateBatchAsync(lines.Select(l => l.Prompt).ToArray(), new GenerationOptions { MaxNewTokens = 40, EosTokenIds = [] }, cancellation.Token))
            {
                if (++updates == lines.Length * 2)
                {
                    await cancellation.CancelAsync();
                }
            }
        });
        Assert.AreEqual(lines.Length * 2, updates, "nothing after the cancelling step");
    }

    private static Reference[] ReadReference()
    {
        var lines = new List<Reference>();
        foreach (string line in File.ReadLines(TestSupport.Reference("greedy.jsonl")))
        {
            if (line.Length == 0)
            {
                continue;
            }

            using var document = JsonDocument.Parse(line);
            JsonElement root = document.RootElement;
            lines.Add(new Reference(root.GetProperty("prompt").GetString()!, Ids(root, "prompt_ids"), Ids(root, "new_ids"), Ids(root, "argmax_40"), root.GetProperty("eos_stopped").GetBoolean()));
        }

        return [.. lines];

        static int[] Ids(JsonElement root, string name) => root.GetProperty(name).EnumerateArray().Select(e => e.GetInt32()).ToArray();
    }

    private sealed record Reference(string Prompt, int[] PromptIds, int[] NewIds, int[] Argmax40, bool EosStopped);
}
