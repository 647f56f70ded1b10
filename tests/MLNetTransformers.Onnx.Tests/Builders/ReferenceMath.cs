using MLNetTransformers.Onnx.Model;

namespace MLNetTransformers.Onnx.Tests.Builders;

/// <summary>The weights of a built model, read back from its initializers by name.</summary>
internal sealed class ModelWeights(OnnxModel model)
{
    private readonly Dictionary<string, float[]> _cache = new(StringComparer.Ordinal);

    public float[] this[string name]
    {
        get
        {
            if (!_cache.TryGetValue(name, out float[]? values))
            {
                var tensor = model.Graph.Initializer.SingleOrDefault(t => t.Name == name) ?? throw new AssertFailedException($"The model has no initializer '{name}'.");
                _cache[name] = values = model.GetFloats(tensor);
            }

            return values;
        }
    }

    public bool Has(string name) => model.Graph.Initializer.Any(t => t.Name == name);
}

/// <summary>
/// Plain C# transformer arithmetic (double accumulation) for the reference forward passes. Sequences are arrays of row vectors;
/// weight matrices are [in, out] row-major, as the builders store them.
/// </summary>
internal static class ReferenceMath
{
    public static float[] Row(float[] table, long row, int width) => table.AsSpan(checked((int)(row * width)), width).ToArray();

    public static float[] Add(float[] a, float[] b) => a.Select((v, i) => v + b[i]).ToArray();

    public static float[] Linear(float[] x, float[] weight, int outputs, float[]? bias = null)
    {
        int inputs = x.Length;
        Assert.AreEqual((long)inputs * outputs, weight.Length, "weight shape");
        var y = new float[outputs];
        for (int o = 0; o < outputs; o++)
        {
            double sum = bias is null ? 0 : bias[o];
            for (int i = 0; i < inputs; i++)
            {
                sum += (double)x[i] * weight[(i * outputs) + o];
            }

            y[o] = (float)sum;
        }

        return y;
    }

    /// <summary>x · Eᵀ for an embedding table E [vocab, hidden] (a tied head).</summary>
    public static float[] TiedHead(float[] x, float[] table, int vocab)
    {
        var y = new float[vocab];
        for (int v = 0; v < vocab; v++)
        {
            double sum = 0;
            for (int i = 0; i < x.Length; i++)
            {
                sum += (double)x[i] * table[(v * x.Length) + i];
            }

            y[v] = (float)sum;
        }

        return y;
    }

    public static float[] LayerNorm(float[] x, float[] gain, float[] bias, double eps)
    {
        double mean = x.Average(v => (double)v);
        double variance = x.Average(v => ((double)v - mean) * ((double)v - mean));
        double scale = 1.0 / Math.Sqrt(variance + eps);
        return x.Select((v, i) => (float)((((double)v - mean) * scale * gain[i]) + bias[i])).ToArray();
    }

    public static float[] RmsNorm(float[] x, float[] gain, double eps)
    {
        double meanSquare = x.Average(v => (double)v * v);
        double scale = 1.0 / Math.Sqrt(meanSquare + eps);
        return x.Select((v, i) => (float)(v * scale * gain[i])).ToArray();
    }

    public static float[] GeluTanh(float[] x) =>
        x.Select(v => (float)(0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + (0.044715 * v * v * v)))))).ToArray();

    public static float[] GeluErf(float[] x) => x.Select(v => (float)(0.5 * v * (1 + Erf(v / Math.Sqrt(2))))).ToArray();

    public static float[] Silu(float[] x) => x.Select(v => (float)(v / (1 + Math.Exp(-v)))).ToArray();

    public static float[] Mul(float[] a, float[] b) => a.Select((v, i) => v * b[i]).ToArray();

    /// <summary>erf by its Maclaurin series (|x| ≤ 5; beyond, ±1 to 1e-11).</summary>
    public static double Erf(double x)
    {
        if (Math.Abs(x) > 5)
        {
            return Math.Sign(x);
        }

        double sum = 0, term = x;
        for (int n = 0; n < 200; n++)
        {
            double add = term / ((2 * n) + 1);
            sum += add;
            if (Math.Abs(add) < 1e-17 * Math.Abs(sum))
            {
                break;
            }

            term *= -x * x / (n + 1);
        }

        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    /// <summary>Splits a row [heads·D] into heads.</summary>
    public static float[][] Heads(float[] row, int heads, int headDim) =>
        Enumerable.Range(0, heads).Select(h => row.AsSpan(h * headDim, headDim).ToArray()).ToArray();

    /// <summary>
    /// Causal attention of one sequence: q[t][h], k[t][kv], v[t][kv] head vectors; query t sees keys 0..t whose
    /// <paramref name="keyAllowed"/> is true (all when null); head h reads kv head h / (H / KV). Returns [t][H·D].
    /// </summary>
    public static float[][] Attention(float[][][] q, float[][][] k, float[][][] v, bool causal, bool[]? keyAllowed = null)
    {
        int n = q.Length, heads = q[0].Length, kvHeads = k[0].Length, headDim = q[0][0].Length, groups = heads / kvHeads;
        var output = new float[n][];
        for (int t = 0; t < n; t++)
        {
            output[t] = new float[heads * headDim];
            for (int h = 0; h < heads; h++)
            {
                int kv = h / groups;
                int last = causal ? t : n - 1;
                var scores = new double[last + 1];
                double max = double.NegativeInfinity;
                for (int s = 0; s <= last; s++)
                {
                    if (keyAllowed is not null && !keyAllowed[s])
                    {
                        scores[s] = double.NegativeInfinity;
                        continue;
                    }

                    double dot = 0;
                    for (int d = 0; d < headDim; d++)
                    {
                        dot += (double)q[t][h][d] * k[s][kv][d];
                    }

                    scores[s] = dot / Math.Sqrt(headDim);
                    max = Math.Max(max, scores[s]);
                }

                double total = 0;
                for (int s = 0; s <= last; s++)
                {
                    scores[s] = Math.Exp(scores[s] - max);
                    total += scores[s];
                }

                for (int d = 0; d < headDim; d++)
                {
                    double sum = 0;
                    for (int s = 0; s <= last; s++)
                    {
                        sum += scores[s] / total * v[s][kv][d];
                    }

                    output[t][(h * headDim) + d] = (float)sum;
                }
            }
        }

        return output;
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, $"{what}: length");
        float worst = 0;
        int at = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            float difference = MathF.Abs(expected[i] - actual[i]);
            if (!(difference <= worst))
            {
                worst = difference;
                at = i;
            }
        }

        Assert.IsTrue(worst <= tolerance, $"{what}: max |Δ| {worst} at {at} (expected {(at >= 0 ? expected[at] : 0)}, got {(at >= 0 ? actual[at] : 0)}) over tolerance {tolerance}");
    }
}
