namespace MLNetTransformers.Generation.Logits;

/// <summary>
/// A seeded pseudo-random generator with a documented, stable algorithm, so that the same seed gives the same sampled tokens on
/// every platform and .NET version (<see cref="Random"/>'s algorithm is unspecified and has changed between versions).
/// </summary>
/// <remarks>
/// <para>The generator is Blackman and Vigna's xoshiro256** 1.0 (state of four 64-bit words; output
/// <c>rotl(s1 · 5, 7) · 9</c>). The seed is expanded into the state with SplitMix64 (Steele, Lea and Flood; increment
/// 0x9E3779B97F4A7C15), as the xoshiro authors recommend, which never yields the all-zero state.</para>
/// <para><see cref="NextDouble"/> is the top 53 bits of <see cref="NextUInt64"/> times 2⁻⁵³, uniform in [0, 1).</para>
/// <para>Not thread-safe; not for cryptography.</para>
/// </remarks>
public sealed class Xoshiro256StarStar
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    /// <summary>Creates a generator from a seed.</summary>
    /// <param name="seed">The seed; equal seeds give equal sequences.</param>
    public Xoshiro256StarStar(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    /// <summary>The next 64 random bits.</summary>
    /// <returns>A uniformly distributed 64-bit value.</returns>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>The next double, uniform in [0, 1) with 53 random bits.</summary>
    /// <returns>A value in [0, 1).</returns>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>One step of SplitMix64: advances <paramref name="state"/> and returns the mixed value.</summary>
    /// <param name="state">The SplitMix64 state.</param>
    /// <returns>The next SplitMix64 output.</returns>
    public static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
