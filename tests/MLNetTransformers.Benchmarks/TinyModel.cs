using MLNetTransformers.OnnxRuntime;
using MLNetTransformers.OnnxRuntime.Tests.TestModels;

namespace MLNetTransformers.Benchmarks;

/// <summary>
/// The graph every run-overhead case runs: <c>y = x + c</c> with <c>x</c>, <c>c</c> and <c>y</c> float[1, 4]. One Add of four
/// floats: whatever a run costs beyond that is the binding's and ONNX Runtime's per-run overhead.
/// </summary>
internal static class TinyModel
{
    /// <summary>The input's name.</summary>
    public const string InputName = "x";

    /// <summary>The output's name.</summary>
    public const string OutputName = "y";

    /// <summary>The constant added to the input (an initializer).</summary>
    public static readonly float[] Constant = [10f, 20f, 30f, 40f];

    /// <summary>The input the benchmarks feed (the native baseline uses the same values).</summary>
    public static readonly float[] Input = [1f, 2f, 3f, 4f];

    /// <summary>The input's and output's shape.</summary>
    public static readonly long[] Shape = [1, 4];

    /// <summary>The serialized <c>ModelProto</c>.</summary>
    public static byte[] Build() =>
        new ModelBuilder(new GraphBuilder("tiny_add")
            .Input(InputName, TensorElementType.Float32, 1, 4)
            .Output(OutputName, TensorElementType.Float32, 1, 4)
            .Initializer("c", Constant, 1, 4)
            .Node("Add", [InputName, "c"], [OutputName])).Build();

    /// <summary>Writes the model to a file (for the native C baseline).</summary>
    public static void Write(string path)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        File.WriteAllBytes(path, Build());
    }

    /// <summary>Throws unless <paramref name="output"/> is <c>Input + Constant</c>.</summary>
    public static void Verify(ReadOnlySpan<float> output, string what)
    {
        if (output.Length != Input.Length)
        {
            throw new InvalidOperationException($"{what}: {output.Length} output elements, expected {Input.Length}.");
        }

        for (int i = 0; i < output.Length; i++)
        {
            if (output[i] != Input[i] + Constant[i])
            {
                throw new InvalidOperationException($"{what}: y[{i}] = {output[i]}, expected {Input[i] + Constant[i]}.");
            }
        }
    }
}
