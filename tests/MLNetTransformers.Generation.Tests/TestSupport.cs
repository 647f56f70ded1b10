using MLNetTransformers.OnnxRuntime;

[assembly: Parallelize(Workers = 2, Scope = ExecutionScope.ClassLevel)]

namespace MLNetTransformers.Generation.Tests;

[TestClass]
public static class TestSupport
{
    public static string TinyLlamaDirectory => Path.Combine(AppContext.BaseDirectory, "models", "tiny-llama");

    public static string TinyLlamaModel => Path.Combine(TinyLlamaDirectory, "onnx", "model.onnx");

    public static string Reference(string name) => Path.Combine(TinyLlamaDirectory, "reference", name);

    [AssemblyInitialize]
    public static void Initialize(TestContext context)
    {
        _ = context;
        OnnxRuntimeEnvironment.Initialize(new OnnxRuntimeEnvironmentOptions { LogLevel = Microsoft.Extensions.Logging.LogLevel.Error });
    }

    public static SessionOptions SessionOptions(int threads = 2) => new() { IntraOpThreads = threads, InterOpThreads = 1 };

    /// <summary>tiny-llama's reference greedy continuations (<c>reference/greedy.jsonl</c>): prompt ids and new ids per line.</summary>
    public static IEnumerable<(int[] Prompt, int[] NewIds)> GreedyReference()
    {
        foreach (string line in File.ReadLines(Reference("greedy.jsonl")).Where(l => l.Length > 0))
        {
            using var document = System.Text.Json.JsonDocument.Parse(line);
            System.Text.Json.JsonElement root = document.RootElement;
            yield return (
                root.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                root.GetProperty("new_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        }
    }

    /// <summary>The reference procedure's lines: the file split on '\n' with the final empty element dropped.</summary>
    public static string[] ValidationLines()
    {
        string text = File.ReadAllText(Reference("validation.txt"));
        string[] lines = text.Split('\n');
        return lines.Length > 0 && lines[^1].Length == 0 ? lines[..^1] : lines;
    }
}
