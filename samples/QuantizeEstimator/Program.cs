// Static int8 quantization as an estimator: Fit calibrates on sample text, writes the quantized model folder and returns a
// scorer over it; the sample then scores the same text with the float and the quantized model and prints how close they are.
// Without a model folder it builds a tiny BERT folder (random weights) with BertBuilder in a temp folder, so it runs offline.
// Usage: dotnet run --project samples/QuantizeEstimator [-- MODEL_DIR [CALIBRATION.txt [OUTPUT_DIR]]]
using MLNetTransformers.Data;
using MLNetTransformers.Data.Transforms;
using MLNetTransformers.Onnx.Builders;

string temp = Path.Combine(Path.GetTempPath(), "mlnt-sample-quantize-" + Guid.NewGuid().ToString("N"));
string model = args.Length > 0 ? args[0] : BuildTinyBert(temp);
string calibration = args.Length > 1 ? args[1] : Path.Combine(AppContext.BaseDirectory, "calibration.txt");
string output = args.Length > 2 ? args[2] : Path.Combine(temp, "quantized");
try
{
    var ctx = new TransformersContext();
    IDataView text = ctx.Data.LoadFromEnumerable(File.ReadLines(calibration).Where(l => l.Length > 0).Select(l => new Line { Text = l }).ToArray());
    var outputs = new Dictionary<string, string> { ["last_hidden_state"] = "hidden" };

    // Tokenize → QuantizeStatic: Fit calibrates on the token ids and yields a scorer over the quantized model.
    var pipeline = ctx.Transforms.Tokenize(model).Append(ctx.Transforms.QuantizeStatic(model, output, new QuantizeOptions { OutputColumns = outputs, BatchSize = 8 }));
    TransformerChain<OnnxScoringTransformer> quantized = pipeline.Fit(text);
    using OnnxScoringTransformer scorer = quantized.LastTransformer!;
    Console.WriteLine($"quantized model: {scorer.ModelFile} ({new FileInfo(scorer.ModelFile).Length:N0} bytes)");

    IDataView tokens = ctx.Transforms.Tokenize(model).Fit(text).Transform(text);
    using OnnxScoringTransformer original = ctx.Transforms.ApplyOnnxModel(model, new OnnxScoringOptions { OutputColumns = outputs, BatchSize = 8 }).Fit(tokens);
    float[][] q = Hidden(quantized.Transform(text));
    float[][] f = Hidden(original.Transform(tokens));
    for (int i = 0; i < q.Length; i++)
    {
        Console.WriteLine($"row {i}: cosine(float, int8) = {Cosine(f[i], q[i]):F5}");
    }
}
finally
{
    if (Directory.Exists(temp))
    {
        Directory.Delete(temp, recursive: true);
    }
}

static float[][] Hidden(IDataView view) => view.GetBatches(64).SelectMany(b => b.GetColumn<float[]>("hidden")).ToArray();

static double Cosine(float[] a, float[] b)
{
    double dot = 0, na = 0, nb = 0;
    for (int i = 0; i < a.Length; i++)
    {
        dot += (double)a[i] * b[i];
        na += (double)a[i] * a[i];
        nb += (double)b[i] * b[i];
    }

    return dot / Math.Sqrt(na * nb);
}

static string BuildTinyBert(string temp)
{
    string folder = Path.Combine(temp, "bert");
    new BertBuilder(new BertBuilderOptions { Layers = 2, Hidden = 32, Heads = 4, Vocab = 600, MaxPositions = 128, Seed = 7 }).WriteFolder(folder);
    Console.WriteLine($"no model folder given: built a tiny BERT (random weights) in {folder}");
    return folder;
}

/// <summary>One calibration line.</summary>
internal sealed class Line
{
    /// <summary>The text.</summary>
    [ColumnName("text")]
    public string? Text { get; set; }
}
