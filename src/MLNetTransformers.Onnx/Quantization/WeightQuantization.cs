namespace MLNetTransformers.Onnx.Quantization;

/// <summary>Symmetric int8 weights: values and scales of a [K, N] weight, per tensor or per output column.</summary>
/// <param name="Values">The int8 values, row-major [K, N].</param>
/// <param name="Scales">One scale (per tensor) or N scales (per column).</param>
internal sealed record Int8Weight(sbyte[] Values, float[] Scales);

/// <summary>
/// A 4-bit block-quantized weight in <c>MatMulNBits</c>' layout: <see cref="Packed"/> is [N, blocks, blockSize / 2] bytes, value
/// 2i of a block in the low nibble of byte i and value 2i+1 in the high nibble; <see cref="Scales"/> is [N, blocks];
/// <see cref="ZeroPoints"/> (absent for symmetric blocks, whose zero point is 8) is [N, ceil(blocks / 2)] packed the same way.
/// </summary>
internal sealed record Int4Weight(byte[] Packed, float[] Scales, byte[]? ZeroPoints, int K, int N, int BlockSize)
{
    public int Blocks => (K + BlockSize - 1) / BlockSize;
}

/// <summary>The weight quantization arithmetic (round half to even, as ONNX's QuantizeLinear).</summary>
internal static class WeightQuantization
{
    /// <summary>
    /// Symmetric int8: scale = max|w| / qmax (per tensor, or per output column n over w[:, n]), q = clamp(round(w / scale), -qmax, qmax).
    /// The dequantized q·scale is within scale/2 of w.
    /// </summary>
    public static Int8Weight QuantizeInt8(ReadOnlySpan<float> weight, int k, int n, bool perChannel, int qmax)
    {
        float[] scales = new float[perChannel ? n : 1];
        if (perChannel)
        {
            var max = new float[n];
            for (int row = 0; row < k; row++)
            {
                ReadOnlySpan<float> r = weight.Slice(row * n, n);
                for (int col = 0; col < n; col++)
                {
                    max[col] = MathF.Max(max[col], MathF.Abs(r[col]));
                }
            }

            for (int col = 0; col < n; col++)
            {
                scales[col] = Scale(max[col], qmax);
            }
        }
        else
        {
            float max = 0;
            foreach (float v in weight)
            {
                max = MathF.Max(max, MathF.Abs(v));
            }

            scales[0] = Scale(max, qmax);
        }

        var values = new sbyte[weight.Length];
        for (int row = 0; row < k; row++)
        {
            for (int col = 0; col < n; col++)
            {
                int i = row * n + col;
                float scale = scales[perChannel ? col : 0];
                values[i] = (sbyte)Math.Clamp(MathF.Round(weight[i] / scale), -qmax, qmax);
            }
        }

        return new Int8Weight(values, scales);

        static float Scale(float max, int qmax) => max > 0 ? max / qmax : 1f;
    }

    /// <summary>
    /// Symmetric int8 with one scale per row of a row-major [rows, cols] table (an embedding: a row is what a Gather reads):
    /// scale = max|row| / qmax (1 for an all-zero row), q = clamp(round(w / scale), -qmax, qmax). Scales has one value per row.
    /// </summary>
    public static Int8Weight QuantizeInt8Rows(ReadOnlySpan<float> table, int rows, int cols, int qmax, CancellationToken cancellationToken = default)
    {
        var values = new sbyte[(long)rows * cols];
        var scales = new float[rows];
        for (int row = 0; row < rows; row++)
        {
            if ((row & 1023) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            ReadOnlySpan<float> r = table.Slice(row * cols, cols);
            float max = 0;
            foreach (float v in r)
            {
                max = MathF.Max(max, MathF.Abs(v));
            }

            float scale = max > 0 ? max / qmax : 1f;
            scales[row] = scale;
            Span<sbyte> q = values.AsSpan(row * cols, cols);
            for (int col = 0; col < cols; col++)
            {
                q[col] = (sbyte)Math.Clamp(MathF.Round(r[col] / scale), -qmax, qmax);
            }
        }

        return new Int8Weight(values, scales);
    }

    /// <summary>
    /// 4-bit blocks along K for each output column: symmetric blocks use scale = m / -8 where m is the value of largest magnitude
    /// (keeping its sign, so it lands exactly on level 0) and q = clamp(round(w / scale) + 8, 0, 15); asymmetric blocks use
    /// scale = (max - min) / 15 over the block's range widened to include 0, zero point zp = clamp(round(-min / scale), 0, 15),
    /// q = clamp(round(w / scale) + zp, 0, 15). K is padded with zeros to whole blocks.
    /// </summary>
    public static Int4Weight QuantizeInt4(ReadOnlySpan<float> weight, int k, int n, int blockSize, bool symmetric, CancellationToken cancellationToken = default)
    {
        int blocks = (k + blockSize - 1) / blockSize;
        int blob = blockSize / 2;
        var packed = new byte[(long)n * blocks * blob];
        var scales = new float[n * blocks];
        int zpBytes = (blocks + 1) / 2;
        byte[]? zeroPoints = symmetric ? null : new byte[n * zpBytes];
        var column = new float[blocks * blockSize];
        for (int col = 0; col < n; col++)
        {
            if ((col & 63) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            Array.Clear(column);
            for (int row = 0; row < k; row++)
            {
                column[row] = weight[row * n + col];
            }

            for (int b = 0; b < blocks; b++)
            {
                ReadOnlySpan<float> values = column.AsSpan(b * blockSize, blockSize);
                float scale;
                int zp;
                if (symmetric)
                {
                    float extreme = 0;
                    foreach (float v in values)
                    {
                        if (MathF.Abs(v) > MathF.Abs(extreme))
                        {
                            extreme = v;
                        }
                    }

                    scale = extreme / -8f;
                    zp = 8;
                }
                else
                {
                    float min = 0, max = 0;
                    foreach (float v in values)
                    {
                        min = MathF.Min(min, v);
                        max = MathF.Max(max, v);
                    }

                    scale = (max - min) / 15f;
                    zp = scale == 0 ? 8 : Math.Clamp((int)MathF.Round(-min / scale), 0, 15);
                    zeroPoints![(col * zpBytes) + (b / 2)] |= (byte)(zp << ((b & 1) * 4));
                }

                scales[(col * blocks) + b] = scale;
                float inverse = scale == 0 ? 0 : 1f / scale;
                Span<byte> target = packed.AsSpan((int)(((long)col * blocks + b) * blob), blob);
                for (int i = 0; i < blockSize; i++)
                {
                    int q = Math.Clamp((int)MathF.Round(values[i] * inverse) + zp, 0, 15);
                    target[i / 2] |= (byte)(q << ((i & 1) * 4));
                }
            }

            if (!symmetric && (blocks & 1) == 1)
            {
                // The unused high nibble of an odd block count: the default zero point, never read.
                zeroPoints![(col * zpBytes) + zpBytes - 1] |= 8 << 4;
            }
        }

        return new Int4Weight(packed, scales, zeroPoints, k, n, blockSize);
    }

    /// <summary>Dequantizes a <see cref="Int4Weight"/> back to a row-major [K, N] float weight: (q - zp) · scale.</summary>
    public static float[] DequantizeInt4(Int4Weight weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        int k = weight.K, n = weight.N, blocks = weight.Blocks, blob = weight.BlockSize / 2, zpBytes = (blocks + 1) / 2;
        var result = new float[k * n];
        for (int col = 0; col < n; col++)
        {
            for (int row = 0; row < k; row++)
            {
                int b = row / weight.BlockSize, i = row % weight.BlockSize;
                byte packed = weight.Packed[((col * blocks + b) * blob) + (i / 2)];
                int q = (packed >> ((i & 1) * 4)) & 0xF;
                int zp = weight.ZeroPoints is null ? 8 : (weight.ZeroPoints[(col * zpBytes) + (b / 2)] >> ((b & 1) * 4)) & 0xF;
                result[row * n + col] = (q - zp) * weight.Scales[(col * blocks) + b];
            }
        }

        return result;
    }

    /// <summary>Transposes a row-major [rows, cols] matrix.</summary>
    public static float[] Transpose(ReadOnlySpan<float> matrix, int rows, int cols)
    {
        var result = new float[matrix.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                result[c * rows + r] = matrix[r * cols + c];
            }
        }

        return result;
    }
}
