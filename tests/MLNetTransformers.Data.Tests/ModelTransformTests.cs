using MLNetTransformers.Data.Transforms;
using MLNetTransformers.Generation;
using MLNetTransformers.Generation.Decoding;
using MLNetTransformers.Generation.Encoding;
using MLNetTransformers.Onnx.Builders;
using MLNetTransformers.Onnx.Model;
using MLNetTransformers.OnnxRuntime;
using MLNetTransformers.Tokenizers;

namespace MLNetTransformers.Data.Tests;

/// <summary>The model transforms over a tiny BERT folder (BertBuilder) and models/tiny-llama.</summary>
[TestClass]
public sealed class ModelTransformTests
{
    private const int MaxPositions = 96;
    private static readonly string[] LabelNames = ["negative", "neutral", "positive"];
    private static string s_root = null!;
    private static string s_bert = null!;

    [ClassInitialize]
    public static void BuildModels(TestContext context)
    {
        _ = context;
        OnnxRuntimeEnvironment.Initialize(new OnnxRuntimeEnvironmentOptions { LogLevel = Microsoft.Extensions.Logging.LogLevel.Error });
        s_root = Path.Combine(Path.GetTempPath(), "mlnt-data-models-" + Guid.NewGuid().ToString("N"));
        s_bert = Path.Combine(s_root, "bert");
        new BertBuilder(new BertBuilderOptions { Layers = 2, Hidden = 32, Heads = 4, Vocab = 600, MaxPositions = MaxPositions, PoolerOutput = true, NumLabels = 3, LabelNames = LabelNames, Seed = 7 })
            .WriteFolder(s_bert);
    }

    [ClassCleanup]
    public static void Cleanup()
    {
        if (Directory.Exists(s_root))
        {
            Directory.Delete(s_root, recursive: true);
        }
    }

    private static SessionOptions Session() => new() { IntraOpThreads = 1, InterOpThreads = 1 };

    /// <summary>Rows of very different lengths (2 to ~25 words), shuffled with a fixed seed.</summary>
    private static string[] SkewedTexts(int count = 20)
    {
        string[] words = ["the", "harbour", "was", "quiet", "boats", "rocked", "gently", "against", "old", "stone", "quay", "while", "gulls", "circled"];
        var random = new Random(42);
        var texts = new List<string>();
        for (int i = 0; i < count; i++)
        {
            int n = (i % 3) switch { 0 => 1 + random.Next(3), 1 => 5 + random.Next(6), _ => 12 + random.Next(14) };
            texts.Add(string.Join(' ', Enumerable.Range(0, n).Select(_ => words[random.Next(words.Length)])));
        }

        return texts.OrderBy(_ => random.Next()).ToArray();
    }

    private static IDataView Load(TransformersContext ctx, IEnumerable<string?> texts) =>
        ctx.Data.LoadFromEnumerable(texts.Select(t => new TextRow { Text = t }).ToArray());

    /// <summary>A column's values in row order, with the row numbers, read in batches of 5 (the transform re-cuts its own).</summary>
    private static (long[] Rows, T[] Values) Column<T>(IDataView view, string name)
    {
        var rows = new List<long>();
        var values = new List<T>();
        foreach (DataBatch batch in view.GetBatches(5))
        {
            rows.AddRange(batch.RowNumbers);
            values.AddRange(batch.GetColumn<T>(name));
        }

        return (rows.ToArray(), values.ToArray());
    }

    private static void AssertClose(float[] expected, float[] actual, float tolerance, string what)
    {
        Assert.HasCount(expected.Length, actual, what);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], actual[i], tolerance, $"{what}: element {i}");
        }
    }

    [TestMethod]
    public void Embed_EqualsEmbedder_RowByRow()
    {
        var ctx = new TransformersContext();
        string[] texts = SkewedTexts();
        var options = new EmbedOptions { Pooling = PoolingStrategy.Mean, Normalize = true, BatchSize = 4, SessionOptions = Session() };
        using EmbeddingTransformer transformer = ctx.Transforms.Embed(s_bert, options).Fit(Load(ctx, texts));
        (long[] rows, float[][] vectors) = Column<float[]>(transformer.Transform(Load(ctx, texts)), "embedding");
        using Embedder embedder = Embedder.Open(s_bert, new EmbedderOptions { Pooling = PoolingStrategy.Mean, Normalize = true }, Session());
        CollectionAssert.AreEqual(Enumerable.Range(0, texts.Length).Select(i => (long)i).ToArray(), rows);
        for (int i = 0; i < texts.Length; i++)
        {
            AssertClose(embedder.Embed(texts[i]), vectors[i], 1e-5f, $"row {i}");
        }
    }

    [TestMethod]
    public void PaddingAwareBatching_EqualsPerRowScoring_InOriginalOrder()
    {
        var ctx = new TransformersContext();
        string[] texts = SkewedTexts(30);
        IDataView data = Load(ctx, texts);
        using EmbeddingTransformer perRow = ctx.Transforms.Embed(s_bert, new EmbedOptions { BatchPolicy = BatchPolicy.PerRow, SessionOptions = Session() }).Fit(data);
        using EmbeddingTransformer padded = ctx.Transforms.Embed(s_bert, new EmbedOptions { BatchPolicy = BatchPolicy.PaddingAware(tokenBudget: 96, maxRows: 8), SessionOptions = Session() }).Fit(data);
        (long[] rowsA, float[][] a) = Column<float[]>(perRow.Transform(data), "embedding");
        (long[] rowsB, float[][] b) = Column<float[]>(padded.Transform(data), "embedding");
        CollectionAssert.AreEqual(rowsA, rowsB);
        CollectionAssert.AreEqual(Enumerable.Range(0, texts.Length).Select(i => (long)i).ToArray(), rowsB);
        for (int i = 0; i < texts.Length; i++)
        {
            AssertClose(a[i], b[i], 1e-5f, $"row {i}");
        }

        Assert.IsLessThan(texts.Length, padded.Embedder.Batcher.Batches, "padding-aware batching ran several rows per run");

        // The same for ApplyOnnxModel over token columns (padding within the batch, the mask made, rows cut to their length).
        var pipeline = ctx.Transforms.Tokenize(s_bert);
        using OnnxScoringTransformer scorerPerRow = pipeline.Fit(data).Transform(data) is var tokenized
            ? ctx.Transforms.ApplyOnnxModel(s_bert, new OnnxScoringOptions { BatchPolicy = BatchPolicy.PerRow, SessionOptions = Session() }).Fit(tokenized)
            : null!;
        using OnnxScoringTransformer scorerPadded = ctx.Transforms.ApplyOnnxModel(s_bert, new OnnxScoringOptions { BatchPolicy = BatchPolicy.PaddingAware(tokenBudget: 96, maxRows: 8), SessionOptions = Session() }).Fit(tokenized);
        (_, float[][] c) = Column<float[]>(scorerPerRow.Transform(tokenized), "last_hidden_state");
        (long[] rowsD, float[][] d) = Column<float[]>(scorerPadded.Transform(tokenized), "last_hidden_state");
        CollectionAssert.AreEqual(rowsA, rowsD);
        for (int i = 0; i < texts.Length; i++)
        {
            AssertClose(c[i], d[i], 1e-5f, $"onnx row {i}");
        }
    }

    [TestMethod]
    public void Classify_EqualsClassifier_RowByRow()
    {
        var ctx = new TransformersContext();
        string[] texts = SkewedTexts(12);
        using ClassificationTransformer transformer = ctx.Transforms.Classify(s_bert, new ClassifyOptions { BatchSize = 5, SessionOptions = Session() }).Fit(Load(ctx, texts));
        IDataView output = transformer.Transform(Load(ctx, texts));
        string?[] labels = Column<string?>(output, "label").Values;
        float[] scores = Column<float>(output, "score").Values;
        float[][] all = Column<float[]>(output, "scores").Values;
        using Classifier classifier = Classifier.Open(s_bert, sessionOptions: Session());
        CollectionAssert.AreEqual(LabelNames, transformer.Labels.ToArray());
        for (int i = 0; i < texts.Length; i++)
        {
            ClassificationResult expected = classifier.Classify(texts[i]);
            Assert.AreEqual(expected.Label, labels[i], $"row {i}");
            Assert.AreEqual(expected.Score, scores[i], 1e-5f, $"row {i}");
            AssertClose(expected.Scores.Select(s => s.Value).ToArray(), all[i], 1e-5f, $"row {i}");
        }
    }

    [TestMethod]
    public void GenerateText_EqualsGenerator_Greedy()
    {
        var ctx = new TransformersContext();
        string[] prompts = ["Once upon a time", "The cat", "In a small village by the sea there lived an old fisherman who", "Hello"];
        var generation = new GenerationOptions { MaxNewTokens = 8 };
        IDataView data = Load(ctx, prompts);
        using TextGenerationTransformer transformer = ctx.Transforms.GenerateText(TestData.TinyLlama, new GenerateTextOptions { Generation = generation, BatchSize = 4, SessionOptions = Session() }).Fit(data);
        IDataView output = transformer.Transform(data);
        string?[] texts = Column<string?>(output, "generated").Values;
        string?[] reasons = Column<string?>(output, "finish_reason").Values;
        using var generator = new Generator(ModelFolder.Open(TestData.TinyLlama), Session());
        for (int i = 0; i < prompts.Length; i++)
        {
            GenerationResult expected = generator.Generate(prompts[i], generation);
            Assert.AreEqual(expected.Text, texts[i], $"row {i}");
            Assert.AreEqual(TextGenerationTransformer.FinishReasonText(expected.FinishReason), reasons[i], $"row {i}");
        }

        // Saved and reloaded (generation options included), the pipeline gives the same rows.
        using var dir = new TempDir();
        ctx.Model.Save(transformer, dir.File("pipeline.json"));
        TransformerChain<ITransformer> loaded = ctx.Model.Load(dir.File("pipeline.json"));
        try
        {
            var reloaded = (TextGenerationTransformer)loaded.Single();
            Assert.AreEqual(8, reloaded.Options.Generation?.MaxNewTokens);
            Assert.AreEqual(BatchPolicy.FixedSize(4), reloaded.BatchPolicy);
            CollectionAssert.AreEqual(texts, Column<string?>(loaded.Transform(data), "generated").Values);
        }
        finally
        {
            foreach (IDisposable d in loaded.OfType<IDisposable>())
            {
                d.Dispose();
            }
        }
    }

    [TestMethod]
    public void GenerateText_AutoPolicy_IsOneOfTheCandidates()
    {
        var ctx = new TransformersContext();
        IDataView data = Load(ctx, ["Once upon a time", "The cat", "Hello there"]);
        using TextGenerationTransformer transformer = ctx.Transforms.GenerateText(TestData.TinyLlama, new GenerateTextOptions { Generation = new GenerationOptions { MaxNewTokens = 3 }, SessionOptions = Session() }).Fit(data);
        CollectionAssert.Contains(TextGenerationEstimator.AutoCandidates.ToArray(), transformer.BatchPolicy);
        Assert.IsTrue(Column<string?>(transformer.Transform(data), "generated").Values.All(t => t is not null));
    }

    [TestMethod]
    public void GenerateText_PromptTooLong_IsRowError()
    {
        var ctx = new TransformersContext();
        string[] prompts = ["Once upon a time", "The cat sat on the mat and looked out of the window at the rain", "Hello"];
        using TextGenerationTransformer transformer = ctx.Transforms.GenerateText(TestData.TinyLlama, new GenerateTextOptions { Generation = new GenerationOptions { MaxNewTokens = 4 }, MaxLength = 8, BatchSize = 3, SessionOptions = Session() }).Fit(Load(ctx, prompts));
        IDataView output = transformer.Transform(Load(ctx, prompts));
        string?[] errors = Column<string?>(output, "error").Values;
        string?[] texts = Column<string?>(output, "generated").Values;
        Assert.IsNull(errors[0]);
        Assert.IsNotNull(errors[1]);
        Assert.Contains("MaxLength", errors[1]!);
        Assert.IsNull(texts[1]);
        Assert.IsNull(errors[2]);
        Assert.IsNotNull(texts[0]);
        Assert.IsNotNull(texts[2]);
    }

    [TestMethod]
    public void ApplyOnnxModel_EqualsDirectSessionRun_PerRow()
    {
        var ctx = new TransformersContext();
        string[] texts = SkewedTexts(10);
        IDataView tokenized = ctx.Transforms.Tokenize(s_bert).Fit(Load(ctx, texts)).Transform(Load(ctx, texts));
        using OnnxScoringTransformer scorer = ctx.Transforms.ApplyOnnxModel(s_bert, new OnnxScoringOptions
        {
            OutputColumns = new Dictionary<string, string> { ["last_hidden_state"] = "hidden", ["logits"] = "logits" },
            BatchSize = 4,
            SessionOptions = Session(),
        }).Fit(tokenized);
        IDataView output = scorer.Transform(tokenized);
        Assert.IsNotNull(output.Schema.GetColumnOrNull("hidden"));
        float[][] hidden = Column<float[]>(output, "hidden").Values;
        float[][] logits = Column<float[]>(output, "logits").Values;
        Tokenizer tokenizer = Tokenizer.FromDirectory(s_bert);
        using var session = new InferenceSession(ModelFolder.Open(s_bert).ModelFile, Session());
        for (int i = 0; i < texts.Length; i++)
        {
            TokenEncoding encoding = tokenizer.Encode(texts[i]);
            long[] shape = [1, encoding.Count];
            using OrtValue ids = OrtValue.CreateTensor(encoding.Ids.Select(v => (long)v).ToArray(), shape);
            using OrtValue mask = OrtValue.CreateTensor(Enumerable.Repeat(1L, encoding.Count).ToArray(), shape);
            using OrtValue types = OrtValue.CreateTensor(new long[encoding.Count], shape);
            using SessionOutputs outputs = session.Run(new Dictionary<string, OrtValue> { ["input_ids"] = ids, ["attention_mask"] = mask, ["token_type_ids"] = types }, ["last_hidden_state", "logits"]);
            AssertClose(outputs[0].ToArray<float>(), hidden[i], 1e-5f, $"hidden row {i}");
            AssertClose(outputs[1].ToArray<float>(), logits[i], 1e-5f, $"logits row {i}");
        }

        // The onnx kind reloads (model path, output map, policy) to the same outputs.
        using var dir = new TempDir();
        ctx.Model.Save(scorer, dir.File("onnx.json"));
        using var reloaded = (OnnxScoringTransformer)ctx.Model.Load(dir.File("onnx.json")).Single();
        Assert.AreEqual(BatchPolicy.FixedSize(4), reloaded.BatchPolicy);
        float[][] again = Column<float[]>(reloaded.Transform(tokenized), "hidden").Values;
        for (int i = 0; i < texts.Length; i++)
        {
            AssertClose(hidden[i], again[i], 1e-6f, $"reloaded row {i}");
        }

        // A graph input with no column (and no way to make it) names the column and lists the schema.
        IDataView textOnly = Load(ctx, texts);
        var missing = Assert.ThrowsExactly<KeyNotFoundException>(() => scorer.GetOutputSchema(textOnly.Schema));
        StringAssert.Contains(missing.Message, "input_ids");
        StringAssert.Contains(missing.Message, "text");
    }

    [TestMethod]
    public void WithoutErrorColumn_ARowErrorThrows_EmptyInputGivesEmptyOutput()
    {
        var ctx = new TransformersContext();
        using ClassificationTransformer classify = ctx.Transforms.Classify(s_bert, new ClassifyOptions { ErrorColumnName = null, BatchSize = 2, SessionOptions = Session() }).Fit(Load(ctx, ["fine"]));
        Assert.IsNull(classify.GetOutputSchema(Load(ctx, ["x"]).Schema).GetColumnOrNull("error"));
        var e = Assert.ThrowsExactly<RowMappingException>(() => Column<string?>(classify.Transform(Load(ctx, ["fine", null])), "label"));
        Assert.AreEqual(1, e.RowNumber);

        IDataView empty = Load(ctx, []);
        using TextGenerationTransformer generate = ctx.Transforms.GenerateText(TestData.TinyLlama, new GenerateTextOptions { SessionOptions = Session() }).Fit(empty);
        Assert.IsEmpty(Column<string?>(generate.Transform(empty), "generated").Values);
        using ClassificationTransformer onEmpty = ctx.Transforms.Classify(s_bert, new ClassifyOptions { SessionOptions = Session() }).Fit(empty);
        Assert.IsEmpty(Column<string?>(onEmpty.Transform(empty), "label").Values);
    }

    [TestMethod]
    public void Fit_RecordsAutoPolicy_HonoursFixedSize_AndSavedPipelineReloads()
    {
        var ctx = new TransformersContext();
        string[] texts = SkewedTexts(16);
        IDataView data = Load(ctx, texts);
        using EmbeddingTransformer auto = ctx.Transforms.Embed(s_bert, new EmbedOptions { SessionOptions = Session() }).Fit(data);
        CollectionAssert.Contains(BatchPolicy.DefaultCandidates.ToArray(), auto.BatchPolicy);
        using EmbeddingTransformer fixedSize = ctx.Transforms.Embed(s_bert, new EmbedOptions { BatchSize = 3, SessionOptions = Session() }).Fit(data);
        Assert.AreEqual(BatchPolicy.FixedSize(3), fixedSize.BatchPolicy);
        using ClassificationTransformer classify = ctx.Transforms.Classify(s_bert, new ClassifyOptions { BatchSize = 6 }).Fit(data);

        float[][] expected = Column<float[]>(fixedSize.Transform(data), "embedding").Values;
        float[][] expectedScores = Column<float[]>(classify.Transform(data), "scores").Values;
        // Under a 3-row fixed size the transform pulls 3 rows at a time and runs them as one batch.
        Assert.AreEqual(BatchPolicy.FixedSize(3), fixedSize.Embedder.Batcher.Policy);

        using var dir = new TempDir();
        string path = dir.File("pipeline.json");
        ctx.Model.Save(new TransformerChain<ITransformer>(fixedSize, classify), path);
        StringAssert.Contains(File.ReadAllText(path), "\"FixedSize\"");
        TransformerChain<ITransformer> loaded = ctx.Model.Load(path);
        try
        {
            var embed = (EmbeddingTransformer)loaded.First();
            Assert.AreEqual(BatchPolicy.FixedSize(3), embed.BatchPolicy);
            Assert.AreEqual(BatchPolicy.FixedSize(6), ((ClassificationTransformer)loaded.Last()).BatchPolicy);
            IDataView output = loaded.Transform(data);
            float[][] actual = Column<float[]>(output, "embedding").Values;
            float[][] actualScores = Column<float[]>(output, "scores").Values;
            for (int i = 0; i < texts.Length; i++)
            {
                AssertClose(expected[i], actual[i], 1e-6f, $"embedding row {i}");
                AssertClose(expectedScores[i], actualScores[i], 1e-6f, $"scores row {i}");
            }
        }
        finally
        {
            foreach (IDisposable d in loaded.OfType<IDisposable>())
            {
                d.Dispose();
            }
        }
    }

    [TestMethod]
    public void BadInput_UnknownColumn_WrongType_TooLongRow_EmptyInput()
    {
        var ctx = new TransformersContext();
        IDataView data = Load(ctx, ["a quiet harbour"]);

        var unknown = Assert.ThrowsExactly<KeyNotFoundException>(() => ctx.Transforms.Embed(s_bert, new EmbedOptions { InputColumnName = "body" }).GetOutputSchema(data.Schema));
        StringAssert.Contains(unknown.Message, "'body'");
        StringAssert.Contains(unknown.Message, "text");
        Assert.ThrowsExactly<KeyNotFoundException>(() => ctx.Transforms.Classify(s_bert, new ClassifyOptions { InputColumnName = "body", BatchSize = 2 }).Fit(data));

        IDataView numbers = ctx.Data.LoadFromEnumerable(new[] { new NumberRow { Text = 3 } });
        var wrongType = Assert.ThrowsExactly<ArgumentException>(() => ctx.Transforms.GenerateText(TestData.TinyLlama).GetOutputSchema(numbers.Schema));
        StringAssert.Contains(wrongType.Message, "Text");

        // Too long for MaxLength (no truncation): that row errs, the others equal the direct results.
        string[] texts = ["the boats", string.Join(' ', Enumerable.Repeat("harbour gulls", 30)), "old stone quay"];
        using EmbeddingTransformer embed = ctx.Transforms.Embed(s_bert, new EmbedOptions { MaxLength = 16, BatchSize = 3, SessionOptions = Session() }).Fit(Load(ctx, texts));
        IDataView output = embed.Transform(Load(ctx, [.. texts, null]));
        string?[] errors = Column<string?>(output, "error").Values;
        float[][] vectors = Column<float[]>(output, "embedding").Values;
        Assert.IsNull(errors[0]);
        Assert.IsNotNull(errors[1]);
        StringAssert.Contains(errors[1], "16");
        Assert.IsEmpty(vectors[1]);
        Assert.IsNull(errors[2]);
        Assert.IsNotNull(errors[3], "a null text is a row error");
        using Embedder embedder = Embedder.Open(s_bert, sessionOptions: Session());
        AssertClose(embedder.Embed(texts[0]), vectors[0], 1e-5f, "row 0");
        AssertClose(embedder.Embed(texts[2]), vectors[2], 1e-5f, "row 2");

        // With truncation the long row is embedded.
        using EmbeddingTransformer truncating = ctx.Transforms.Embed(s_bert, new EmbedOptions { MaxLength = 16, Truncate = true, BatchSize = 3, SessionOptions = Session() }).Fit(Load(ctx, texts));
        Assert.IsNull(Column<string?>(truncating.Transform(Load(ctx, texts)), "error").Values[1]);

        // Empty input → empty output (and Fit on empty input still records a policy).
        IDataView empty = Load(ctx, []);
        using EmbeddingTransformer onEmpty = ctx.Transforms.Embed(s_bert, new EmbedOptions { SessionOptions = Session() }).Fit(empty);
        Assert.IsNotNull(onEmpty.BatchPolicy);
        Assert.IsEmpty(Column<float[]>(onEmpty.Transform(empty), "embedding").Values);
    }

    [TestMethod]
    public void QuantizeStatic_WritesQdqFolder_CloseToFloat()
    {
        var ctx = new TransformersContext();
        string[] texts = SkewedTexts(24);
        using var dir = new TempDir();
        string output = Path.Combine(dir.Path, "bert-int8");
        var pipeline = ctx.Transforms.Tokenize(s_bert).Append(ctx.Transforms.QuantizeStatic(s_bert, output, new QuantizeOptions
        {
            CalibrationRows = 16,
            BatchSize = 8,
            SessionOptions = Session(),
            OutputColumns = new Dictionary<string, string> { ["last_hidden_state"] = "hidden" },
        }));
        TransformerChain<OnnxScoringTransformer> fitted = pipeline.Fit(Load(ctx, texts));
        using OnnxScoringTransformer quantized = fitted.LastTransformer!;
        Assert.IsTrue(File.Exists(Path.Combine(output, "onnx", "model.onnx")));
        Assert.IsTrue(File.Exists(Path.Combine(output, "tokenizer.json")));
        Assert.IsTrue(File.Exists(Path.Combine(output, "config.json")));
        using (OnnxModel model = OnnxModel.Load(Path.Combine(output, "onnx", "model.onnx")))
        {
            Assert.IsTrue(model.Graph.Node.Any(n => n.OpType == "QuantizeLinear"), "QuantizeLinear nodes");
            Assert.IsTrue(model.Graph.Node.Any(n => n.OpType == "DequantizeLinear"), "DequantizeLinear nodes");
        }

        IDataView tokenized = ctx.Transforms.Tokenize(s_bert).Fit(Load(ctx, texts)).Transform(Load(ctx, texts));
        using OnnxScoringTransformer original = ctx.Transforms.ApplyOnnxModel(s_bert, new OnnxScoringOptions
        {
            BatchSize = 8,
            SessionOptions = Session(),
            OutputColumns = new Dictionary<string, string> { ["last_hidden_state"] = "hidden" },
        }).Fit(tokenized);
        float[][] q = Column<float[]>(fitted.Transform(Load(ctx, texts)), "hidden").Values;
        float[][] f = Column<float[]>(original.Transform(tokenized), "hidden").Values;
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.HasCount(f[i].Length, q[i]);
            double dot = 0, nq = 0, nf = 0;
            for (int k = 0; k < f[i].Length; k++)
            {
                dot += (double)q[i][k] * f[i][k];
                nq += (double)q[i][k] * q[i][k];
                nf += (double)f[i][k] * f[i][k];
            }

            double cosine = dot / Math.Sqrt(nq * nf);
            Assert.IsGreaterThan(0.99, cosine, $"row {i}: cosine {cosine}");
        }
    }

    public sealed class NumberRow
    {
        [ColumnName("text")]
        public int Text { get; set; }
    }
}
