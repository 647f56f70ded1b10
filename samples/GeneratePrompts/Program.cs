// A text generation pipeline over a prompts file (one prompt per line), written as JSON Lines with the generated text and the
// finish reason. Uses the repository's models/tiny-llama by default, so it runs offline.
// Usage: dotnet run --project samples/GeneratePrompts [-- MODEL_DIR [PROMPTS.txt [OUTPUT.jsonl]]]
using MLNetTransformers.Data;
using MLNetTransformers.Data.Transforms;
using MLNetTransformers.Generation.Decoding;

string model = args.Length > 0 ? args[0] : Path.Combine(FindRepositoryRoot(), "models", "tiny-llama");
string prompts = args.Length > 1 ? args[1] : Path.Combine(AppContext.BaseDirectory, "prompts.txt");
string output = args.Length > 2 ? args[2] : Path.Combine(Path.GetTempPath(), "mlnt-generated.jsonl");

var ctx = new TransformersContext();
IDataView data = ctx.Data.LoadFromEnumerable(File.ReadLines(prompts).Where(l => l.Length > 0).Select(l => new Prompt { Text = l }).ToArray());
var options = new GenerateTextOptions { Generation = new GenerationOptions { MaxNewTokens = 24 }, BatchSize = 4 };
using TextGenerationTransformer generator = ctx.Transforms.GenerateText(model, options).Fit(data);
ctx.Data.SaveAsJsonLines(generator.Transform(data), output);
foreach (string line in File.ReadLines(output))
{
    Console.WriteLine(line);
}

Console.WriteLine($"wrote {output}");

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

/// <summary>One prompt row.</summary>
internal sealed class Prompt
{
    /// <summary>The prompt text.</summary>
    [ColumnName("text")]
    public string? Text { get; set; }
}
