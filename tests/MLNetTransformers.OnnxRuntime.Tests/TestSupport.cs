using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using MLNetTransformers.OnnxRuntime.Tests.TestModels;

[assembly: Parallelize(Workers = 2, Scope = ExecutionScope.ClassLevel)]

namespace MLNetTransformers.OnnxRuntime.Tests;

/// <summary>Creates the process-wide environment once, with a logger that records everything for the tests to inspect.</summary>
[TestClass]
public static class TestEnvironment
{
    public static CapturingLoggerFactory Logs { get; } = new();

    [AssemblyInitialize]
    public static void Initialize(TestContext context)
    {
        _ = context;
        OnnxRuntimeEnvironment.Initialize(new OnnxRuntimeEnvironmentOptions { LoggerFactory = Logs, LogLevel = LogLevel.Warning });
    }

    /// <summary>Options for tiny test graphs: one intra-op thread.</summary>
    public static SessionOptions Options() => new() { IntraOpThreads = 1, InterOpThreads = 1 };

    public static string TempDirectory(string name)
    {
        string path = Path.Combine(Path.GetTempPath(), "mlnt-tests", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        return path;
    }
}

public sealed record LogEntry(string Category, LogLevel Level, string Message);

/// <summary>An <see cref="ILoggerFactory"/> that records every message.</summary>
public sealed class CapturingLoggerFactory : ILoggerFactory
{
    public ConcurrentQueue<LogEntry> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, Entries);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }
}

public sealed class CapturingLogger(string category, ConcurrentQueue<LogEntry> entries) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        entries.Enqueue(new LogEntry(category, logLevel, formatter(state, exception)));
}

/// <summary>The small graphs the tests run, with the values they are checked against.</summary>
internal static class Models
{
    /// <summary>y = Softmax(x · W + b) over the last axis; x is [batch, 3], W is [3, 4].</summary>
    public static readonly float[] W = [0.5f, -1f, 2f, 0.25f, 1.5f, 0.75f, -0.5f, 1f, -2f, 0.1f, 0.3f, -0.7f];
    public static readonly float[] B = [0.1f, -0.2f, 0.3f, 0f];

    public static byte[] MatMulAddSoftmax() =>
        new ModelBuilder(new GraphBuilder("mm_add_softmax")
            .Input("x", TensorElementType.Float32, "batch", 3)
            .Output("y", TensorElementType.Float32, "batch", 4)
            .Output("logits", TensorElementType.Float32, "batch", 4)
            .Initializer("W", W, 3, 4)
            .Initializer("b", B, 4)
            .Node("MatMul", ["x", "W"], ["xw"])
            .Node("Add", ["xw", "b"], ["logits"])
            .Node("Softmax", ["logits"], ["y"], "", NodeAttribute.Int("axis", -1))).Build();

    /// <summary>The reference for <see cref="MatMulAddSoftmax"/>, computed in plain C#.</summary>
    public static (float[] Logits, float[] Probabilities) ReferenceMatMulAddSoftmax(float[] x, int batch)
    {
        var logits = new float[batch * 4];
        var probabilities = new float[batch * 4];
        for (int r = 0; r < batch; r++)
        {
            for (int c = 0; c < 4; c++)
            {
                double sum = B[c];
                for (int k = 0; k < 3; k++)
                {
                    sum += x[(r * 3) + k] * W[(k * 4) + c];
                }

                logits[(r * 4) + c] = (float)sum;
            }

            double max = logits.Skip(r * 4).Take(4).Max();
            double total = 0;
            for (int c = 0; c < 4; c++)
            {
                total += Math.Exp(logits[(r * 4) + c] - max);
            }

            for (int c = 0; c < 4; c++)
            {
                probabilities[(r * 4) + c] = (float)(Math.Exp(logits[(r * 4) + c] - max) / total);
            }
        }

        return (logits, probabilities);
    }

    /// <summary>y = x for one element type, shape [n] with symbolic n.</summary>
    public static byte[] Identity(TensorElementType type) =>
        new ModelBuilder(new GraphBuilder("identity")
            .Input("x", type, "n")
            .Output("y", type, "n")
            .Node("Identity", ["x"], ["y"])).Build();

    /// <summary>y = x + 1 repeated <c>trips</c> times inside a Loop: as slow as the trip count makes it.</summary>
    public static byte[] CountingLoop()
    {
        var body = new GraphBuilder("body")
            .Input("i", TensorElementType.Int64)
            .Input("cond_in", TensorElementType.Bool)
            .Input("acc_in", TensorElementType.Float32, 64, 64)
            .Output("cond_out", TensorElementType.Bool)
            .Output("acc_out", TensorElementType.Float32, 64, 64)
            .Node("Identity", ["cond_in"], ["cond_out"])
            .Node("MatMul", ["acc_in", "acc_in"], ["sq"])
            .Node("Mul", ["sq", "zero"], ["zeroed"])
            .Node("Add", ["acc_in", "zeroed"], ["acc_same"])
            .Node("Add", ["acc_same", "one"], ["acc_out"]);
        body.Initializer("zero", [0f]).Initializer("one", [1f]);
        var graph = new GraphBuilder("counting_loop")
            .Input("trips", TensorElementType.Int64)
            .Input("start", TensorElementType.Float32, 64, 64)
            .Output("result", TensorElementType.Float32, 64, 64)
            .Initializer("keep_going", true)
            .Node("Loop", ["trips", "keep_going", "start"], ["result"], "", NodeAttribute.Graph("body", body));
        return new ModelBuilder(graph).Build();
    }

    /// <summary>com.microsoft SkipLayerNormalization over a hidden size of 4.</summary>
    public static byte[] SkipLayerNorm(float[] gamma, float[] beta, float epsilon) =>
        new ModelBuilder(new GraphBuilder("skip_layer_norm")
            .Input("input", TensorElementType.Float32, "batch", "seq", 4)
            .Input("skip", TensorElementType.Float32, "batch", "seq", 4)
            .Output("output", TensorElementType.Float32, "batch", "seq", 4)
            .Initializer("gamma", gamma, 4)
            .Initializer("beta", beta, 4)
            .Node("SkipLayerNormalization", ["input", "skip", "gamma", "beta"], ["output"], "com.microsoft", NodeAttribute.Float("epsilon", epsilon)))
            .Opset("com.microsoft", 1).Build();
}
