using System.Collections.Concurrent;
using System.Text;
using MLNetTransformers.Generation.Decoding;
using MLNetTransformers.Generation.Text;

namespace MLNetTransformers.Generation.Tests.Decoding;

[TestClass]
public sealed class ContinuousBatchingTests
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
    public async Task RequestsJoiningAtDifferentStepsEachMatchTheReference()
    {
        (int[] Prompt, int[] NewIds)[] reference = [.. Reference()];
        using var scheduler = new ContinuousBatchScheduler(s_llama);
        var rowsPerStep = new ConcurrentBag<int>();
        scheduler.StepCompleted += (rows, _) => rowsPerStep.Add(rows);
        var options = new GenerationOptions { MaxNewTokens = 40 };

        // The first request runs alone for a few tokens; the others join while it decodes, two of them later still.
        var first = Collect(scheduler.GenerateAsync(reference[0].Prompt, options));
        await first.Started.Task;
        var second = Collect(scheduler.GenerateAsync(reference[1].Prompt, options));
        var third = Collect(scheduler.GenerateAsync(reference[2].Prompt, options));
        await second.Started.Task;
        var rest = reference.Skip(3).Select(r => Collect(scheduler.GenerateAsync(r.Prompt, options))).ToArray();
        Streamed[] all = [first, second, third, .. rest];
        await Task.WhenAll(all.Select(s => s.Done));

        for (int i = 0; i < all.Length; i++)
        {
            GenerationResult result = all[i].Result!;
            CollectionAssert.AreEqual(reference[i].NewIds, all[i].Ids.ToArray(), $"request {i} ids");
            CollectionAssert.AreEqual(reference[i].NewIds, result.NewIds.ToArray(), $"request {i} result");
            Assert.AreEqual(s_llama.Generate(reference[i].Prompt, options).Text, all[i].Text.ToString(), $"request {i} text");
        }

        Assert.IsGreaterThan(2, rowsPerStep.Max(), "requests were decoded together");
        Assert.AreEqual(0, scheduler.ActiveCount);
    }

    [TestMethod]
    public async Task EachRequestKeepsItsOwnOptionsAndCancellation()
    {
        (int[] Prompt, int[] NewIds)[] reference = [.. Reference()];
        using var scheduler = new ContinuousBatchScheduler(s_llama);
        var sampling = new GenerationOptions { MaxNewTokens = 20, DoSample = true, Temperature = 1.3f, TopK = 0, Seed = 9, EosTokenIds = [] };
        var stopping = new GenerationOptions { MaxNewTokens = 40, StopStrings = [" and"] };
        var shortOne = new GenerationOptions { MaxNewTokens = 3, EosTokenIds = [] };
        using var cancellation = new CancellationTokenSource();
        var longOne = new GenerationOptions { MaxNewTokens = 200, EosTokenIds = [] };

        Task<GenerationResult> sampled = scheduler.GenerateResultAsync(reference[1].Prompt, sampling);
        Task<GenerationResult> stopped = scheduler.GenerateResultAsync(reference[0].Prompt, stopping);
        Task<GenerationResult> brief = scheduler.GenerateResultAsync(reference[2].Prompt, shortOne);
        int received = 0;
        Task cancelled = Task.Run(async () =>
        {
            await foreach (GenerationUpdate update in scheduler.GenerateAsync(reference[3].Prompt, longOne, cancellation.Token))
            {
                if (++received == 5)
                {
                    await cancellation.CancelAsync();
                }
            }
        });

        await Assert.ThrowsAsync<OperationCanceledException>(() => cancelled);
        Assert.AreEqual(5, received, "nothing is delivered after the cancellation");
        CollectionAssert.AreEqual(s_llama.Generate(reference[1].Prompt, sampling).NewIds.ToArray(), (await sampled).NewIds.ToArray(), "seeded sampling as alone");
        GenerationResult stop = await stopped;
        Assert.AreEqual(FinishReason.Stop, stop.FinishReason);
        Assert.AreEqual(s_llama.Generate(reference[0].Prompt, stopping).Text, stop.Text);
        Assert.HasCount(3, (await brief).NewIds);
        Assert.AreEqual(FinishReason.Length, (await brief).FinishReason);
    }

    [TestMethod]
    public async Task RefusalsAndShutdownAreClear()
    {
        using (var full = new ContinuousBatchScheduler(s_llama, new ContinuousBatchingOptions { MaxQueueLength = 0 }))
        {
            Assert.ThrowsExactly<SchedulerQueueFullException>(() => full.GenerateAsync([1, 5]));
        }

        var scheduler = new ContinuousBatchScheduler(s_llama);
        Assert.ThrowsExactly<ArgumentException>(() => scheduler.GenerateAsync([1, 5], new GenerationOptions { NumBeams = 2 }));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => scheduler.GenerateAsync([1, 999_999]));
        Streamed running = Collect(scheduler.GenerateAsync([1, 5], new GenerationOptions { MaxNewTokens = 400, EosTokenIds = [] }));
        await running.Started.Task;
        scheduler.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => running.Done);
        Assert.ThrowsExactly<ObjectDisposedException>(() => scheduler.GenerateAsync([1, 5]));
    }

    private static Streamed Collect(IAsyncEnumerable<GenerationUpdate> updates)
    {
        var streamed = new Streamed();
        streamed.Done = Task.Run(async () =>
        {
            await foreach (GenerationUpdate update in updates)
            {
                if (update.TokenId >= 0)
                {
                    streamed.Ids.Add(update.TokenId);
                }

                streamed.Text.Append(update.Text);
                streamed.Result = update.Result ?? streamed.Result;
                if (streamed.Ids.Count >= 3)
                {
                    streamed.Started.TrySetResult();
                }
            }

            streamed.Started.TrySetResult();
        });
        return streamed;
    }

    private static IEnumerable<(int[] Prompt, int[] NewIds)> Reference() => TestSupport.GreedyReference();

    private sealed class Streamed
    {
        public List<int> Ids { get; } = [];

        public StringBuilder Text { get; } = new();

        public GenerationResult? Result { get; set; }

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Done { get; set; } = Task.CompletedTask;
    }
}
