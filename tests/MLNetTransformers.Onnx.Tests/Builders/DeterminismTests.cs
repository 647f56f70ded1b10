using MLNetTransformers.Onnx.Builders;
using MLNetTransformers.Onnx.Model;

namespace MLNetTransformers.Onnx.Tests.Builders;

/// <summary>Seeded weights: same seed → identical bytes (pinned across platforms), other seed → other weights, N(0, σ²) statistics.</summary>
[TestClass]
public sealed class DeterminismTests
{
    private static readonly int[] PinnedWte = [-1122754834, -1122800485, 1023183063, 1016098066]; // -0.03616231, -0.035992246, 0.03082697, 0.017630134
    private static readonly int[] PinnedWteChunk2 = [-1123408744, 1002622219]; // -0.033726305, 0.005944853 (second 65536-element chunk)
    private static readonly int[] PinnedGain = [1065685515, 1065212666]; // 1.0396131, 0.99162257 (1 + N(0, 0.02²))

    [TestMethod]
    public void SameSeedGivesIdenticalModelBytesAndAnotherSeedDoesNot()
    {
        TransformerModelBuilder[] Builders(long seed) =>
        [
            new Gpt2Builder(Gpt2BuilderTests.Tiny with { Seed = seed }),
            new LlamaBuilder(LlamaBuilderTests.Tiny with { Seed = seed }),
            new BertBuilder(BertBuilderTests.Tiny with { Seed = seed }),
        ];

        TransformerModelBuilder[] first = Builders(7), again = Builders(7), other = Builders(8);
        for (int i = 0; i < first.Length; i++)
        {
            using OnnxModel a = first[i].BuildModel(), b = again[i].BuildModel(), c = other[i].BuildModel();
            byte[] bytes = a.ToBytes();
            CollectionAssert.AreEqual(bytes, b.ToBytes(), first[i].GetType().Name);
            Assert.AreEqual(bytes.Length, c.ToBytes().Length);
            Assert.IsFalse(bytes.AsSpan().SequenceEqual(c.ToBytes()), first[i].GetType().Name);
            Assert.IsTrue(a.Graph.Initializer.Zip(c.Graph.Initializer).Where(p => p.First.Dims.Aggregate(1L, (x, y) => x * y) >= 8)
                .All(p => p.First.Name.StartsWith("const_", StringComparison.Ordinal) || p.First.Name.EndsWith("inv_freq", StringComparison.Ordinal) || !p.First.RawData.Equals(p.Second.RawData)), "every weight changes with the seed");
        }
    }

    [TestMethod]
    public void WeightsArePinnedBitForBit()
    {
        // Generated with IEEE arithmetic only (xoshiro256**, polar method, series logarithm): the same on every platform.
        using OnnxModel model = new Gpt2Builder(new Gpt2BuilderOptions { Seed = 1, Vocab = 2000 }).BuildModel();
        float[] wte = model.GetFloats(model.Graph.Initializer.First(t => t.Name == "transformer.wte.weight"));
        float[] gain = model.GetFloats(model.Graph.Initializer.First(t => t.Name == "transformer.h.1.ln_2.weight"));
        CollectionAssert.AreEqual(PinnedWte, wte[..4].Select(BitConverter.SingleToInt32Bits).ToArray());
        CollectionAssert.AreEqual(PinnedWteChunk2, wte[65536..65538].Select(BitConverter.SingleToInt32Bits).ToArray());
        CollectionAssert.AreEqual(PinnedGain, gain[..2].Select(BitConverter.SingleToInt32Bits).ToArray());
    }

    [TestMethod]
    public void WeightsHaveTheRequestedMeanAndDeviation()
    {
        using OnnxModel model = new LlamaBuilder(new LlamaBuilderOptions { Vocab = 4000, Hidden = 64, Layers = 1, InitializerRange = 0.05f, Seed = 2 }).BuildModel();
        float[] embed = model.GetFloats(model.Graph.Initializer.First(t => t.Name == "model.embed_tokens.weight"));
        double mean = embed.Average(v => (double)v);
        double std = Math.Sqrt(embed.Average(v => ((double)v - mean) * ((double)v - mean)));
        Assert.AreEqual(0, mean, 4 * 0.05 / Math.Sqrt(embed.Length));
        Assert.AreEqual(0.05, std, 0.05 * 0.01);
        Assert.AreEqual(0.3, embed.Count(v => Math.Abs(v) > 0.05) / (double)embed.Length, 0.02, "a normal has 31.7% beyond one σ");
        float[] gain = model.GetFloats(model.Graph.Initializer.First(t => t.Name == "model.norm.weight"));
        Assert.AreEqual(1, gain.Average(v => (double)v), 0.05);
    }

    [TestMethod]
    public void PortableLogarithmAgreesWithMathLog()
    {
        var random = new Random(5);
        for (int i = 0; i < 10000; i++)
        {
            double x = i < 5000 ? random.NextDouble() : Math.Pow(2, -random.Next(1, 1000)) * (1 + random.NextDouble());
            if (x == 0)
            {
                continue;
            }

            double expected = Math.Log(x);
            Assert.AreEqual(expected, DeterministicRandom.Log(x), Math.Max(4e-16 * Math.Abs(expected), 1e-300), $"ln {x}");
        }

        Assert.AreEqual(0.0, DeterministicRandom.Log(1.0));
    }
}
