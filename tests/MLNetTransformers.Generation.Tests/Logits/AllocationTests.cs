using MLNetTransformers.Generation.Logits;

namespace MLNetTransformers.Generation.Tests.Logits;

[TestClass]
public sealed class AllocationTests
{
    private static float[] RandomLogits(int vocabulary, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, vocabulary).Select(_ => (float)(random.NextDouble() * 20 - 10))];
    }

    private static long MeasureSteps(LogitsProcessorList list, float[] source, int[] history, int calls)
    {
        float[] logits = new float[source.Length];
        float[] logProbs = new float[source.Length];
        var random = new Xoshiro256StarStar(5);
        void Step()
        {
            source.CopyTo(logits, 0);
            list.Process(logits, history, 16);
            _ = TokenSelection.Sample(logits, random);
            _ = TokenSelection.ArgMax(logits);
            TokenSelection.LogSoftmax(logits, logProbs);
        }

        for (int i = 0; i < 20; i++)
        {
            Step();   // warm-up: scratch buffers grow to the vocabulary, JIT tiers settle
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++)
        {
            Step();
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private static int[] History() => [.. Enumerable.Range(0, 64).Select(i => (i * 37) % 500)];

    [TestMethod]
    public void EveryProcessorAndSelection_AllocateNothingPerCall()
    {
        var settings = new LogitsProcessorSettings
        {
            RepetitionPenalty = 1.3f,
            NoRepeatNGramSize = 3,
            BadWordsIds = [[7], [37, 74]],
            MinLength = 10,
            MinNewTokens = 100,
            EosTokenIds = [2, 3],
            DoSample = true,
            Temperature = 0.7f,
            TopK = 50,
            TopP = 0.9f,
            MinP = 0.05f,
            TypicalP = 0.95f,
        };
        LogitsProcessorList list = LogitsProcessorList.Create(settings);
        Assert.AreEqual(10, list.Count);
        Assert.AreEqual(0L, MeasureSteps(list, RandomLogits(32_000, 1), History(), 1000));
    }

    [TestMethod]
    public void FullVocabularySortingWarpers_AllocateNothingPerCall()
    {
        // Without top-k, top-p / typical-p / min-p (with min_tokens_to_keep > 1) sort the whole vocabulary.
        var settings = new LogitsProcessorSettings { DoSample = true, TopK = 0, TopP = 0.8f, MinP = 0.01f, TypicalP = 0.9f, MinTokensToKeep = 2 };
        LogitsProcessorList list = LogitsProcessorList.Create(settings);
        Assert.AreEqual(3, list.Count);
        Assert.AreEqual(0L, MeasureSteps(list, RandomLogits(4096, 2), History(), 1000));
    }
}
