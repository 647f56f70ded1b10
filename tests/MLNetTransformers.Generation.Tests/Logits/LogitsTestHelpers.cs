using MLNetTransformers.Generation.Logits;

namespace MLNetTransformers.Generation.Tests.Logits;

internal static class LogitsTestHelpers
{
    public const float NegInf = float.NegativeInfinity;

    /// <summary>Logits whose softmax is exactly proportional to <paramref name="probabilities"/>.</summary>
    public static float[] FromProbabilities(params double[] probabilities) => [.. probabilities.Select(p => (float)Math.Log(p))];

    public static float[] Apply(LogitsProcessor processor, float[] logits, int[]? history = null, int promptLength = 0)
    {
        float[] copy = [.. logits];
        processor.Process(copy, history ?? [], promptLength);
        return copy;
    }

    /// <summary>Asserts which ids are masked (−∞) and that the others are unchanged.</summary>
    public static void AssertKept(float[] original, float[] processed, params int[] keptIds)
    {
        for (int id = 0; id < original.Length; id++)
        {
            if (keptIds.Contains(id))
            {
                Assert.AreEqual(original[id], processed[id], $"id {id} should be kept unchanged");
            }
            else
            {
                Assert.AreEqual(NegInf, processed[id], $"id {id} should be masked");
            }
        }
    }

    public static void AssertSequence(float[] expected, float[] actual, float delta = 1e-6f)
    {
        Assert.AreEqual(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (float.IsInfinity(expected[i]))
            {
                Assert.AreEqual(expected[i], actual[i], $"index {i}");
            }
            else
            {
                Assert.AreEqual(expected[i], actual[i], delta, $"index {i}");
            }
        }
    }
}
