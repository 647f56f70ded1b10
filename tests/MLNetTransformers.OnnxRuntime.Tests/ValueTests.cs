namespace MLNetTransformers.OnnxRuntime.Tests;

[TestClass]
public sealed class ValueTests
{
    private static void RoundTrip<T>(TensorElementType type, T[] data)
        where T : unmanaged
    {
        using var session = new InferenceSession(Models.Identity(type), TestEnvironment.Options());
        Assert.AreEqual(type, session.InputMetadata[0].ElementType);
        using var input = OrtValue.CreateTensor(data, [data.Length]);
        Assert.AreEqual(type, input.ElementType);
        using var outputs = session.Run(["x"], [input]);
        Assert.AreEqual(type, outputs[0].ElementType);
        CollectionAssert.AreEqual(data, outputs[0].ToArray<T>(), $"{type} round trip");
    }

    [TestMethod]
    public void Float32RoundTrips() => RoundTrip(TensorElementType.Float32, [1.5f, -0f, float.MaxValue, float.Epsilon, float.NegativeInfinity]);

    [TestMethod]
    public void Float64RoundTrips() => RoundTrip(TensorElementType.Float64, [Math.PI, -1e300, double.Epsilon]);

    [TestMethod]
    public void Float16RoundTrips() => RoundTrip(TensorElementType.Float16, [(Half)1.5f, (Half)(-2.25f), Half.MaxValue, Half.Epsilon]);

    [TestMethod]
    public void BFloat16RoundTrips() => RoundTrip(TensorElementType.BFloat16, [BFloat16.FromSingle(1.5f), BFloat16.FromSingle(-3e38f), new BFloat16(0x0001)]);

    [TestMethod]
    public void Int64RoundTrips() => RoundTrip(TensorElementType.Int64, [long.MinValue, -1, 0, long.MaxValue]);

    [TestMethod]
    public void Int32RoundTrips() => RoundTrip(TensorElementType.Int32, [int.MinValue, 7, int.MaxValue]);

    [TestMethod]
    public void Int8RoundTrips() => RoundTrip(TensorElementType.Int8, new sbyte[] { -128, -1, 0, 127 });

    [TestMethod]
    public void UInt8RoundTrips() => RoundTrip(TensorElementType.UInt8, new byte[] { 0, 1, 128, 255 });

    [TestMethod]
    public void BoolRoundTrips() => RoundTrip(TensorElementType.Bool, [true, false, false, true]);

    [TestMethod]
    public void Int16AndUInt16AndUInt32AndUInt64RoundTrip()
    {
        RoundTrip(TensorElementType.Int16, new short[] { short.MinValue, 3, short.MaxValue });
        RoundTrip(TensorElementType.UInt16, new ushort[] { 0, 3, ushort.MaxValue });
        RoundTrip(TensorElementType.UInt32, new uint[] { 0, 3, uint.MaxValue });
        RoundTrip(TensorElementType.UInt64, new ulong[] { 0, 3, ulong.MaxValue });
    }

    [TestMethod]
    public void StringsRoundTripIncludingEmptyNonAsciiAndNul()
    {
        string[] strings = ["hello", string.Empty, "naïve café 日本語 🙂", "with\0nul", new string('x', 10_000)];
        using var session = new InferenceSession(Models.Identity(TensorElementType.String), TestEnvironment.Options());
        using var input = OrtValue.CreateStringTensor(strings, [strings.Length]);
        CollectionAssert.AreEqual(strings, input.GetStrings());
        using var outputs = session.Run(["x"], [input]);
        CollectionAssert.AreEqual(strings, outputs[0].GetStrings());
    }

    [TestMethod]
    public void PooledTensorIsWrittenThroughItsSpanAndRuns()
    {
        using var session = new InferenceSession(Models.Identity(TensorElementType.Int64), TestEnvironment.Options());
        using var input = OrtValue.CreatePooledTensor<long>([5]);
        Assert.IsTrue(input.GetTensorSpan<long>().ToArray().All(v => v == 0), "pooled buffers start zeroed");
        for (int i = 0; i < 5; i++)
        {
            input.GetTensorSpan<long>()[i] = i * 11;
        }

        using var outputs = session.Run(["x"], [input]);
        CollectionAssert.AreEqual(new long[] { 0, 11, 22, 33, 44 }, outputs[0].ToArray<long>());
    }

    [TestMethod]
    public void AllocatedTensorIsZeroedAndWritable()
    {
        using var value = OrtValue.CreateAllocatedTensor(TensorElementType.Int32, [2, 3]);
        Assert.AreEqual("int32[2, 3]", value.TensorInfo.ToString());
        Assert.AreEqual(6, value.GetTensorSpan<int>().Length);
        Assert.IsTrue(value.GetTensorSpan<int>().ToArray().All(v => v == 0));
        value.GetTensorSpan<int>()[5] = 9;
        Assert.AreEqual(9, value.ToArray<int>()[5]);
    }

    [TestMethod]
    public void ZeroElementTensorIsValid()
    {
        using var session = new InferenceSession(Models.Identity(TensorElementType.Float32), TestEnvironment.Options());
        using var input = OrtValue.CreateTensor(Array.Empty<float>(), [0]);
        using var outputs = session.Run(["x"], [input]);
        Assert.AreEqual(0, outputs[0].TensorInfo.ElementCount);
    }

    [TestMethod]
    public void ShapeThatDoesNotMatchTheBufferIsRejected()
    {
        var ex = Assert.ThrowsExactly<ArgumentException>(() => OrtValue.CreateTensor(new float[5], [2, 3]));
        StringAssert.Contains(ex.Message, "holds 6 elements but the buffer has 5");
        var negative = Assert.ThrowsExactly<ArgumentException>(() => OrtValue.CreateTensor(new float[5], [-1, 5]));
        StringAssert.Contains(negative.Message, "negative");
    }

    [TestMethod]
    public void ReadingWithTheWrongElementTypeIsRejected()
    {
        using var value = OrtValue.CreateTensor(new float[3], [3]);
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() => value.GetTensorSpan<int>());
        StringAssert.Contains(ex.Message, "float32");
        Assert.ThrowsExactly<InvalidOperationException>(() => value.GetStrings());
    }

    [TestMethod]
    public void BFloat16ConversionRoundsToNearestEven()
    {
        Assert.AreEqual(1.0f, BFloat16.FromSingle(1.0f).ToSingle());
        // 1 + 2^-8 is exactly half way between 1 and 1 + 2^-7: ties go to the even mantissa (1.0).
        Assert.AreEqual(1.0f, BFloat16.FromSingle(1.00390625f).ToSingle());
        // 1 + 3*2^-8 is half way between 1+2^-7 and 1+2^-6: ties go to even (1 + 2^-6).
        Assert.AreEqual(1.015625f, BFloat16.FromSingle(1.01171875f).ToSingle());
        Assert.IsTrue(float.IsNaN(BFloat16.FromSingle(float.NaN).ToSingle()));
        Assert.AreEqual(float.PositiveInfinity, BFloat16.FromSingle(float.PositiveInfinity).ToSingle());
    }
}
