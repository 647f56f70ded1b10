using MLNetTransformers.Generation.Decoding;
using MLNetTransformers.Generation.Logits;
using static MLNetTransformers.Generation.Tests.Logits.LogitsTestHelpers;

namespace MLNetTransformers.Generation.Tests.Logits;

[TestClass]
public sealed class LogitsProcessorTests
{
    [TestMethod]
    public void RepetitionPenalty_DividesPositiveAndMultipliesNegativeSeenLogitsOnce()
    {
        var processor = new RepetitionPenaltyLogitsProcessor(2f);
        float[] result = Apply(processor, [2f, -2f, 3f, 0f], [0, 1, 0, 0, 3]);
        AssertSequence([1f, -4f, 3f, 0f], result);
    }

    [TestMethod]
    public void RepetitionPenalty_BelowOneEncouragesRepetition()
    {
        float[] result = Apply(new RepetitionPenaltyLogitsProcessor(0.5f), [2f, -2f, 3f], [0, 1]);
        AssertSequence([4f, -1f, 3f], result);
    }

    [TestMethod]
    public void RepetitionPenalty_RejectsIdsOutsideTheVocabulary()
    {
        var processor = new RepetitionPenaltyLogitsProcessor(2f);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Apply(processor, [1f, 2f], [2]));
    }

    [TestMethod]
    public void FrequencyPresence_SubtractsPerGeneratedOccurrenceAndOncePerPresentToken()
    {
        var processor = new FrequencyPresencePenaltyLogitsProcessor(0.5f, 0.25f);
        float[] logits = [1f, 1f, 1f, 1f, 1f];
        // prompt [3, 3] is not counted; generated: 1, 2, 1, 1
        processor.Process(logits, [3, 3, 1, 2, 1, 1], promptLength: 2);
        CollectionAssert.AreEqual(new[] { 1f, 1f - (0.5f * 3) - 0.25f, 1f - 0.5f - 0.25f, 1f, 1f }, logits);

        // Counts do not leak into the next step.
        float[] again = [1f, 1f, 1f, 1f, 1f];
        processor.Process(again, [3, 3, 4], promptLength: 2);
        CollectionAssert.AreEqual(new[] { 1f, 1f, 1f, 1f, 1f - 0.75f }, again);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new FrequencyPresencePenaltyLogitsProcessor(2.5f, 0f));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GenerationOptions { PresencePenalty = -3f });
    }

    [TestMethod]
    public void NoRepeatNGram_BansTokensThatCompleteASeenNGram()
    {
        float[] logits = [1f, 1f, 1f, 1f, 1f];
        // Bigrams: (1,2) (2,3) (3,1); the last token is 1, so 2 is banned.
        AssertKept(logits, Apply(new NoRepeatNGramLogitsProcessor(2), logits, [1, 2, 3, 1]), 0, 1, 3, 4);
        // Trigram (1,2,3) with the history ending in 1,2 bans 3.
        AssertKept(logits, Apply(new NoRepeatNGramLogitsProcessor(3), logits, [1, 2, 3, 1, 2]), 0, 1, 2, 4);
        // Two earlier occurrences of the prefix ban both continuations.
        AssertKept(logits, Apply(new NoRepeatNGramLogitsProcessor(2), logits, [1, 2, 1, 4, 1]), 0, 1, 3);
    }

    [TestMethod]
    public void NoRepeatNGram_SizeOneBansEverySeenToken_AndShortHistoriesBanNothing()
    {
        float[] logits = [1f, 2f, 3f, 4f];
        AssertKept(logits, Apply(new NoRepeatNGramLogitsProcessor(1), logits, [3, 1, 3]), 0, 2);
        AssertKept(logits, Apply(new NoRepeatNGramLogitsProcessor(3), logits, [1, 2]), 0, 1, 2, 3);
        AssertKept(logits, Apply(new NoRepeatNGramLogitsProcessor(3), logits, [1, 2, 3]), 0, 1, 2, 3);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new NoRepeatNGramLogitsProcessor(0));
    }

    [TestMethod]
    public void BadWords_BansSingleTokensAlwaysAndMultiTokenSequencesAfterTheirPrefix()
    {
        var processor = new BadWordsLogitsProcessor([[4], [1, 2], [0, 3, 1]]);
        float[] logits = [1f, 1f, 1f, 1f, 1f];
        AssertKept(logits, Apply(processor, logits, [2, 2]), 0, 1, 2, 3);
        AssertKept(logits, Apply(processor, logits, [0, 1]), 0, 1, 3);       // ends with 1 → 2 banned
        AssertKept(logits, Apply(processor, logits, [2, 0, 3]), 0, 2, 3);    // ends with 0,3 → 1 banned
        AssertKept(logits, Apply(processor, logits, [3]), 0, 1, 2, 3);       // only part of the prefix
        AssertKept(logits, Apply(processor, logits, []), 0, 1, 2, 3);
    }

    [TestMethod]
    public void BadWords_DropsSingleTokenEosSequences_AndValidates()
    {
        var processor = new BadWordsLogitsProcessor([[3], [2], [1, 3]], eosTokenIds: [3]);
        float[] logits = [1f, 1f, 1f, 1f];
        AssertKept(logits, Apply(processor, logits, [0]), 0, 1, 3);
        AssertKept(logits, Apply(processor, logits, [1]), 0, 1);   // the multi-token sequence still bans the EOS id
        Assert.ThrowsExactly<ArgumentException>(() => new BadWordsLogitsProcessor([]));
        Assert.ThrowsExactly<ArgumentException>(() => new BadWordsLogitsProcessor([[]]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BadWordsLogitsProcessor([[-1]]));
    }

    [TestMethod]
    public void MinNewTokens_SuppressesEveryEosIdUntilEnoughNewTokens()
    {
        var processor = new MinNewTokensLogitsProcessor(2, [3, 1]);
        float[] logits = [1f, 2f, 3f, 4f];
        AssertKept(logits, Apply(processor, logits, [0, 0], promptLength: 2), 0, 2);
        AssertKept(logits, Apply(processor, logits, [0, 0, 2], promptLength: 2), 0, 2);
        AssertKept(logits, Apply(processor, logits, [0, 0, 2, 2], promptLength: 2), 0, 1, 2, 3);
        AssertKept(logits, Apply(new MinNewTokensLogitsProcessor(0, [3]), logits, [0], promptLength: 1), 0, 1, 2, 3);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Apply(processor, logits, [0], promptLength: 2));
    }

    [TestMethod]
    public void MinLength_CountsThePrompt()
    {
        var processor = new MinLengthLogitsProcessor(3, [2]);
        float[] logits = [1f, 2f, 3f];
        AssertKept(logits, Apply(processor, logits, [0, 1], promptLength: 2), 0, 1);
        AssertKept(logits, Apply(processor, logits, [0, 1, 0], promptLength: 2), 0, 1, 2);
    }

    [TestMethod]
    public void Temperature_DividesEveryLogit()
    {
        AssertSequence([2f, -4f, NegInf], Apply(new TemperatureLogitsWarper(0.5f), [1f, -2f, NegInf]));
        AssertSequence([0.5f, -1f], Apply(new TemperatureLogitsWarper(2f), [1f, -2f]));
    }

    [TestMethod]
    public void TopK_KeepsTheKLargestAndTiesWithTheKth()
    {
        float[] logits = [1f, 3f, 2f, 0f];
        AssertKept(logits, Apply(new TopKLogitsWarper(2), logits), 1, 2);
        AssertKept(logits, Apply(new TopKLogitsWarper(1), logits), 1);
        AssertKept(logits, Apply(new TopKLogitsWarper(10), logits), 0, 1, 2, 3);
        float[] ties = [3f, 1f, 3f, 3f];
        AssertKept(ties, Apply(new TopKLogitsWarper(2), ties), 0, 2, 3);
        // min_tokens_to_keep raises k.
        AssertKept(logits, Apply(new TopKLogitsWarper(1, minTokensToKeep: 3), logits), 0, 1, 2);
    }

    [TestMethod]
    public void TopK_OnALargeRandomVectorMatchesASort()
    {
        var random = new Random(7);
        float[] logits = [.. Enumerable.Range(0, 5000).Select(_ => (float)random.NextDouble() * 20f)];
        float kth = logits.OrderDescending().ElementAt(49);
        float[] result = Apply(new TopKLogitsWarper(50), logits);
        Assert.AreEqual(50, result.Count(v => v > NegInf));
        for (int i = 0; i < logits.Length; i++)
        {
            Assert.AreEqual(logits[i] >= kth ? logits[i] : NegInf, result[i]);
        }
    }

    [TestMethod]
    public void TopP_KeepsTheSmallestMostLikelySetReachingTheMass()
    {
        // Probabilities by id: 0.15, 0.5, 0.05, 0.3. Ascending cumulative sums: 0.05, 0.20, 0.50, 1.0.
        float[] logits = FromProbabilities(0.15, 0.5, 0.05, 0.3);
        AssertKept(logits, Apply(new TopPLogitsWarper(0.7f), logits), 1, 3);       // removes cum ≤ 0.3: 0.05, 0.20
        AssertKept(logits, Apply(new TopPLogitsWarper(0.9f), logits), 0, 1, 3);    // removes cum ≤ 0.1: 0.05
        AssertKept(logits, Apply(new TopPLogitsWarper(0.01f), logits), 1);         // min_tokens_to_keep = 1
        AssertKept(logits, Apply(new TopPLogitsWarper(0.01f, minTokensToKeep: 2), logits), 1, 3);
        AssertKept(logits, Apply(new TopPLogitsWarper(1f), logits), 0, 1, 2, 3);
    }

    [TestMethod]
    public void TopP_IgnoresAlreadyMaskedTokens()
    {
        // After masking, the remaining probabilities are 0.6, 0.3, 0.1 (ids 0, 2, 3).
        float[] logits = [.. FromProbabilities(0.6, 1, 0.3, 0.1)];
        logits[1] = NegInf;
        AssertKept(logits, Apply(new TopPLogitsWarper(0.8f), logits), 0, 2);
    }

    [TestMethod]
    public void MinP_RemovesTokensBelowMinPTimesTheTopProbability()
    {
        float[] logits = FromProbabilities(0.15, 0.5, 0.05, 0.3);
        AssertKept(logits, Apply(new MinPLogitsWarper(0.35f), logits), 1, 3);      // threshold 0.175
        AssertKept(logits, Apply(new MinPLogitsWarper(0.2f), logits), 0, 1, 3);    // threshold 0.1
        AssertKept(logits, Apply(new MinPLogitsWarper(1f), logits), 1);
        AssertKept(logits, Apply(new MinPLogitsWarper(0f), logits), 0, 1, 2, 3);
        AssertKept(logits, Apply(new MinPLogitsWarper(0.9f, minTokensToKeep: 3), logits), 0, 1, 3);
    }

    [TestMethod]
    public void TypicalP_KeepsTokensClosestToTheEntropy()
    {
        // p = 0.15, 0.5, 0.05, 0.3 (ids 0..3). H = Σ -p ln p = 1.14212. |−ln p − H|: 0.7550, 0.4490, 1.8536, 0.0619.
        // Sorted by distance: id 3 (0.3), id 1 (0.5), id 0 (0.15), id 2 (0.05); cumulative 0.3, 0.8, 0.95, 1.0.
        float[] logits = FromProbabilities(0.15, 0.5, 0.05, 0.3);
        AssertKept(logits, Apply(new TypicalLogitsWarper(0.5f), logits), 1, 3);      // (cum < 0.5).sum() = 1 → ids 3, 1
        AssertKept(logits, Apply(new TypicalLogitsWarper(0.2f), logits), 3);         // not the most likely token
        AssertKept(logits, Apply(new TypicalLogitsWarper(0.9f), logits), 0, 1, 3);
        AssertKept(logits, Apply(new TypicalLogitsWarper(0.2f, minTokensToKeep: 2), logits), 1, 3);
        AssertKept(logits, Apply(new TypicalLogitsWarper(1f), logits), 0, 1, 2, 3);
    }

    [TestMethod]
    public void Warpers_LeaveAFullyMaskedRowAlone()
    {
        float[] masked = [NegInf, NegInf];
        foreach (LogitsProcessor warper in new LogitsProcessor[] { new TopKLogitsWarper(1), new TopPLogitsWarper(0.5f), new MinPLogitsWarper(0.5f), new TypicalLogitsWarper(0.5f) })
        {
            AssertSequence(masked, Apply(warper, masked));
        }
    }
}
