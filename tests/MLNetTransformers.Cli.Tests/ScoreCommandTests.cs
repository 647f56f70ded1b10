using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MLNetTransformers.Data;
using MLNetTransformers.Data.Scoring;
using MLNetTransformers.Data.Transforms;

namespace MLNetTransformers.Cli.Tests;

/// <summary><c>mlnt score</c>: row alignment, values equal to the library pipeline, shards, resume (torn output and SIGKILL), bad input.</summary>
[TestClass]
public sealed partial class ScoreCommandTests
{
    private static readonly string TinyLlama = Path.Combine(AppContext.BaseDirectory, "models", "tiny-llama");
    private static readonly string[] Texts =
    [
        "the harbour was quiet", "gulls", "boats rocked gently against the old stone quay", "a \"quoted\" word, and a comma",
        "line one\nline two", "", "rain", "the lighthouse keeper waved", "ships", "évening tide, ça va",
    ];

    private static string s_root = null!;

    [ClassInitialize]
    public static void Setup(TestContext context)
    {
        _ = context;
        s_root = Directory.CreateTempSubdirectory("mlnt-score-").FullName;
        BuildModels();
    }

    [ClassCleanup]
    public static void Cleanup()
    {
        if (Directory.Exists(s_root))
        {
            Directory.Delete(s_root, recursive: true);
        }
    }

    static partial void BuildModels();

    private static string NewDirectory() => Directory.CreateDirectory(Path.Combine(s_root, Guid.NewGuid().ToString("N"))).FullName;

    private static string Quote(string text) => "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>A CSV with columns id,text (ids "id-0", ...).</summary>
    private static string WriteCsv(string directory, string[] texts, string name = "in.csv")
    {
        string path = Path.Combine(directory, name);
        var builder = new StringBuilder("id,text\n");
        for (int i = 0; i < texts.Length; i++)
        {
            builder.Append("id-").Append(i).Append(',').Append(Quote(texts[i])).Append('\n');
        }

        File.WriteAllText(path, builder.ToString());
        return path;
    }

    /// <summary>A JSON Lines file with properties key (a number, 100 + row) and text.</summary>
    private static string WriteJsonl(string directory, string[] texts, string name = "in.jsonl")
    {
        string path = Path.Combine(directory, name);
        File.WriteAllLines(path, texts.Select((t, i) => JsonSerializer.Serialize(new { key = 100 + i, text = t })));
        return path;
    }

    private static JsonElement[] ReadJsonl(string path) =>
        File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement).ToArray();

    private static long[] Longs(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt64()).ToArray();

    [TestMethod]
    public async Task TokenizeTaskWritesOneRowPerInputWithTheRowNumberAndTheLibrarysValues()
    {
        string dir = NewDirectory();
        string input = WriteCsv(dir, Texts);
        string output = Path.Combine(dir, "out.jsonl");
        var (code, stdout, stderr) = await InspectCommandTests.Mlnt("score", "--model", TinyLlama, "--task", "tokenize", "--input", input, "--output", output, "--batch", "3");
        Assert.AreEqual(0, code, stderr);
        Assert.AreEqual(string.Empty, stdout, "scoring writes nothing to stdout");
        StringAssert.Contains(stderr, "scored 10 rows (0 with errors)");

        var ctx = new TransformersContext();
        IDataView expected = ctx.Transforms.Tokenize(TinyLlama).Fit(ctx.Data.Load(input)).Transform(ctx.Data.Load(input));
        long[][] ids = expected.GetColumn<long[]>("input_ids").ToArray();
        JsonElement[] rows = ReadJsonl(output);
        Assert.AreEqual(Texts.Length, rows.Length);
        for (int i = 0; i < rows.Length; i++)
        {
            CollectionAssert.AreEqual(new[] { "row", "input_ids", "attention_mask", "error" }, rows[i].EnumerateObject().Select(p => p.Name).ToArray());
            Assert.AreEqual(i, rows[i].GetProperty("row").GetInt64());
            CollectionAssert.AreEqual(ids[i], Longs(rows[i].GetProperty("input_ids")), $"row {i}");
            Assert.AreEqual(JsonValueKind.Null, rows[i].GetProperty("error").ValueKind);
        }
    }

    [TestMethod]
    public async Task IdColumnIsCopiedAndCsvOutputLoadsBack()
    {
        string dir = NewDirectory();
        string input = WriteJsonl(dir, Texts);
        string output = Path.Combine(dir, "out.csv");
        var (code, _, stderr) = await InspectCommandTests.Mlnt("score", "--model", TinyLlama, "--task", "tokenize", "--input", input, "--output", output, "--id-column", "key");
        Assert.AreEqual(0, code, stderr);
        var ctx = new TransformersContext();
        IDataView loaded = ctx.Data.Load(output);
        CollectionAssert.AreEqual(new[] { "key", "input_ids", "attention_mask", "error" }, loaded.Schema.Select(c => c.Name).ToArray());
        CollectionAssert.AreEqual(Enumerable.Range(100, Texts.Length).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(), loaded.GetColumn<string?>("key").ToArray());
    }

    private static async Task<string[]> ScoreLines(string input, string output, params string[] extra)
    {
        var (code, _, stderr) = await InspectCommandTests.Mlnt(["score", "--model", TinyLlama, "--task", "tokenize", "--input", input, "--output", output, .. extra]);
        Assert.AreEqual(0, code, stderr);
        return File.ReadAllLines(output);
    }

    [TestMethod]
    [DataRow("jsonl")]
    [DataRow("csv")]
    public async Task ThreeShardsConcatenateToTheUnshardedOutput(string format)
    {
        string dir = NewDirectory();
        string input = WriteCsv(dir, Texts);
        string[] whole = await ScoreLines(input, Path.Combine(dir, "all." + format), "--batch", "2");
        var parts = new List<string>();
        var sizes = new List<int>();
        for (int i = 0; i < 3; i++)
        {
            string[] lines = await ScoreLines(input, Path.Combine(dir, $"part-{i}.{format}"), "--shard", $"{i}/3", "--batch", "2");
            string[] rows = format == "csv" ? lines[1..] : lines;
            if (format == "csv")
            {
                Assert.AreEqual(whole[0], lines[0], "every part has the header");
            }

            sizes.Add(rows.Length);
            parts.AddRange(rows);
        }

        CollectionAssert.AreEqual(new[] { 3, 3, 4 }, sizes, "rows [i*10/3, (i+1)*10/3)");
        CollectionAssert.AreEqual(format == "csv" ? whole[1..] : whole, parts);
    }

    [TestMethod]
    [DataRow("jsonl")]
    [DataRow("csv")]
    [DataRow("idv")]
    public async Task ResumeAfterATornLastLineGivesExactlyTheFullResult(string format)
    {
        string dir = NewDirectory();
        string input = WriteCsv(dir, Texts);
        string reference = Path.Combine(dir, "reference." + format);
        await ScoreLines(input, reference);

        // What was appended before the crash: the output itself, or for .idv its JSON Lines journal.
        string output = Path.Combine(dir, "out." + format);
        string appended = format == "idv" ? output + ".partial.jsonl" : output;
        await ScoreLines(input, appended);

        // Keep 4 complete rows (plus the CSV header) and half of the next one.
        byte[] bytes = File.ReadAllBytes(appended);
        int keep = format == "csv" ? 5 : 4;
        int end = RecordEnd(bytes, keep, quoted: format == "csv");
        int next = RecordEnd(bytes, keep + 1, quoted: format == "csv");
        File.WriteAllBytes(appended, bytes[..(end + ((next - end) / 2))]);

        var (code, _, stderr) = await InspectCommandTests.Mlnt("score", "--model", TinyLlama, "--task", "tokenize", "--input", input, "--output", output, "--resume");
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stderr, "scored 6 rows");
        StringAssert.Contains(stderr, "4 kept from before");
        if (format == "idv")
        {
            Assert.IsFalse(File.Exists(appended), "the journal is removed once the .idv is written");
            var ctx = new TransformersContext();
            string expectedJson = Path.Combine(dir, "expected.jsonl"), actualJson = Path.Combine(dir, "actual.jsonl");
            ctx.Data.SaveAsJsonLines(ctx.Data.Load(reference), expectedJson);
            ctx.Data.SaveAsJsonLines(ctx.Data.Load(output), actualJson);
            Assert.AreEqual(Texts.Length, File.ReadAllLines(actualJson).Length);
            CollectionAssert.AreEqual(File.ReadAllLines(expectedJson), File.ReadAllLines(actualJson));
        }
        else
        {
            CollectionAssert.AreEqual(File.ReadAllBytes(reference), File.ReadAllBytes(output));
        }
    }

    [TestMethod]
    public async Task AShardResumesIndependently()
    {
        string dir = NewDirectory();
        string input = WriteCsv(dir, Texts);
        string reference = Path.Combine(dir, "reference.jsonl");
        string[] expected = await ScoreLines(input, reference, "--shard", "2/3", "--id-column", "id");
        Assert.AreEqual(4, expected.Length);

        string output = Path.Combine(dir, "part-2.jsonl");
        File.WriteAllText(output, expected[0] + "\n" + expected[1][..(expected[1].Length / 2)]);
        string[] resumed = await ScoreLines(input, output, "--shard", "2/3", "--id-column", "id", "--resume");
        CollectionAssert.AreEqual(expected, resumed);

        // Resuming a complete output does nothing.
        CollectionAssert.AreEqual(expected, await ScoreLines(input, output, "--shard", "2/3", "--id-column", "id", "--resume"));

        // An output with more rows than the shard is not this shard's.
        string other = Path.Combine(dir, "other.jsonl");
        File.WriteAllLines(other, Enumerable.Repeat(expected[0], 5));
        var (code, _, stderr) = await InspectCommandTests.Mlnt("score", "--model", TinyLlama, "--task", "tokenize", "--input", input, "--output", other, "--shard", "2/3", "--id-column", "id", "--resume");
        Assert.AreEqual(2, code, stderr);
        StringAssert.Contains(stderr, "has 5 rows but shard 2/3");

        // An output with other columns is not this job's.
        File.WriteAllText(other, "{\"id\":\"id-6\",\"embedding\":[1],\"error\":null}\n");
        (code, _, stderr) = await InspectCommandTests.Mlnt("score", "--model", TinyLlama, "--task", "tokenize", "--input", input, "--output", other, "--shard", "2/3", "--id-column", "id", "--resume");
        Assert.AreEqual(2, code, stderr);
        StringAssert.Contains(stderr, "not this job's columns");
    }

    /// <summary>The byte offset after the <paramref name="records"/>-th record.</summary>
    private static int RecordEnd(byte[] bytes, int records, bool quoted)
    {
        bool inQuotes = false;
        for (int i = 0; i < bytes.Length; i++)
        {
            if (quoted && bytes[i] == '"')
            {
                inQuotes = !inQuotes;
            }
            else if (bytes[i] == '\n' && !inQuotes && --records == 0)
            {
                return i + 1;
            }
        }

        throw new InvalidOperationException("not enough records");
    }

    [TestMethod]
    public async Task ARaggedCsvLineIsReportedWithItsLineAndBecomesAnErrorRow()
    {
        string dir = NewDirectory();
        string input = Path.Combine(dir, "ragged.csv");
        File.WriteAllText(input, "id,text\na,hello\nb,world,extra\nc,again\n");
        string output = Path.Combine(dir, "out.jsonl");
        var (code, _, stderr) = await InspectCommandTests.Mlnt("score", "--model", TinyLlama, "--task", "tokenize", "--input", input, "--output", output, "--id-column", "id");
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stderr, "line 3");
        JsonElement[] rows = ReadJsonl(output);
        Assert.AreEqual(3, rows.Length, "every input row has an output row");
        Assert.AreEqual("a", rows[0].GetProperty("id").GetString());
        Assert.AreEqual(JsonValueKind.Null, rows[1].GetProperty("id").ValueKind, "the id of an unreadable row is unknown");
        StringAssert.Contains(rows[1].GetProperty("error").GetString(), "line 3");
        Assert.AreEqual(0, rows[1].GetProperty("input_ids").GetArrayLength());
        Assert.AreEqual("c", rows[2].GetProperty("id").GetString());
        Assert.AreEqual(JsonValueKind.Null, rows[2].GetProperty("error").ValueKind);
    }

    [TestMethod]
    [DataRow("csv")]
    [DataRow("jsonl")]
    public async Task InvalidUtf8InARowIsReportedWithItsLineAndBecomesAnErrorRow(string format)
    {
        string dir = NewDirectory();
        string input = Path.Combine(dir, "bad." + format);
        byte[] bad = [0xFF, 0xFE, (byte)'x'];
        using (var stream = File.Create(input))
        {
            void Write(string text) => stream.Write(Encoding.UTF8.GetBytes(text));
            if (format == "csv")
            {
                Write("id,text\na,hello\nb,");
                stream.Write(bad);
                Write(" bad\nc,again\n");
            }
            else
            {
                Write("{\"id\":\"a\",\"text\":\"hello\"}\n{\"id\":\"b\",\"text\":\"");
                stream.Write(bad);
                Write("\"}\n{\"id\":\"c\",\"text\":\"again\"}\n");
            }
        }

        string output = Path.Combine(dir, "out.jsonl");
        var (code, _, stderr) = await InspectCommandTests.Mlnt("score", "--model", TinyLlama, "--task", "tokenize", "--input", input, "--output", output, "--id-column", "id");
        Assert.AreEqual(0, code, stderr);
        int line = format == "csv" ? 3 : 2;
        StringAssert.Contains(stderr, $"line {line}: ");
        StringAssert.Contains(stderr, "not valid UTF-8");
        JsonElement[] rows = ReadJsonl(output);
        Assert.AreEqual(3, rows.Length);
        StringAssert.Contains(rows[1].GetProperty("error").GetString(), $"line {line}");
        Assert.AreEqual("c", rows[2].GetProperty("id").GetString());
        Assert.AreEqual(JsonValueKind.Null, rows[2].GetProperty("error").ValueKind);
    }

    [TestMethod]
    public async Task AnUnknownOutputExtensionIsExitTwo()
    {
        string dir = NewDirectory();
        string input = WriteCsv(dir, Texts);
        var (code, _, stderr) = await InspectCommandTests.Mlnt("score", "--model", TinyLlama, "--task", "tokenize", "--input", input, "--output", Path.Combine(dir, "out.parquet"));
        Assert.AreEqual(2, code, stderr);
        StringAssert.Contains(stderr, "--output: cannot tell the format");
        Assert.IsFalse(File.Exists(Path.Combine(dir, "out.parquet")));
    }

    [TestMethod]
    public async Task AnEmptyInputGivesAnEmptyOutput()
    {
        string dir = NewDirectory();
        string input = Path.Combine(dir, "empty.jsonl");
        File.WriteAllText(input, string.Empty);
        string output = Path.Combine(dir, "out.jsonl");
        var (code, _, stderr) = await InspectCommandTests.Mlnt("score", "--model", TinyLlama, "--task", "tokenize", "--input", input, "--output", output, "--shard", "1/2");
        Assert.AreEqual(0, code, stderr);
        Assert.AreEqual(0, new FileInfo(output).Length);
    }

    [TestMethod]
    public async Task UnknownColumnsAndUnreadableInputsAreExitTwo()
    {
        string dir = NewDirectory();
        string input = WriteCsv(dir, Texts);
        string output = Path.Combine(dir, "out.jsonl");
        var (code, _, stderr) = await InspectCommandTests.Mlnt("score", "--model", TinyLlama, "--task", "tokenize", "--input", input, "--output", output, "--text-column", "body");
        Assert.AreEqual(2, code);
        StringAssert.Contains(stderr, "--text-column: no column 'body'");
        StringAssert.Contains(stderr, "id: Text, text: Text");

        (code, _, stderr) = await InspectCommandTests.Mlnt("score", "--model", TinyLlama, "--task", "tokenize", "--input", input, "--output", output, "--id-column", "nope");
        Assert.AreEqual(2, code);
        StringAssert.Contains(stderr, "--id-column: no column 'nope'");
        StringAssert.Contains(stderr, "id: Text, text: Text");

        string missing = Path.Combine(dir, "missing.csv");
        (code, _, stderr) = await InspectCommandTests.Mlnt("score", "--model", TinyLlama, "--task", "tokenize", "--input", missing, "--output", output);
        Assert.AreEqual(2, code);
        StringAssert.Contains(stderr, missing);

        (code, _, stderr) = await InspectCommandTests.Mlnt("score", "--model", TinyLlama, "--task", "tokenize", "--input", dir, "--output", output);
        Assert.AreEqual(2, code);
        StringAssert.Contains(stderr, "--input");
    }

    [TestMethod]
    [DataRow("3/3")]
    [DataRow("-1/3")]
    [DataRow("1/0")]
    [DataRow("x")]
    [DataRow("1/2/3")]
    public async Task BadShardValuesAreExitTwo(string shard)
    {
        string dir = NewDirectory();
        string input = WriteCsv(dir, Texts);
        var (code, _, stderr) = await InspectCommandTests.Mlnt("score", "--model", TinyLlama, "--task", "tokenize", "--input", input, "--output", Path.Combine(dir, "o.jsonl"), "--shard", shard);
        Assert.AreEqual(2, code, stderr);
        StringAssert.Contains(stderr, "--shard");
    }

    [TestMethod]
    public async Task ShardCountWithoutAutoIsExitTwo()
    {
        string dir = NewDirectory();
        string input = WriteCsv(dir, Texts);
        var (code, _, stderr) = await InspectCommandTests.Mlnt("score", "--model", TinyLlama, "--task", "tokenize", "--input", input, "--output", Path.Combine(dir, "o.jsonl"), "--shard", "0/2", "--shard-count", "2");
        Assert.AreEqual(2, code, stderr);
        StringAssert.Contains(stderr, "--shard-count");
    }

    [TestMethod]
    public void ShardAutoReadsKubernetesAndSlurmVariables()
    {
        static Func<string, string?> Env(params (string Name, string Value)[] vars) => name => vars.FirstOrDefault(v => v.Name == name).Value;

        Assert.AreEqual(new Shard(2, 4), Shard.FromEnvironment(4, Env(("JOB_COMPLETION_INDEX", "2"))));
        Assert.AreEqual(new Shard(2, 5), Shard.FromEnvironment(null, Env(("JOB_COMPLETION_INDEX", "2"), ("MLNT_SHARD_COUNT", "5"))));
        Assert.AreEqual(new Shard(1, 3), Shard.FromEnvironment(null, Env(("SLURM_ARRAY_TASK_ID", "2"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_COUNT", "3"))));
        Assert.AreEqual(new Shard(0, 2), Shard.FromEnvironment(null, Env(("SLURM_ARRAY_TASK_ID", "0"), ("SLURM_ARRAY_TASK_COUNT", "2"))));
        StringAssert.Contains(Assert.ThrowsExactly<FormatException>(() => Shard.FromEnvironment(null, Env())).Message, "JOB_COMPLETION_INDEX");
        StringAssert.Contains(Assert.ThrowsExactly<FormatException>(() => Shard.FromEnvironment(null, Env(("JOB_COMPLETION_INDEX", "1")))).Message, "--shard-count");
        StringAssert.Contains(Assert.ThrowsExactly<FormatException>(() => Shard.FromEnvironment(2, Env(("JOB_COMPLETION_INDEX", "2")))).Message, "not in [0, 2)");
        StringAssert.Contains(Assert.ThrowsExactly<FormatException>(() => Shard.FromEnvironment(null, Env(("SLURM_ARRAY_TASK_ID", "x"), ("SLURM_ARRAY_TASK_COUNT", "2")))).Message, "SLURM_ARRAY_TASK_ID='x'");
        Assert.AreEqual((3L, 6L), new Shard(1, 3).GetRange(10));
        Assert.AreEqual((6L, 10L), new Shard(2, 3).GetRange(10));
        Assert.AreEqual((0L, 0L), new Shard(0, 3).GetRange(2));
    }

    [TestMethod]
    public async Task ShardAutoWithoutASchedulerIsExitTwo()
    {
        if (Environment.GetEnvironmentVariable("JOB_COMPLETION_INDEX") is not null || Environment.GetEnvironmentVariable("SLURM_ARRAY_TASK_ID") is not null)
        {
            Assert.Inconclusive("the test runs inside a scheduler's job");
        }

        string dir = NewDirectory();
        string input = WriteCsv(dir, Texts);
        var (code, _, stderr) = await InspectCommandTests.Mlnt("score", "--model", TinyLlama, "--task", "tokenize", "--input", input, "--output", Path.Combine(dir, "o.jsonl"), "--shard", "auto");
        Assert.AreEqual(2, code, stderr);
        StringAssert.Contains(stderr, "--shard: 'auto' needs");
    }

    /// <summary>Runs the real mlnt, kills it (SIGKILL) once some rows are written, resumes, and checks every row is there once, in order.</summary>
    private static void KillAndResume(string task, string model, int rows, params string[] extra)
    {
        string dir = NewDirectory();
        string input = WriteCsv(dir, Enumerable.Range(0, rows).Select(i => $"row number {i} of the harbour").ToArray());
        string output = Path.Combine(dir, "out.jsonl");
        string[] args = ["score", "--model", model, "--task", task, "--input", input, "--output", output, "--id-column", "id", "--threads", "1", .. extra];

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "mlnt.dll"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using (var process = Process.Start(start)!)
        {
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var watch = Stopwatch.StartNew();
            while (CompleteLines(output) < 3 && !process.HasExited && watch.Elapsed < TimeSpan.FromMinutes(2))
            {
                Thread.Sleep(20);
            }

            Assert.IsFalse(process.HasExited, "mlnt finished before it could be killed; the input is too small for this machine");
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        int before = CompleteLines(output);
        Assert.IsTrue(before is >= 3 and < 1_000_000, $"{before} rows before the kill");

        var resume = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        resume.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "mlnt.dll"));
        foreach (string arg in args)
        {
            resume.ArgumentList.Add(arg);
        }

        resume.ArgumentList.Add("--resume");
        using (var process = Process.Start(resume)!)
        {
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            Assert.IsTrue(process.WaitForExit(300_000), "the resumed run ended");
            Assert.AreEqual(0, process.ExitCode, stderr.Result);
        }

        string[] ids = ReadJsonl(output).Select(e => e.GetProperty("id").GetString()!).ToArray();
        CollectionAssert.AreEqual(Enumerable.Range(0, rows).Select(i => $"id-{i}").ToArray(), ids, "every input row exactly once, in order");
        Assert.IsTrue(ReadJsonl(output).All(e => e.GetProperty("error").ValueKind == JsonValueKind.Null));
    }

    private static int CompleteLines(string path)
    {
        if (!File.Exists(path))
        {
            return 0;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        int count = 0;
        int b;
        var buffered = new BufferedStream(stream);
        while ((b = buffered.ReadByte()) >= 0)
        {
            if (b == '\n')
            {
                count++;
            }
        }

        return count;
    }

    [TestMethod]
    public void TokenizeSurvivesSigkillAndResumes() => KillAndResume("tokenize", TinyLlama, 20_000, "--batch", "50");
}
