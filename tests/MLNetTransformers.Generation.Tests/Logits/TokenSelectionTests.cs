using MLNetTransformers.Generation.Logits;
using static MLNetTransformers.Generation.Tests.Logits.LogitsTestHelpers;

namespace MLNetTransformers.Generation.Tests.Logits;

[TestClass]
public sealed class TokenSelectionTests
{
    [TestMethod]
    public void ArgMax_OnLongRowsEqualsTheFirstLargestScan()
    {
        var random = new Random(11);
        for (int trial = 0; trial < 2000; trial++)
        {
            int length = random.Next(1, 5000);
            float[] logits = new float[length];
            for (int i = 0; i < length; i++)
            {
                // Few distinct values so that ties are common; some -inf, -0/+0 and the odd NaN.
                logits[i] = random.Next(6) switch
                {
                    0 => float.NegativeInfinity,
                    1 => -0f,
                    2 => 0f,
                    _ => random.Next(-20, 20) / 4f,
                };
            }

            if (trial % 7 == 0)
            {
                logits[random.Next(length)] = float.NaN;
            }

            int expected = 0;
            for (int i = 0; i < length; i++)
            {
                if (float.IsNaN(logits[i]))
                {
                    expected = i;
                    break;
                }

                if (logits[i] > logits[expected])
                {
                    expected = i;
                }
            }

            Assert.AreEqual(expected, TokenSelection.ArgMax(logits), $"trial {trial}, length {length}");
        }
    }

    [TestMethod]
    public void ArgMax_TakesTheLowestIdOnTies()
    {
        Assert.AreEqual(1, TokenSelection.ArgMax([1f, 3f, 3f, 2f]));
        Assert.AreEqual(0, TokenSelection.ArgMax([NegInf, NegInf]));
        Assert.AreEqual(2, TokenSelection.ArgMax([NegInf, -5f, -1f]));
        Assert.AreEqual(1, TokenSelection.ArgMax([1f, float.NaN, 3f]));
        Assert.ThrowsExactly<ArgumentException>(() => TokenSelection.ArgMax([]));
    }

    [TestMethod]
    public void Xoshiro_MatchesTheReferenceAlgorithm()
    {
        ulong state = 0;
        Assert.AreEqual(0xE220A8397B1DCDAFUL, Xoshiro256StarStar.SplitMix64(ref state));   // SplitMix64's published first output for seed 0
        // xoshiro256** seeded by SplitMix64, from a direct transcription of the reference C code.
        var zero = new Xoshiro256StarStar(0);
        Assert.AreEqual(0x99EC5F36CB75F2B4UL, zero.NextUInt64());
        Assert.AreEqual(0xBF6E1F784956452AUL, zero.NextUInt64());
        Assert.AreEqual(0x1A5F849D4933E6E0UL, zero.NextUInt64());
        var fortyTwo = new Xoshiro256StarStar(42);
        Assert.AreEqual(0x15780B2E0C2EC716UL, fortyTwo.NextUInt64());
        Assert.AreEqual(0x6104D9866D113A7EUL, fortyTwo.NextUInt64());
        Assert.AreEqual(0xAE17533239E499A1UL, fortyTwo.NextUInt64());
        double d = new Xoshiro256StarStar(0).NextDouble();
        Assert.AreEqual((0x99EC5F36CB75F2B4UL >> 11) / 9007199254740992.0, d);
    }

    [TestMethod]
    public void Sample_SameSeedSameDraws_DifferentSeedDifferentDraws()
    {
        float[] logits = [.. Enumerable.Range(0, 50).Select(i => (float)Math.Sin(i))];
        int[] a = Draws(logits, 123, 200);
        int[] b = Draws(logits, 123, 200);
        int[] c = Draws(logits, 124, 200);
        CollectionAssert.AreEqual(a, b);
        CollectionAssert.AreNotEqual(a, c);
    }

    [TestMethod]
    public void Sample_NeverDrawsMaskedTokens()
    {
        float[] logits = [NegInf, 0f, NegInf, 0f, NegInf];
        var random = new Xoshiro256StarStar(1);
        var counts = new int[5];
        for (int i = 0; i < 2000; i++)
        {
            counts[TokenSelection.Sample(logits, random)]++;
        }

        Assert.AreEqual(0, counts[0] + counts[2] + counts[4]);
        Assert.IsTrue(counts[1] > 800 && counts[3] > 800);
        Assert.ThrowsExactly<ArgumentException>(() => TokenSelection.Sample([NegInf, NegInf], random));
        Assert.ThrowsExactly<ArgumentException>(() => TokenSelection.Sample([0f, float.NaN], random));
    }

    [TestMethod]
    public void Sample_EmpiricalDistributionMatchesSoftmax()
    {
        float[] logits = [1f, 2f, 0.5f, -1f, 3f, NegInf];
        float[] probabilities = new float[logits.Length];
        TokenSelection.Softmax(logits, probabilities);
        const int Draws = 20_000;
        var counts = new int[logits.Length];
        var random = new Xoshiro256StarStar(2024);
        for (int i = 0; i < Draws; i++)
        {
            counts[TokenSelection.Sample(logits, random)]++;
        }

        for (int id = 0; id < logits.Length; id++)
        {
            double expected = probabilities[id];
            double sigma = Math.Sqrt(expected * (1 - expected) / Draws);
            double observed = counts[id] / (double)Draws;
            // 5 standard deviations (≤ 0.0175 here): fails only if the sampler is biased.
            Assert.AreEqual(expected, observed, Math.Max(5 * sigma, 1e-9), $"id {id}: expected {expected:F4}, observed {observed:F4}");
        }
    }

    [TestMethod]
    public void SamplingWithTopKOne_EqualsGreedy()
    {
        var settings = new LogitsProcessorSettings { DoSample = true, TopK = 1, Temperature = 0.8f, TopP = 0.9f };
        LogitsProcessorList list = LogitsProcessorList.Create(settings);
        var source = new Random(11);
        for (int seed = 0; seed < 50; seed++)
        {
            float[] logits = [.. Enumerable.Range(0, 1000).Select(_ => (float)(source.NextDouble() * 10 - 5))];
            int greedy = TokenSelection.ArgMax(logits);
            float[] processed = [.. logits];
            list.Process(processed, [1, 2, 3], 3);
            var random = new Xoshiro256StarStar((ulong)seed);
            for (int draw = 0; draw < 5; draw++)
            {
                Assert.AreEqual(greedy, TokenSelection.Sample(processed, random));
            }
        }
    }

    [TestMethod]
    public void LogSoftmax_MatchesHandComputedValues_InPlace()
    {
        float[] logits = [0f, (float)Math.Log(3), NegInf];
        float[] output = new float[3];
        TokenSelection.LogSoftmax(logits, output);
        AssertSequence([(float)Math.Log(0.25), (float)Math.Log(0.75), NegInf], output);
        TokenSelection.LogSoftmax(logits, logits);
        AssertSequence(output, logits);
        // Shift invariance with large logits (no overflow).
        float[] large = [1000f, 1000f];
        TokenSelection.LogSoftmax(large, large);
        AssertSequence([(float)-Math.Log(2), (float)-Math.Log(2)], large);
        Assert.ThrowsExactly<ArgumentException>(() => TokenSelection.LogSoftmax([1f, 2f], new float[1]));
    }

    private static int[] Draws(float[] logits, ulong seed, int count)
    {
        var random = new Xoshiro256StarStar(seed);
        return [.. Enumerable.Range(0, count).Select(_ => TokenSelection.Sample(logits, random))];
    }
}
