using System.Globalization;
using BenchmarkDotNet.Running;

namespace MLNetTransformers.Benchmarks;

/// <summary>
/// Entry point. <c>--quick [iterations] [rounds]</c>: the Stopwatch loop (<see cref="QuickRunner"/>);
/// <c>--write-model PATH</c>: writes the tiny graph's <c>.onnx</c> file (for native/run.sh); <c>--decode [steps] [rounds]
/// [threads,...]</c>: decode latency of a distilgpt2-shaped model, float32 vs dynamic int8 (<see cref="DecodeBenchmark"/>;
/// defaults 64 steps, 5 rounds, threads 1,2); anything else goes to
/// BenchmarkDotNet's <see cref="BenchmarkSwitcher"/> (e.g. <c>--filter *</c>, <c>--job short</c>), always with
/// <c>--inProcess</c> added.
/// </summary>
internal static class Program
{
    private const int DefaultIterations = 200_000;
    private const int DefaultRounds = 5;

    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--write-model")
        {
            if (args.Length != 2)
            {
                Console.Error.WriteLine("usage: --write-model PATH");
                return 2;
            }

            TinyModel.Write(args[1]);
            Console.WriteLine(Path.GetFullPath(args[1]));
            return 0;
        }

        if (args.Length > 0 && args[0] == "--decode")
        {
            int steps = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 64;
            int decodeRounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5;
            int[] threads = args.Length > 3 ? [.. args[3].Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture))] : [1, 2];
            if (steps < 1 || decodeRounds < 1 || threads.Any(t => t < 1))
            {
                Console.Error.WriteLine("usage: --decode [steps >= 1] [rounds >= 1] [threads,... >= 1]");
                return 2;
            }

            return DecodeBenchmark.Run(steps, decodeRounds, threads);
        }

        if (args.Length > 0 && args[0] == "--quick")
        {
            int iterations = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : DefaultIterations;
            int rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : DefaultRounds;
            if (iterations < 1 || rounds < 1)
            {
                Console.Error.WriteLine("usage: --quick [iterations >= 1] [rounds >= 1]");
                return 2;
            }

            return QuickRunner.Run(iterations, rounds);
        }

        // Always in process. BenchmarkDotNet's default toolchain builds a generated project under bin/: it inherits the
        // repository's Directory.Build.props (its undocumented public types then fail the build on CS1591), and the absolute
        // /p:IntermediateOutputPath it passes reaches src/MLNetTransformers.OnnxRuntime too (with build/OrtApiSlots.targets as
        // of commit c65e705 that wrote OrtApiSlot.g.cs inside src/ and broke later builds). In process, nothing is rebuilt.
        if (!args.Any(a => string.Equals(a, "--inProcess", StringComparison.OrdinalIgnoreCase)))
        {
            args = [.. args, "--inProcess"];
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
