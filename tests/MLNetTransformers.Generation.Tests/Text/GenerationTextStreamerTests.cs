using System.Text;
using MLNetTransformers.Generation.Text;
using MLNetTransformers.Tokenizers;

namespace MLNetTransformers.Generation.Tests.Text;

[TestClass]
public sealed class GenerationTextStreamerTests
{
    private const string Sentence = "The quick brown fox jumps over the lazy dog. Then it sleeps";

    private static Tokenizer s_tokenizer = null!;

    [ClassInitialize]
    public static void Load(TestContext context)
    {
        _ = context;
        s_tokenizer = Tokenizer.FromDirectory(Path.Combine(RepositoryRoot(), "models", "tiny-llama"));
    }

    /// <summary>The directory holding MLNetTransformers.sln, found by walking up from the test binaries.</summary>
    private static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MLNetTransformers.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"MLNetTransformers.sln not found above {AppContext.BaseDirectory}.");
    }

    private static string Decoded(int[] ids) => s_tokenizer.Decode(ids, skipSpecialTokens: true, cleanUpTokenizationSpaces: false);

    private sealed record StreamResult(string Text, string? Stop, int StopAtToken, List<string> Chunks);

    private static StreamResult Stream(int[] ids, params string[] stops)
    {
        GenerationTextStreamer streamer = GenerationTextStreamer.Create(s_tokenizer, stops);
        var chunks = new List<string>();
        for (int i = 0; i < ids.Length; i++)
        {
            TextChunk chunk = streamer.Append(ids[i]);
            chunks.Add(chunk.Text);
            if (chunk.IsStop)
            {
                Assert.IsTrue(streamer.IsStopped);
                Assert.AreEqual(chunk.StopString, streamer.StopString);
                Assert.IsFalse(streamer.Complete().IsStop);
                Assert.AreEqual(string.Concat(chunks), streamer.Text);
                return new StreamResult(string.Concat(chunks), chunk.StopString, i, chunks);
            }
        }

        TextChunk last = streamer.Complete();
        chunks.Add(last.Text);
        Assert.AreEqual(string.Concat(chunks), streamer.Text);
        return new StreamResult(string.Concat(chunks), last.StopString, last.IsStop ? ids.Length : -1, chunks);
    }

    /// <summary>The index of the first token after which the decoded text is at least <paramref name="length"/> long.</summary>
    private static int TokenCompleting(int[] ids, int length)
    {
        for (int i = 0; i < ids.Length; i++)
        {
            if (Decoded(ids[..(i + 1)]).Length >= length)
            {
                return i;
            }
        }

        return -1;
    }

    [TestMethod]
    public void WithoutStopsTheChunksConcatenateToTheDecodedText()
    {
        int[] ids = s_tokenizer.Encode(Sentence).Ids.ToArray();
        Assert.AreEqual(1, ids[0]);
        string full = Decoded(ids);
        Assert.AreEqual(Sentence, full);
        StreamResult result = Stream(ids);
        Assert.AreEqual(full, result.Text);
        Assert.IsNull(result.Stop);
    }

    [TestMethod]
    public void StopStringInTheMiddleEmitsTheDecodedPrefixBeforeIt()
    {
        int[] ids = s_tokenizer.Encode(Sentence).Ids.ToArray();
        string full = Decoded(ids);
        // "own fox j" starts inside "brown" and ends inside "jumps": it spans token boundaries on both sides.
        foreach (string stop in new[] { "lazy", "own fox j", " dog.", "T" })
        {
            int start = full.IndexOf(stop, StringComparison.Ordinal);
            StreamResult result = Stream(ids, stop);
            Assert.AreEqual(full[..start], result.Text, stop);
            Assert.AreEqual(stop, result.Stop);
            // Reported on the token that completes the stop string, not later.
            Assert.AreEqual(TokenCompleting(ids, start + stop.Length), result.StopAtToken, stop);
        }
    }

    [TestMethod]
    public void EveryThreeCharacterStopInTheSentence()
    {
        int[] ids = s_tokenizer.Encode(Sentence).Ids.ToArray();
        string full = Decoded(ids);
        for (int start = 0; start + 3 <= full.Length; start++)
        {
            string stop = full.Substring(start, 3);
            int first = full.IndexOf(stop, StringComparison.Ordinal);
            StreamResult result = Stream(ids, stop, "zzz");
            Assert.AreEqual(full[..first], result.Text, stop);
            Assert.AreEqual(stop, result.Stop);
            // Nothing beyond the stop was ever emitted: every chunk lies within the prefix.
            Assert.IsTrue(full.StartsWith(string.Concat(result.Chunks), StringComparison.Ordinal));
        }
    }

    [TestMethod]
    public void PartialStopAtTheEndIsReleasedByComplete()
    {
        int[] ids = s_tokenizer.Encode(Sentence).Ids.ToArray();
        GenerationTextStreamer streamer = GenerationTextStreamer.Create(s_tokenizer, ["sleeps well"]);
        var emitted = new StringBuilder();
        foreach (int id in ids)
        {
            TextChunk chunk = streamer.Append(id);
            Assert.IsFalse(chunk.IsStop);
            emitted.Append(chunk.Text);
        }

        Assert.AreEqual("The quick brown fox jumps over the lazy dog. Then it ", emitted.ToString());
        TextChunk last = streamer.Complete();
        Assert.AreEqual("sleeps", last.Text);
        Assert.IsFalse(last.IsStop);
        Assert.AreEqual(Sentence, streamer.Text);
        Assert.AreEqual(ids.Length, streamer.TokenCount);
        Assert.ThrowsExactly<InvalidOperationException>(() => streamer.Append(ids[0]));
    }

    [TestMethod]
    public void MultiByteCharactersAreNeverSplitAndCanBeStops()
    {
        const string Text = "I like 🍕 and 寿司 a lot";
        int[] ids = s_tokenizer.Encode(Text).Ids.ToArray();
        string full = Decoded(ids);
        StreamResult all = Stream(ids);
        Assert.AreEqual(full, all.Text);
        foreach (string chunk in all.Chunks)
        {
            Assert.IsFalse(chunk.Length > 0 && char.IsHighSurrogate(chunk[^1]), "half a surrogate pair");
        }

        foreach (string stop in new[] { "🍕", "寿", " and 寿司" })
        {
            int start = full.IndexOf(stop, StringComparison.Ordinal);
            Assert.IsGreaterThanOrEqualTo(0, start, stop);
            StreamResult result = Stream(ids, stop);
            Assert.AreEqual(full[..start], result.Text, stop);
            Assert.AreEqual(stop, result.Stop);
        }
    }

    [TestMethod]
    public void SpecialTokensAreSkippedAndPromptGivesTheLeadingSpace()
    {
        int[] prompt = s_tokenizer.Encode("The quick brown").Ids.ToArray();
        int[] all = s_tokenizer.Encode("The quick brown fox jumps").Ids.ToArray();
        CollectionAssert.AreEqual(prompt, all.Take(prompt.Length).ToArray());
        int eos = 2;
        GenerationTextStreamer streamer = GenerationTextStreamer.Create(s_tokenizer, ["zz"], promptIds: prompt);
        var text = new StringBuilder();
        foreach (int id in all.Skip(prompt.Length).Append(eos))
        {
            text.Append(streamer.Append(id).Text);
        }

        text.Append(streamer.Complete().Text);
        Assert.AreEqual(" fox jumps", text.ToString());
    }

    [TestMethod]
    public void ConstructorArgumentsAreChecked()
    {
        Assert.ThrowsExactly<ArgumentNullException>(() => new GenerationTextStreamer(null!));
        Assert.ThrowsExactly<ArgumentNullException>(() => GenerationTextStreamer.Create(null!));
        Assert.ThrowsExactly<ArgumentException>(() => GenerationTextStreamer.Create(s_tokenizer, [""]));
        Assert.IsEmpty(GenerationTextStreamer.Create(s_tokenizer).StopStrings);
    }
}
