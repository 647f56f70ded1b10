using System.Text;

namespace MLNetTransformers.Onnx.Builders;

/// <summary>
/// The pseudo-random numbers behind builder weights: xoshiro256** seeded through SplitMix64, normal deviates by Marsaglia's polar
/// method with a logarithm computed from IEEE arithmetic only (no libm calls), so the same seed gives bit-identical weights on
/// every platform and runtime. Each tensor is cut into fixed-size chunks with their own streams (seed, tensor name, chunk index),
/// which makes generation parallel without making it depend on scheduling.
/// </summary>
internal struct DeterministicRandom
{
    /// <summary>Elements per independently seeded chunk.</summary>
    public const int ChunkSize = 1 << 16;

    private ulong _s0, _s1, _s2, _s3;

    public DeterministicRandom(ulong seed)
    {
        ulong state = seed;
        _s0 = SplitMix64(ref state);
        _s1 = SplitMix64(ref state);
        _s2 = SplitMix64(ref state);
        _s3 = SplitMix64(ref state);
    }

    /// <summary>The stream seed of one tensor: the model seed mixed with a stable (FNV-1a) hash of the tensor's name.</summary>
    public static ulong TensorSeed(long seed, string name)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(name))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        ulong state = unchecked((ulong)seed) ^ hash;
        return SplitMix64(ref state);
    }

    /// <summary>The stream seed of one chunk of a tensor.</summary>
    public static ulong ChunkSeed(ulong tensorSeed, long chunk)
    {
        ulong state = tensorSeed + (unchecked((ulong)chunk) * 0xD1B54A32D192ED03UL);
        return SplitMix64(ref state);
    }

    /// <summary>Fills <paramref name="destination"/> with <paramref name="mean"/> + <paramref name="std"/> · N(0, 1).</summary>
    public void FillNormal(Span<float> destination, float mean, float std)
    {
        int i = 0;
        while (i < destination.Length)
        {
            double u, v, s;
            do
            {
                u = (NextDouble() * 2.0) - 1.0;
                v = (NextDouble() * 2.0) - 1.0;
                s = (u * u) + (v * v);
            }
            while (s >= 1.0 || s == 0.0);

            double factor = Math.Sqrt(-2.0 * Log(s) / s);
            destination[i++] = (float)(mean + (std * u * factor));
            if (i < destination.Length)
            {
                destination[i++] = (float)(mean + (std * v * factor));
            }
        }
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>The next 64 random bits (xoshiro256**).</summary>
    public ulong NextUInt64()
    {
        ulong result = RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>
    /// ln(x) for a positive normal double, from +, −, ×, ÷ only (correct to a few ulps): x = m·2^e with m in [√½, √2), and
    /// ln m = 2·atanh(t), t = (m−1)/(m+1), summed as a series in Horner form (|t| ≤ 0.172, so 14 odd terms reach t^29 ≈ 1e-22).
    /// Portable where <see cref="Math.Log(double)"/> may differ in the last bit between C runtimes.
    /// </summary>
    internal static double Log(double x)
    {
        long bits = BitConverter.DoubleToInt64Bits(x);
        int exponent = (int)((bits >> 52) & 0x7FF) - 1023;
        double m = BitConverter.Int64BitsToDouble((bits & 0x000F_FFFF_FFFF_FFFFL) | 0x3FF0_0000_0000_0000L);
        if (m > 1.4142135623730951)
        {
            m *= 0.5;
            exponent++;
        }

        double t = (m - 1.0) / (m + 1.0);
        double t2 = t * t;
        double sum = (1.0 / 27) * t2;
        sum = (sum + (1.0 / 25)) * t2;
        sum = (sum + (1.0 / 23)) * t2;
        sum = (sum + (1.0 / 21)) * t2;
        sum = (sum + (1.0 / 19)) * t2;
        sum = (sum + (1.0 / 17)) * t2;
        sum = (sum + (1.0 / 15)) * t2;
        sum = (sum + (1.0 / 13)) * t2;
        sum = (sum + (1.0 / 11)) * t2;
        sum = (sum + (1.0 / 9)) * t2;
        sum = (sum + (1.0 / 7)) * t2;
        sum = (sum + (1.0 / 5)) * t2;
        sum = (sum + (1.0 / 3)) * t2;
        sum += 1.0;
        sum *= t;
        return (exponent * 0.6931471805599453) + (2.0 * sum);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));

    private static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
