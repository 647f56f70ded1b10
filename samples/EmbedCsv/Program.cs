// A Tokenize → Embed pipeline over a CSV file (columns id,text), written as JSON Lines: one object per row with its id, the
// token ids and the embedding. Without a model folder it builds a tiny BERT folder (random weights) with BertBuilder in a temp
// folder, so it runs offline.
// Usage: dotnet run --project samples/EmbedCsv [-- MODEL_DIR [INPUT.csv [OUTPUT.jsonl]]]
using MLNetTransformers.Data;
using MLNetTransformers.Data.Transforms;
using MLNetTransformers.Onnx.Builders;

string? temp = null;
string model = args.Length > 0 ? args[0] : BuildTinyBert(out temp);
string input = args.Length > 1 ? args[1] : Path.Combine(AppContext.BaseDirectory, "sentences.csv");
string output = args.Length > 2 ? args[2] : Path.Combine(Path.GetTempPath(), "mlnt-embeddings.jsonl");
try
{
    var ctx = new TransformersContext();
    IDataView data = ctx.Data.LoadFromTextFile(input);
    var pipeline = ctx.Transforms.Tokenize(new TokenizeOptions { ModelDirectory = model, OffsetsColumnName = null })
        .Append(ctx.Transforms.Embed(model, new EmbedOptions { Normalize = true, Truncate = true }));
    TransformerChain<EmbeddingTransformer> fitted = pipeline.Fit(data);
    using EmbeddingTransformer embedder = fitted.LastTransformer!;
    Console.WriteLine($"batch policy chosen by Fit: {embedder.BatchPolicy}");
    ctx.Data.SaveAsJsonLines(fitted.Transform(data), output);
    Console.WriteLine($"wrote {File.ReadLines(output).Count()} rows to {output}");
    string first = File.ReadLines(output).First();
    Console.WriteLine(first[..Math.Min(160, first.Length)] + " ...");
}
finally
{
    if (temp is not null)
    {
        Directory.Delete(temp, recursive: true);
    }
}

static string BuildTinyBert(out string? temp)
{
    temp = Path.Combine(Path.GetTempPath(), "mlnt-sample-bert-" + Guid.NewGuid().ToString("N"));
    string folder = Path.Combine(temp, "bert");
    new BertBuilder(new BertBuilderOptions { Layers = 2, Hidden = 32, Heads = 4, Vocab = 600, MaxPositions = 128, Seed = 7 }).WriteFolder(folder);
    Console.WriteLine($"no model folder given: built a tiny BERT (random weights) in {folder}");
    return folder;
}
