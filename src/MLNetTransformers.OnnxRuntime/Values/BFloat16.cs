using System.Globalization;

namespace MLNetTransformers.OnnxRuntime;

/// <summary>
/// Brain floating point (bfloat16): the upper 16 bits of an IEEE float32. .NET has no such type, so this one carries the bits
/// and converts to and from <see cref="float"/> (rounding to nearest, ties to even; NaN stays NaN).
/// </summary>
public readonly struct BFloat16 : IEquatable<BFloat16>
{
    /// <summary>Creates a value from its raw bits.</summary>
    /// <param name="bits">The 16 bits.</param>
    public BFloat16(ushort bits) => Bits = bits;

    /// <summary>The raw 16 bits.</summary>
    public ushort Bits { get; }

    /// <summary>Converts a float, rounding to nearest even.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The nearest bfloat16.</returns>
    public static BFloat16 FromSingle(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return new BFloat16((ushort)((bits >> 16) | 0x0040)); // keep the sign, force a quiet NaN
        }

        uint roundingBias = 0x7FFF + ((bits >> 16) & 1);
        return new BFloat16((ushort)((bits + roundingBias) >> 16));
    }

    /// <summary>Converts to float exactly.</summary>
    /// <returns>The float value.</returns>
    public float ToSingle() => BitConverter.UInt32BitsToSingle((uint)Bits << 16);

    /// <summary>Converts a float, rounding to nearest even.</summary>
    /// <param name="value">The value.</param>
    public static explicit operator BFloat16(float value) => FromSingle(value);

    /// <summary>Converts to float exactly.</summary>
    /// <param name="value">The value.</param>
    public static explicit operator float(BFloat16 value) => value.ToSingle();

    /// <summary>Bitwise equality.</summary>
    /// <param name="left">Left.</param>
    /// <param name="right">Right.</param>
    public static bool operator ==(BFloat16 left, BFloat16 right) => left.Equals(right);

    /// <summary>Bitwise inequality.</summary>
    /// <param name="left">Left.</param>
    /// <param name="right">Right.</param>
    public static bool operator !=(BFloat16 left, BFloat16 right) => !left.Equals(right);

    /// <inheritdoc/>
    public bool Equals(BFloat16 other) => Bits == other.Bits;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is BFloat16 other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Bits;

    /// <inheritdoc/>
    public override string ToString() => ToSingle().ToString(CultureInfo.InvariantCulture);
}
