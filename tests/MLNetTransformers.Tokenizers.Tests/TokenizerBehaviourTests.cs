using System.Text;
using System.Text.Json;

namespace MLNetTransformers.Tokenizers.Tests;

/// <summary>Offsets, special tokens, truncation, padding, batch tensors and vocabulary lookups on the real tokenizers.</summary>
[TestClass]
public sealed class TokenizerBehaviourTests
{
    [TestMethod]
    public void Gpt2OffsetsPointIntoTheOriginalStringIncludingMultiByteCharacters()
    {
        Tokenizer gpt2 = TestTokenizers.Get(TestTokenizers.Gpt2);
        const string text = "Hello wörld 🤗!";
        TokenEncoding encoding = gpt2.Encode(text);
        // Hand-checked: "Hello" | " w" "ö" "rld" (ö is 2 UTF-8 bytes, one byte-level token pair or one token) | " 🤗" bytes | "!".
        Assert.AreEqual((0, 5), encoding.Offsets[0]);
        Assert.AreEqual("Hello", text[encoding.Offsets[0].Start..encoding.Offsets[0].End]);
        var last = encoding.Offsets[^1];
        Assert.AreEqual("!", text[last.Start..last.End]);
        // Every token's offsets are a non-empty range inside the text, in order, and together they cover every character.
        var covered = new bool[text.Length];
        int previousStart = 0;
        foreach (var (start, end) in encoding.Offsets)
        {
            Assert.IsTrue(start >= previousStart && start < end && end <= text.Length, $"({start}, {end})");
            previousStart = start;
            for (int i = start; i < end; i++)
            {
                covered[i] = true;
            }
        }

        Assert.IsTrue(covered.All(c => c));
        // The emoji (a surrogate pair, 4 UTF-8 bytes) is split into byte tokens that all point at the whole emoji (with its space).
        int emoji = text.IndexOf("🤗", StringComparison.Ordinal);
        Assert.IsTrue(encoding.Offsets.Count(o => o.End == emoji + 2) >= 2);
    }

    [TestMethod]
    public void BertOffsetsSkipSpecialTokensAndFollowLowercasedAccents()
    {
        Tokenizer bert = TestTokenizers.Get(TestTokenizers.Bert);
        const string text = "Héllo, WORLD";
        TokenEncoding encoding = bert.Encode(text);
        CollectionAssert.AreEqual(new[] { "[CLS]", "hello", ",", "world", "[SEP]" }, encoding.Tokens.ToArray());
        Assert.AreEqual((0, 0), encoding.Offsets[0]);
        Assert.AreEqual((0, 5), encoding.Offsets[1], "hello covers the accented original 'Héllo'");
        Assert.AreEqual((5, 6), encoding.Offsets[2]);
        Assert.AreEqual((7, 12), encoding.Offsets[3]);
        Assert.AreEqual((0, 0), encoding.Offsets[4]);
        CollectionAssert.AreEqual(new[] { 1, 0, 0, 0, 1 }, encoding.SpecialTokensMask.ToArray());
    }

    [TestMethod]
    public void LlamaOffsetsExcludeTheInsertedWordBoundary()
    {
        Tokenizer llama = TestTokenizers.Get(TestTokenizers.Llama);
        const string text = "Hello world";
        TokenEncoding encoding = llama.Encode(text);
        CollectionAssert.AreEqual(new[] { "<s>", "▁H", "ell", "o", "▁world" }, encoding.Tokens.ToArray());
        Assert.AreEqual((0, 1), encoding.Offsets[1], "the prepended ▁ aligns with the first character");
        Assert.AreEqual((5, 11), encoding.Offsets[4], "▁world covers the space and the word");
    }

    [TestMethod]
    public void T5OffsetsCoverTheirWords()
    {
        Tokenizer t5 = TestTokenizers.Get(TestTokenizers.T5);
        const string text = "translate English to German: Hello";
        TokenEncoding encoding = t5.Encode(text);
        Assert.AreEqual("</s>", encoding.Tokens[^1]);
        for (int i = 0; i < encoding.Count - 1; i++)
        {
            var (start, end) = encoding.Offsets[i];
            string covered = text[start..end];
            string token = encoding.Tokens[i].Replace("▁", string.Empty, StringComparison.Ordinal);
            Assert.IsTrue(covered.Trim().EndsWith(token, StringComparison.Ordinal) || covered.Contains(token, StringComparison.Ordinal), $"{encoding.Tokens[i]} -> '{covered}'");
        }
    }

    [TestMethod]
    public void SpecialTokensInTheTextAreMatchedBeforeTheModel()
    {
        Tokenizer gpt2 = TestTokenizers.Get(TestTokenizers.Gpt2);
        TokenEncoding encoding = gpt2.Encode("a<|endoftext|>b");
        CollectionAssert.AreEqual(new[] { 64, 50256, 65 }, encoding.Ids.ToArray());
        Assert.AreEqual((1, 14), encoding.Offsets[1]);
        Assert.AreEqual(1, encoding.SpecialTokensMask[1]);
        Assert.AreEqual("ab", gpt2.Decode(encoding.Ids.ToArray(), skipSpecialTokens: true));
    }

    [TestMethod]
    public void TruncationKeepsTheSpecialTokensAndRespectsTheSide()
    {
        Tokenizer bert = TestTokenizers.Get(TestTokenizers.Bert);
        var right = bert.Encode("one two three four five six", null, new EncodeOptions { Truncation = new TruncationOptions { MaxLength = 5 } });
        CollectionAssert.AreEqual(new[] { "[CLS]", "one", "two", "three", "[SEP]" }, right.Tokens.ToArray());
        var left = bert.Encode("one two three four five six", null, new EncodeOptions { Truncation = new TruncationOptions { MaxLength = 5, Side = Side.Left } });
        CollectionAssert.AreEqual(new[] { "[CLS]", "four", "five", "six", "[SEP]" }, left.Tokens.ToArray());
    }

    [TestMethod]
    public void PairTruncationStrategies()
    {
        Tokenizer bert = TestTokenizers.Get(TestTokenizers.Bert);
        EncodeOptions Options(TruncationStrategy strategy) => new() { Truncation = new TruncationOptions { MaxLength = 9, Strategy = strategy } };
        const string first = "a b c d e f";
        const string second = "x y z";
        // 9 - 3 specials = 6 tokens for the two sequences (6 + 3 = 9 before truncation).
        var longest = bert.Encode(first, second, Options(TruncationStrategy.LongestFirst));
        CollectionAssert.AreEqual(new[] { "[CLS]", "a", "b", "c", "[SEP]", "x", "y", "z", "[SEP]" }, longest.Tokens.ToArray());
        CollectionAssert.AreEqual(new[] { 0, 0, 0, 0, 0, 1, 1, 1, 1 }, longest.TypeIds.ToArray());
        var onlyFirst = bert.Encode(first, second, Options(TruncationStrategy.OnlyFirst));
        Assert.AreEqual(9, onlyFirst.Count);
        Assert.AreEqual("z", onlyFirst.Tokens[^2]);
        var onlySecond = bert.Encode("a b", "u v w x y z", Options(TruncationStrategy.OnlySecond));
        CollectionAssert.AreEqual(new[] { "[CLS]", "a", "b", "[SEP]", "u", "v", "w", "x", "[SEP]" }, onlySecond.Tokens.ToArray());
    }

    [TestMethod]
    public void BatchPaddingSidesMultiplesAndTensorWriting()
    {
        Tokenizer llama = TestTokenizers.Get(TestTokenizers.Llama);
        string[] texts = ["Hello world", "A"];
        var batch = llama.EncodeBatch(texts, new EncodeOptions { Padding = new PaddingOptions { PadId = 0, PadToMultipleOf = 8 } });
        Assert.AreEqual(8, batch.SequenceLength, "5 tokens rounded up to a multiple of 8");
        long[] ids = new long[2 * 8];
        long[] mask = new long[2 * 8];
        batch.WriteInputIds(ids);
        batch.WriteAttentionMask(mask);
        // tokenizer_config.json says padding_side left: padding comes first.
        CollectionAssert.AreEqual(new long[] { 0, 0, 0, 1, 1, 1, 1, 1 }, mask[..8]);
        Assert.AreEqual(1L, ids[3], "BOS follows the padding");
        Assert.AreEqual(0L, ids[0]);
        CollectionAssert.AreEqual(new long[] { 0, 0, 0, 0, 0, 0, 1, 1 }, mask[8..]);

        var right = llama.EncodeBatch(texts, new EncodeOptions { Padding = new PaddingOptions { PadId = 0, Side = Side.Right } });
        CollectionAssert.AreEqual(new long[] { 1, 1, 0, 0, 0 }, right.GetAttentionMask()[5..]);

        var fixedLength = llama.EncodeBatch(texts, new EncodeOptions { Padding = new PaddingOptions { Strategy = PaddingStrategy.MaxLength, MaxLength = 12, PadId = 0 } });
        Assert.AreEqual(12, fixedLength.SequenceLength);

        var tooSmall = Assert.ThrowsExactly<ArgumentException>(() => batch.WriteInputIds(new long[3]));
        StringAssert.Contains(tooSmall.Message, "2 x 8 = 16");
    }

    [TestMethod]
    public void PaddingWithoutAPadTokenAsksForOne()
    {
        Tokenizer gpt2 = TestTokenizers.Get(TestTokenizers.Gpt2);
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() => gpt2.EncodeBatch(["a", "a b c"]));
        StringAssert.Contains(ex.Message, "PadId");
    }

    [TestMethod]
    public void UnpaddedBatchIsRaggedAndRefusesTensorWrites()
    {
        Tokenizer bert = TestTokenizers.Get(TestTokenizers.Bert);
        var batch = bert.EncodeBatch(["a", "a b c"], new EncodeOptions());
        Assert.IsTrue(batch.IsRagged);
        Assert.ThrowsExactly<InvalidOperationException>(() => batch.GetInputIds());
    }

    [TestMethod]
    public void CountTokensEqualsTheEncodingLength()
    {
        foreach (string name in new[] { TestTokenizers.Gpt2, TestTokenizers.Bert, TestTokenizers.T5, TestTokenizers.Llama })
        {
            Tokenizer tokenizer = TestTokenizers.Get(name);
            foreach (string text in new[] { string.Empty, "Hello world", "The quick brown fox jumps over the lazy dog. 日本語 🤗" })
            {
                Assert.AreEqual(tokenizer.Encode(text).Count, tokenizer.CountTokens(text), $"{name}: {text}");
                Assert.AreEqual(tokenizer.Encode(text, addSpecialTokens: false).Count, tokenizer.CountTokens(text, addSpecialTokens: false), $"{name}: {text}");
            }
        }
    }

    [TestMethod]
    public void VocabularyLookupsAndConfigFacts()
    {
        Tokenizer bert = TestTokenizers.Get(TestTokenizers.Bert);
        Assert.AreEqual(30522, bert.VocabularySize);
        Assert.AreEqual(101, bert.TokenToId("[CLS]"));
        Assert.AreEqual("hello", bert.IdToToken(7592));
        Assert.IsNull(bert.TokenToId("definitely-not-a-token"));
        Assert.IsNull(bert.IdToToken(999_999));
        Assert.AreEqual(0, bert.PadTokenId);
        Assert.AreEqual(512, bert.Config.ModelMaxLength);
        Assert.AreEqual(PaddingStrategy.MaxLength, bert.DefaultPadding!.Strategy, "tokenizer.json's padding section is exposed");
        Assert.AreEqual(128, bert.DefaultTruncation!.MaxLength);

        Tokenizer llama = TestTokenizers.Get(TestTokenizers.Llama);
        Assert.AreEqual(1, llama.BosTokenId);
        Assert.AreEqual(2, llama.EosTokenId);
        Assert.IsNull(llama.PadTokenId);
        Assert.AreEqual(Side.Left, llama.Config.PaddingSide);
        Assert.IsTrue(llama.Config.AddBosToken);
        Assert.IsTrue(llama.IsSpecialToken(2));
        Assert.IsFalse(llama.IsSpecialToken(300));
    }

    [TestMethod]
    public void DecodeRejectsIdsOutsideTheVocabularyNamingThem()
    {
        Tokenizer gpt2 = TestTokenizers.Get(TestTokenizers.Gpt2);
        var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => gpt2.Decode([15496, 99999, 0]));
        StringAssert.Contains(ex.Message, "Token id 99999 (at index 1)");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => gpt2.Decode([-1]));
    }

    [TestMethod]
    public void LongTextEncodesInLinearTime()
    {
        // A pathological input for quadratic merge loops: one 200 000-character "word" with no pre-tokenizer split.
        Tokenizer llama = TestTokenizers.Get(TestTokenizers.Llama);
        // Speed is measured in the benchmarks, not asserted; this proves the long input is handled correctly.
        string word = new('a', 200_000);
        TokenEncoding encoding = llama.Encode(word, addSpecialTokens: false);
        Assert.IsGreaterThan(0, encoding.Count);
        Assert.AreEqual(word, llama.Decode(encoding.Ids.ToArray()));
    }
}

[TestClass]
public sealed class TokenizerConcurrencyAndOffsetTrimTests
{
    private static string[] GoldenTexts(string name)
    {
        using var golden = JsonDocument.Parse(File.ReadAllText(TestTokenizers.TestData("goldens", $"{name}.transformersjs-4.3.1.json")));
        return golden.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("text").GetString()!).ToArray();
    }

    [TestMethod]
    public void ManyThreadsEncodingAtOnceGetTheSameResultsAsOneThread()
    {
        foreach (string name in new[] { TestTokenizers.Gpt2, TestTokenizers.Llama, TestTokenizers.T5 })
        {
            string[] texts = GoldenTexts(name).SelectMany((t, i) => new[] { t, $"{i}: {t} {t}" }).ToArray();
            Tokenizer reference = Tokenizer.FromDirectory(TestTokenizers.Directory(name));
            int[][] expected = texts.Select(t => reference.Encode(t).Ids.ToArray()).ToArray();

            // A fresh instance, so its word caches start cold and are filled by 8 threads at once.
            Tokenizer shared = Tokenizer.FromDirectory(TestTokenizers.Directory(name));
            var failures = new System.Collections.Concurrent.ConcurrentBag<int>();
            Parallel.For(0, texts.Length * 4, new ParallelOptions { MaxDegreeOfParallelism = 8 }, k =>
            {
                int i = k % texts.Length;
                if (!shared.Encode(texts[i]).Ids.SequenceEqual(expected[i]))
                {
                    failures.Add(i);
                }
            });

            Assert.IsEmpty(failures, $"{name}: texts {string.Join(", ", failures.Distinct())} encoded differently under concurrency");
        }
    }

    [TestMethod]
    public void ByteLevelTrimOffsetsMovesOffsetsPastTheEncodedSpace()
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(TestTokenizers.Directory(TestTokenizers.Gpt2), "tokenizer.json")))!;
        json["post_processor"]!["trim_offsets"] = true;
        string directory = Directory.CreateTempSubdirectory("mlnt-trim").FullName;
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), json.ToJsonString());
        Tokenizer trimmed = Tokenizer.FromDirectory(directory);
        Tokenizer untrimmed = TestTokenizers.Get(TestTokenizers.Gpt2);
        const string text = "Hello  world";
        Assert.AreEqual((6, 12), untrimmed.Encode(text).Offsets[2], "Ġworld includes its space");
        Assert.AreEqual((7, 12), trimmed.Encode(text).Offsets[2], "trimmed to 'world'");
        CollectionAssert.AreEqual(untrimmed.Encode(text).Ids.ToArray(), trimmed.Encode(text).Ids.ToArray());
    }
}
