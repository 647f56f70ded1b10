using System.Text;
using System.Text.Json;

namespace MLNetTransformers.Tokenizers.Tests;

/// <summary>Round trips and streaming decoding, as properties over many inputs.</summary>
[TestClass]
public sealed class DecodingPropertyTests
{
    /// <summary>Random strings over every plane, with lone surrogates mixed in.</summary>
    private static IEnumerable<string> RandomStrings(int seed, int count)
    {
        var random = new Random(seed);
        for (int n = 0; n < count; n++)
        {
            var builder = new StringBuilder();
            int length = random.Next(0, 40);
            for (int i = 0; i < length; i++)
            {
                int kind = random.Next(10);
                if (kind < 4)
                {
                    builder.Append((char)random.Next(0x20, 0x7F));
                }
                else if (kind < 6)
                {
                    builder.Append((char)random.Next(0xA0, 0xD7FF));
                }
                else if (kind < 8)
                {
                    builder.Append(char.ConvertFromUtf32(random.Next(0x10000, 0x10FFFF)));
                }
                else if (kind == 8)
                {
                    builder.Append(" \t\n"[random.Next(3)]);
                }
                else
                {
                    builder.Append((char)random.Next(0xD800, 0xE000)); // a lone surrogate
                }
            }

            yield return builder.ToString();
        }
    }

    /// <summary>What UTF-8 can carry of a string: lone surrogates become U+FFFD (documented on byte-level BPE).</summary>
    private static string Utf8RoundTrip(string text) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text));

    [TestMethod]
    public void ByteLevelBpeDecodesEveryStringBackExactly()
    {
        Tokenizer gpt2 = TestTokenizers.Get(TestTokenizers.Gpt2);
        int checkedCount = 0;
        foreach (string text in RandomStrings(seed: 12345, count: 2000))
        {
            int[] ids = gpt2.Encode(text).Ids.ToArray();
            string decoded = gpt2.Decode(ids, cleanUpTokenizationSpaces: false);
            Assert.AreEqual(Utf8RoundTrip(text), decoded, $"input {JsonSerializer.Serialize(text)}");
            checkedCount++;
        }

        Assert.AreEqual(2000, checkedCount);
    }

    [TestMethod]
    public void LlamaByteFallbackDecodesEveryValidStringBack()
    {
        // SentencePiece turns the input into "▁"-joined pieces; with byte fallback every character survives the round trip.
        Tokenizer llama = TestTokenizers.Get(TestTokenizers.Llama);
        foreach (string text in RandomStrings(seed: 777, count: 500).Select(Utf8RoundTrip))
        {
            string decoded = llama.Decode(llama.Encode(text).Ids.ToArray(), skipSpecialTokens: true);
            Assert.AreEqual(text.Length == 0 ? string.Empty : text, decoded, $"input {JsonSerializer.Serialize(text)}");
        }
    }

    [TestMethod]
    [DataRow(TestTokenizers.Gpt2)]
    [DataRow(TestTokenizers.Bert)]
    [DataRow(TestTokenizers.T5)]
    [DataRow(TestTokenizers.Llama)]
    public void StreamingPiecesConcatenateToTheFullDecodeAndNeverSplitACharacter(string name)
    {
        Tokenizer tokenizer = TestTokenizers.Get(name);
        using var golden = JsonDocument.Parse(File.ReadAllText(TestTokenizers.TestData("goldens", $"{name}.transformersjs-4.3.1.json")));
        foreach (JsonElement c in golden.RootElement.GetProperty("cases").EnumerateArray())
        {
            int[] ids = tokenizer.Encode(c.GetProperty("text").GetString()!).Ids.ToArray();
            IncrementalDecoder decoder = tokenizer.CreateIncrementalDecoder(skipSpecialTokens: true);
            var streamed = new StringBuilder();
            foreach (int id in ids)
            {
                string piece = decoder.Add(id);
                Assert.IsFalse(piece.Contains('\uFFFD', StringComparison.Ordinal) && !tokenizer.Decode(ids, true, false).Contains('\uFFFD', StringComparison.Ordinal), $"{c.GetProperty("id")}: half a character was emitted");
                Assert.IsFalse(piece.Length > 0 && char.IsHighSurrogate(piece[^1]), "half a surrogate pair was emitted");
                streamed.Append(piece);
            }

            streamed.Append(decoder.Flush());
            Assert.AreEqual(tokenizer.Decode(ids, skipSpecialTokens: true, cleanUpTokenizationSpaces: false), streamed.ToString(), $"{name} {c.GetProperty("id")}");
        }
    }

    [TestMethod]
    public void StreamingHoldsBackAnIncompleteByteFallbackSequence()
    {
        Tokenizer llama = TestTokenizers.Get(TestTokenizers.Llama);
        int[] ids = llama.Encode("🤗", addSpecialTokens: false).Ids.ToArray();
        Assert.IsTrue(ids.Length >= 4, "the emoji is four byte-fallback tokens (after the word boundary)");
        IncrementalDecoder decoder = llama.CreateIncrementalDecoder();
        var pieces = ids.Select(decoder.Add).ToList();
        Assert.IsTrue(pieces.Take(pieces.Count - 1).All(p => !p.Contains("🤗", StringComparison.Ordinal) && !p.Contains('\uFFFD', StringComparison.Ordinal)));
        Assert.AreEqual("🤗", string.Concat(pieces).Trim());
    }

    [TestMethod]
    public void StreamingAfterAPromptKeepsTheSpaceBeforeTheFirstNewWord()
    {
        Tokenizer llama = TestTokenizers.Get(TestTokenizers.Llama);
        int[] prompt = llama.Encode("The cat").Ids.ToArray();
        int[] continuation = llama.Encode("The cat sat down", addSpecialTokens: true).Ids.Skip(prompt.Length).ToArray();
        IncrementalDecoder decoder = llama.CreateIncrementalDecoder(prefixIds: prompt);
        string streamed = string.Concat(continuation.Select(decoder.Add)) + decoder.Flush();
        Assert.AreEqual(" sat down", streamed);
    }
}
