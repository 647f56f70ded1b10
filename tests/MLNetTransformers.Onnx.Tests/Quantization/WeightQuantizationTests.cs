using MLNetTransformers.Onnx.Quantization;
using static MLNetTransformers.Onnx.Tests.Quantization.QuantizationTestSupport;

namespace MLNetTransformers.Onnx.Tests.Quantization;

/// <summary>The weight arithmetic, checked by hand and against its stated error bounds.</summary>
[TestClass]
public sealed class WeightQuantizationTests
{
    [TestMethod]
    public void Int8PerTensorAndPerChannelScalesAreCheckedByHand()
    {
        // W is [K=2, N=3] row-major: columns (1, -0.5), (-2, 1), (0.25, 0.125).
        float[] w = [1f, -2f, 0.25f, -0.5f, 1f, 0.125f];

        Int8Weight perTensor = WeightQuantization.QuantizeInt8(w, 2, 3, perChannel: false, qmax: 127);
        CollectionAssert.AreEqual(new[] { 2f / 127 }, perTensor.Scales);
        // round(w / (2/127)) = round(63.5 w): 63.5 → 64 (half to even), -127, 15.875 → 16, -31.75 → -32, 63.5 → 64, 7.9375 → 8.
        CollectionAssert.AreEqual(new sbyte[] { 64, -127, 16, -32, 64, 8 }, perTensor.Values);

        Int8Weight perChannel = WeightQuantization.QuantizeInt8(w, 2, 3, perChannel: true, qmax: 127);
        CollectionAssert.AreEqual(new[] { 1f / 127, 2f / 127, 0.25f / 127 }, perChannel.Scales);
        CollectionAssert.AreEqual(new sbyte[] { 127, -127, 127, -64, 64, 64 }, perChannel.Values);

        // Reduced range: the extremes land on ±63; the halves (-31.5, 31.5 in exact arithmetic) round either way in float.
        Int8Weight reduced = WeightQuantization.QuantizeInt8(w, 2, 3, perChannel: true, qmax: 63);
        CollectionAssert.AreEqual(new sbyte[] { 63, -63, 63 }, reduced.Values[..3]);
        Assert.IsTrue(reduced.Values[3..].All(v => Math.Abs(v) is 31 or 32));
    }

    [TestMethod]
    public void Int8DequantizesWithinHalfAStep()
    {
        const int k = 37, n = 11;
        float[] w = Values(k * n, 3, 0.7f);
        w[5] = 3f; // an outlier in column 5 widens only that column's step per channel
        foreach (bool perChannel in new[] { false, true })
        {
            Int8Weight q = WeightQuantization.QuantizeInt8(w, k, n, perChannel, 127);
            for (int i = 0; i < w.Length; i++)
            {
                float scale = q.Scales[perChannel ? i % n : 0];
                Assert.IsLessThanOrEqualTo(scale / 2 * 1.0001f, MathF.Abs((q.Values[i] * scale) - w[i]), $"element {i}");
            }
        }

        Assert.AreEqual(3f / 127, WeightQuantization.QuantizeInt8(w, k, n, true, 127).Scales[5]);
        Assert.IsLessThan(0.7f / 127 * 1.0001f, WeightQuantization.QuantizeInt8(w, k, n, true, 127).Scales[4]);
    }

    [TestMethod]
    public void Int4PackingMatchesTheMatMulNBitsLayoutByHand()
    {
        // One column (N=1), K=16, block 16: values -8..7 times 0.5, in order, largest magnitude -4 → scale = -4 / -8 = 0.5.
        float[] w = Enumerable.Range(0, 16).Select(i => (i - 8) * 0.5f).ToArray();
        Int4Weight q = WeightQuantization.QuantizeInt4(w, 16, 1, 16, symmetric: true);
        Assert.AreEqual(0.5f, q.Scales.Single());
        Assert.IsNull(q.ZeroPoints);
        // q = w / 0.5 + 8 = 0..15; byte i holds value 2i in its low nibble and 2i+1 in its high nibble.
        CollectionAssert.AreEqual(new byte[] { 0x10, 0x32, 0x54, 0x76, 0x98, 0xBA, 0xDC, 0xFE }, q.Packed);

        // Asymmetric, two columns × K=40 (3 blocks of 16, the last padded): zero points packed two blocks per byte, per column.
        float[] w2 = new float[40 * 2];
        for (int k = 0; k < 40; k++)
        {
            w2[k * 2] = k < 16 ? 1f + (k / 16f) : k < 32 ? -1f - ((k - 16) / 16f) : (k - 32) / 8f; // block 0 positive, 1 negative, 2 mixed
            w2[(k * 2) + 1] = 0.1f * (k - 20);
        }

        Int4Weight a = WeightQuantization.QuantizeInt4(w2, 40, 2, 16, symmetric: false);
        Assert.AreEqual(3, a.Blocks);
        Assert.HasCount(2 * 3 * 8, a.Packed);
        Assert.HasCount(2 * 2, a.ZeroPoints!);
        // Column 0: block 0 is all positive → min widened to 0 → zp 0; block 1 all negative → max 0 → zp 15.
        Assert.AreEqual(0, a.ZeroPoints![0] & 0xF);
        Assert.AreEqual(15, a.ZeroPoints[0] >> 4);
        Assert.AreEqual(0, a.ZeroPoints[1] & 0xF, "block 2 of column 0: values 0..0.875, min 0");
        Assert.AreEqual(8, a.ZeroPoints[1] >> 4, "the unused nibble of an odd block count");
    }

    [TestMethod]
    public void Int4RoundTripStaysWithinTheDerivedBound()
    {
        // Symmetric blocks put the value of largest magnitude m exactly on level 0 (scale s = m / -8), so every value is within
        // s/2 of its level, except values of the opposite sign beyond 7.5|s| (level 15 = 7|s| is the last): those are within
        // |v| - 7|s| ≤ |s|. Asymmetric blocks: (max - min) / 15 steps, zero point rounded, so within s/2 plus the zero point's
        // rounding (≤ s/2) only where the clamp bites; here we check the plain s/2 + tiny for values inside the range.
        foreach (int blockSize in new[] { 16, 32, 64, 128 })
        {
            const int k = 200, n = 7; // K not a multiple of any block size: padded blocks
            float[] w = Values(k * n, blockSize, 0.05f);
            w[(17 * n) + 3] = -0.4f;
            w[(18 * n) + 3] = 0.39f; // opposite extreme in the same block: clamped to level 15
            Int4Weight sym = WeightQuantization.QuantizeInt4(w, k, n, blockSize, symmetric: true);
            float[] back = WeightQuantization.DequantizeInt4(sym);
            for (int row = 0; row < k; row++)
            {
                for (int col = 0; col < n; col++)
                {
                    float s = MathF.Abs(sym.Scales[(col * sym.Blocks) + (row / blockSize)]);
                    float v = w[(row * n) + col];
                    float bound = MathF.Max(s / 2, MathF.Abs(v) - (7 * s)) + 1e-6f;
                    Assert.IsLessThanOrEqualTo(bound, MathF.Abs(back[(row * n) + col] - v), $"symmetric block {blockSize} [{row},{col}]");
                }
            }

            Int4Weight asym = WeightQuantization.QuantizeInt4(w, k, n, blockSize, symmetric: false);
            float[] back2 = WeightQuantization.DequantizeInt4(asym);
            for (int i = 0; i < w.Length; i++)
            {
                float s = asym.Scales[((i % n) * asym.Blocks) + ((i / n) / blockSize)];
                Assert.IsLessThanOrEqualTo(s + 1e-6f, MathF.Abs(back2[i] - w[i]), $"asymmetric block {blockSize} element {i}");
            }

            double symError = w.Select((v, i) => Math.Abs(back[i] - v)).Average(), asymError = w.Select((v, i) => Math.Abs(back2[i] - v)).Average();
            Assert.IsLessThan(0.05 / 8, symError, "mean error well under half a step of the widest block");
            Assert.IsLessThan(0.05 / 8, asymError);
        }
    }
}
