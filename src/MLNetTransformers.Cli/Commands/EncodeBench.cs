using System.Diagnostics;
using MLNetTransformers.Generation;
using MLNetTransformers.Generation.Encoding;
using MLNetTransformers.Onnx.Builders;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Cli.Commands;

/// <summary>What <c>mlnt bench --scenario encode</c> runs.</summary>
internal sealed record EncodeBenchRequest(string Model, int Rows, int FixedBatch, long TokenBudget, int Seed, int Chunk);

/// <summary>
/// <c>mlnt bench --scenario encode</c>: embeds a skewed set (two short sentences and one long paragraph, repeated and shuffled
/// with a fixed seed) per row, in fixed-size batches in input order, and in padding-aware batches, each after a warm-up on the
/// first 64 rows, in chunks of rows with the policies interleaved (so that other processes' load falls on all alike); reports rows/s of each and the speedup of padding-aware over the better of the other two. When <c>--model</c>
/// is a folder without an ONNX file, a BERT-shaped model (<see cref="Shape"/>) is built into it first.
/// </summary>
internal static class EncodeBench
{
    /// <summary>BERT-base's layout scaled down to run in reasonable time on two CPU cores.</summary>
    public static BertBuilderOptions Shape { get; } = new() { Layers = 4, Hidden = 256, Heads = 4, Intermediate = 1024, Vocab = 8000, MaxPositions = 512, Seed = 1 };

    private static readonly string[] ShortTexts =
    [
        "The cat sat on the mat.",
        "Where is the nearest train station?",
    ];

    public static void Run(CliConsole console, EncodeBenchRequest request, SessionOptions sessionOptions, bool json)
    {
        string model = Path.GetFullPath(request.Model);
        if (!File.Exists(model) && (!Directory.Exists(model) || ModelFolderHasNoOnnx(model)))
        {
            console.Err.WriteLine($"mlnt: building a BERT-shaped encoder into {model}: layers {Shape.Layers}, hidden {Shape.Hidden}, heads {Shape.Heads}, intermediate {Shape.Intermediate}, vocab {Shape.Vocab}, max positions {Shape.MaxPositions}");
            new BertBuilder(Shape).WriteFolder(model);
        }

        using TextEncoder encoder = EncoderCommandSupport.OpenEncoder(model, sessionOptions, truncate: true);
        using var embedder = new Embedder(encoder);
        string longText = LongParagraph(encoder);
        string[] distinct = [.. ShortTexts, longText];
        int[] distinctLengths = encoder.Tokenize(distinct).Select(e => e.Count).ToArray();
        var random = new Random(request.Seed);
        string[] rows = Enumerable.Range(0, request.Rows).Select(i => distinct[i % distinct.Length]).OrderBy(_ => random.Next()).ToArray();
        long realTokens = encoder.Tokenize(rows).Sum(e => (long)e.Count);

        var policies = new (string Name, BatchPolicy Policy)[]
        {
            ("per_row", BatchPolicy.PerRow),
            ($"fixed_{request.FixedBatch}", BatchPolicy.FixedSize(request.FixedBatch)),
            ("padding_aware", BatchPolicy.PaddingAware(request.TokenBudget, 0, BatchPolicy.DefaultMaxRows)),
        };
        string[] warmup = rows.Take(64).ToArray();
        var batchers = new PaddingAwareBatcher[policies.Length];
        var seconds = new double[policies.Length];
        for (int p = 0; p < policies.Length; p++)
        {
            embedder.Embed(warmup, new PaddingAwareBatcher(policies[p].Policy));
            batchers[p] = new PaddingAwareBatcher(policies[p].Policy);
        }

        // The rows are scored in chunks, every policy on each chunk in rotating order, so that load from other processes falls
        // on all policies alike; a chunk of 0 scores all rows in one call per policy.
        int chunk = request.Chunk <= 0 ? rows.Length : request.Chunk;
        for (int start = 0, round = 0; start < rows.Length; start += chunk, round++)
        {
            string[] part = rows[start..Math.Min(rows.Length, start + chunk)];
            for (int k = 0; k < policies.Length; k++)
            {
                int p = (k + round) % policies.Length;
                long begin = Stopwatch.GetTimestamp();
                embedder.Embed(part, batchers[p]);
                seconds[p] += Stopwatch.GetElapsedTime(begin).TotalSeconds;
            }
        }

        var results = policies.Select((p, i) => (p.Name, p.Policy, Seconds: seconds[i], Batcher: batchers[i])).ToList();
        foreach (var (name, policy, elapsed, batcher) in results)
        {
            console.Err.WriteLine($"mlnt: encode {name} ({policy}): {rows.Length / elapsed:F1} rows/s, {elapsed:F2} s, {batcher.Batches} runs, {batcher.PaddedTokens} padded tokens for {batcher.RealTokens} real");
        }

        double aware = results[2].Seconds;
        double bestOther = Math.Min(results[0].Seconds, results[1].Seconds);
        double speedup = bestOther / aware;
        if (json)
        {
            console.WriteJsonLine(w =>
            {
                w.WriteString("scenario", "encode");
                w.WriteNumber("tokens_per_s", Math.Round(realTokens / aware, 1));
                w.WriteNull("ttft_ms");
                w.WriteNull("p50_ms");
                w.WriteNull("p95_ms");
                w.WriteNumber("peak_rss_mb", Math.Round(BenchCommand.PeakRssMegabytes(), 1));
                w.WriteNumber("rows", rows.Length);
                w.WriteStartArray("distinct_lengths");
                foreach (int length in distinctLengths)
                {
                    w.WriteNumberValue(length);
                }

                w.WriteEndArray();
                w.WriteString("model", model);
                w.WriteNumber("chunk", chunk);
                foreach (var (name, policy, elapsed, batcher) in results)
                {
                    w.WriteStartObject(name);
                    w.WriteString("policy", policy.ToString());
                    w.WriteNumber("rows_per_s", Math.Round(rows.Length / elapsed, 2));
                    w.WriteNumber("seconds", Math.Round(elapsed, 3));
                    w.WriteNumber("runs", batcher.Batches);
                    w.WriteNumber("padded_tokens", batcher.PaddedTokens);
                    w.WriteNumber("real_tokens", batcher.RealTokens);
                    w.WriteEndObject();
                }

                w.WriteNumber("speedup", Math.Round(speedup, 3));
            });
        }
        else
        {
            console.Err.WriteLine($"scenario encode: padding-aware {rows.Length / aware:F1} rows/s, {speedup:F2}x the better of per-row and fixed-size ({rows.Length} rows, lengths {string.Join("/", distinctLengths)})");
        }
    }

    private static bool ModelFolderHasNoOnnx(string directory)
    {
        try
        {
            ModelFolder.Open(directory);
            return false;
        }
        catch (FileNotFoundException)
        {
            return true;
        }
    }

    /// <summary>Built-in prose lines appended until the paragraph has at least 300 tokens (at most 400 and the model's limit).</summary>
    private static string LongParagraph(TextEncoder encoder)
    {
        string[] corpus = BenchCommand.BuiltInCorpus();
        int limit = Math.Min(encoder.MaxLength ?? 400, 400);
        string paragraph = string.Empty;
        foreach (string line in corpus)
        {
            string next = paragraph.Length == 0 ? line : paragraph + " " + line;
            int count = encoder.Tokenizer.Encode(next).Count; // untruncated, unlike the encoder's own tokenization here
            if (count > limit)
            {
                break;
            }

            paragraph = next;
            if (count >= 300)
            {
                break;
            }
        }

        // A model shorter than one corpus line: take the line, the encoder truncates it to the model's limit.
        return paragraph.Length == 0 ? corpus[0] : paragraph;
    }
}
