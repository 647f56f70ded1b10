// Loads a decoder exported in the Optimum "text-generation-with-past" layout (the project's default model,
// models/tiny-llama) and decodes greedily for a few steps with the low-level binding: each step's present.* outputs become the
// next step's past_key_values.* inputs without leaving ONNX Runtime's memory, and only the logits are read.
// Usage: dotnet run --project samples/RunOnnxModel [-- MODEL.onnx]
// (Token ids are given directly: the tokenizer arrives with the Tokenizers package.)
using MLNetTransformers.OnnxRuntime;

string modelPath = args.Length > 0 ? args[0] : Path.Combine(FindRepositoryRoot(), "models", "tiny-llama", "onnx", "model.onnx");
long[] prompt = [1, 425, 4063, 4056, 4046, 4044, 4046, 4041, 4039, 4024, 266, 4027]; // "<s>POLITICS, n."
const int newTokens = 12;

using var session = new InferenceSession(modelPath, new SessionOptions { IntraOpThreads = 1 });
Console.WriteLine($"ONNX Runtime {OnnxRuntimeLibrary.Version}, providers: {string.Join(", ", session.EffectiveProviders)}");
foreach (NodeMetadata input in session.InputMetadata.Take(4))
{
    Console.WriteLine($"  input  {input}");
}

string[] pastNames = session.InputNames.Where(n => n.StartsWith("past_key_values.", StringComparison.Ordinal)).ToArray();
NodeMetadata firstPast = session.InputMetadata.First(m => m.Name == pastNames[0]);
long kvHeads = firstPast.Dimensions[1], headDim = firstPast.Dimensions[3];

// Step 0 feeds an empty past; later steps feed the previous step's present values.
var past = pastNames.ToDictionary(n => n, _ => OrtValue.CreateTensor(Array.Empty<float>(), [1, kvHeads, 0, headDim]));
var generated = new List<long>();
long[] stepIds = prompt;
int pastLength = 0;
try
{
    for (int step = 0; step < newTokens; step++)
    {
        int length = stepIds.Length;
        using var inputIds = OrtValue.CreateTensor(stepIds, [1, length]);
        using var mask = OrtValue.CreateTensor(Enumerable.Repeat(1L, pastLength + length).ToArray(), [1, pastLength + length]);
        using var positions = OrtValue.CreateTensor(Enumerable.Range(pastLength, length).Select(p => (long)p).ToArray(), [1, length]);
        var feeds = new Dictionary<string, OrtValue>(past) { ["input_ids"] = inputIds, ["attention_mask"] = mask, ["position_ids"] = positions };

        using SessionOutputs outputs = session.Run(feeds);
        ReadOnlySpan<float> logits = outputs["logits"].GetTensorReadOnlySpan<float>();
        ReadOnlySpan<float> last = logits[^(logits.Length / length)..];
        long next = ArgMax(last);
        generated.Add(next);

        foreach (string name in pastNames)
        {
            past[name].Dispose();
            past[name] = outputs.Take(name.Replace("past_key_values.", "present.", StringComparison.Ordinal));
        }

        pastLength += length;
        stepIds = [next];
    }
}
finally
{
    foreach (OrtValue value in past.Values)
    {
        value.Dispose();
    }
}

Console.WriteLine($"prompt ids:    {string.Join(' ', prompt)}");
Console.WriteLine($"greedy new ids: {string.Join(' ', generated)}");
return 0;

static long ArgMax(ReadOnlySpan<float> values)
{
    int best = 0;
    for (int i = 1; i < values.Length; i++)
    {
        if (values[i] > values[best])
        {
            best = i;
        }
    }

    return best;
}

static string FindRepositoryRoot()
{
    for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
    {
        if (File.Exists(Path.Combine(directory.FullName, "MLNetTransformers.sln")))
        {
            return directory.FullName;
        }
    }

    return Directory.GetCurrentDirectory();
}
