using System.Text;
using MLNetTransformers.Generation.Text;

namespace MLNetTransformers.Generation.Tests.Text;

[TestClass]
public sealed class StopStringMatcherTests
{
    private static string PushAll(StopStringMatcher matcher, IEnumerable<string> deltas, out TextChunk? stop)
    {
        var emitted = new StringBuilder();
        stop = null;
        foreach (string delta in deltas)
        {
            TextChunk chunk = matcher.Push(delta);
            emitted.Append(chunk.Text);
            if (chunk.IsStop)
            {
                stop = chunk;
                return emitted.ToString();
            }
        }

        emitted.Append(matcher.Flush());
        return emitted.ToString();
    }

    [TestMethod]
    public void NoStopStringsPassEverythingThroughAtOnce()
    {
        var matcher = new StopStringMatcher([]);
        Assert.AreEqual(0, matcher.MaxStopLength);
        TextChunk chunk = matcher.Push("Hello </s> world");
        Assert.AreEqual("Hello </s> world", chunk.Text);
        Assert.IsFalse(chunk.IsStop);
        Assert.AreEqual(-1, chunk.StopStringIndex);
        Assert.AreEqual(0, matcher.HeldLength);
        Assert.AreEqual(string.Empty, matcher.Flush());
    }

    [TestMethod]
    public void TextThatCannotStartAStopIsReleasedImmediately()
    {
        var matcher = new StopStringMatcher(["</s>"]);
        Assert.AreEqual("Hello world", matcher.Push("Hello world").Text);
        Assert.AreEqual(0, matcher.HeldLength);
        // "<" could start the stop string: held. "x" disproves it: both released in order.
        Assert.AreEqual("Hi ", matcher.Push("Hi <").Text);
        Assert.AreEqual(1, matcher.HeldLength);
        Assert.AreEqual("<x", matcher.Push("x").Text);
        Assert.AreEqual(0, matcher.HeldLength);
    }

    [TestMethod]
    public void HeldPrefixThatTurnsOutNotToBeAStopIsReleasedInOrder()
    {
        var matcher = new StopStringMatcher(["abcd"]);
        Assert.AreEqual("x", matcher.Push("xa").Text);
        Assert.AreEqual(string.Empty, matcher.Push("b").Text);
        Assert.AreEqual(string.Empty, matcher.Push("c").Text);
        Assert.AreEqual(3, matcher.HeldLength);
        // "abce" disproves "abcd", and no suffix of "abcey" can start "abcd": everything is released.
        TextChunk chunk = matcher.Push("ey");
        Assert.AreEqual("abcey", chunk.Text);
        Assert.IsFalse(chunk.IsStop);
        // "aab..." : the first "a" is disproved by the second, which is held again.
        Assert.AreEqual("a", matcher.Push("aa").Text);
        Assert.AreEqual(1, matcher.HeldLength);
        Assert.AreEqual(string.Empty, matcher.Push("bc").Text);
        Assert.AreEqual("abc", matcher.Flush());
    }

    [TestMethod]
    public void DisprovedPrefixKeepsTheLongestSuffixThatCanStillStartAStop()
    {
        // "abab" then "c": "abab" is disproved as "ababd"... but "ab" + "abc" can still be "ababc" -> stop "abc" at the end.
        var matcher = new StopStringMatcher(["ababd", "abc"]);
        Assert.AreEqual(string.Empty, matcher.Push("abab").Text);
        Assert.AreEqual(4, matcher.HeldLength);
        TextChunk chunk = matcher.Push("c!");
        Assert.IsTrue(chunk.IsStop);
        Assert.AreEqual("ab", chunk.Text);
        Assert.AreEqual("abc", chunk.StopString);
        Assert.AreEqual(1, chunk.StopStringIndex);
    }

    [TestMethod]
    public void StopStringAtTheVeryStart()
    {
        var matcher = new StopStringMatcher(["###"]);
        TextChunk chunk = matcher.Push("### and more");
        Assert.IsTrue(chunk.IsStop);
        Assert.AreEqual(string.Empty, chunk.Text);
        Assert.AreEqual("###", chunk.StopString);
        Assert.IsTrue(matcher.IsStopped);
        Assert.AreEqual(string.Empty, matcher.Flush());
    }

    [TestMethod]
    public void StopSplitAcrossManyDeltasTrimsItAndEverythingAfter()
    {
        var matcher = new StopStringMatcher(["</s>"]);
        string emitted = PushAll(matcher, ["Hel", "lo <", "/", "s", ">world", "never seen"], out TextChunk? stop);
        Assert.AreEqual("Hello ", emitted);
        Assert.IsNotNull(stop);
        Assert.AreEqual("</s>", stop.Value.StopString);
        Assert.ThrowsExactly<InvalidOperationException>(() => matcher.Push("more"));
    }

    [TestMethod]
    public void HeldTextIsReleasedByFlushWhenGenerationEnds()
    {
        var matcher = new StopStringMatcher(["\nUser:"]);
        Assert.AreEqual("The answer is 42.", matcher.Push("The answer is 42.\nUs").Text);
        Assert.AreEqual(3, matcher.HeldLength);
        Assert.AreEqual("\nUs", matcher.Flush());
        Assert.AreEqual(0, matcher.HeldLength);
    }

    [TestMethod]
    public void TheStopThatEndsFirstWinsOverOneThatStartedFirst()
    {
        // "abcd" starts at 0 but ends at 4; "bc" starts at 1 and ends at 3: "bc" wins, like StopStringCriteria firing on the
        // first token in which any stop string ends.
        foreach (string[] deltas in new[] { new[] { "abcd" }, ["a", "b", "c", "d"], ["ab", "cd"] })
        {
            var matcher = new StopStringMatcher(["abcd", "bc"]);
            string emitted = PushAll(matcher, deltas, out TextChunk? stop);
            Assert.AreEqual("a", emitted);
            Assert.AreEqual("bc", stop!.Value.StopString);
            Assert.AreEqual(1, stop.Value.StopStringIndex);
        }
    }

    [TestMethod]
    public void AtTheSameEndTheLongerStopWins()
    {
        // "ab" and "b" both end at the same character; the longer one starts first and trims more.
        var matcher = new StopStringMatcher(["b", "ab"]);
        TextChunk chunk = matcher.Push("xaby");
        Assert.AreEqual("x", chunk.Text);
        Assert.AreEqual("ab", chunk.StopString);
        Assert.AreEqual(1, chunk.StopStringIndex);
    }

    [TestMethod]
    public void OverlappingPrefixesFollowFailureLinks()
    {
        var matcher = new StopStringMatcher(["abcx", "bcd"]);
        Assert.AreEqual(string.Empty, matcher.Push("abc").Text);
        TextChunk chunk = matcher.Push("d");
        Assert.AreEqual("a", chunk.Text);
        Assert.AreEqual("bcd", chunk.StopString);

        var repeated = new StopStringMatcher(["aab"]);
        Assert.AreEqual("a", repeated.Push("aaa").Text);
        chunk = repeated.Push("b");
        Assert.IsTrue(chunk.IsStop);
        Assert.AreEqual(string.Empty, chunk.Text);
    }

    [TestMethod]
    public void DuplicateStopsReportTheFirstIndex()
    {
        var matcher = new StopStringMatcher(["x", "yy", "x"]);
        TextChunk chunk = matcher.Push("ax");
        Assert.AreEqual(0, chunk.StopStringIndex);
        CollectionAssert.AreEqual(new[] { "x", "yy", "x" }, matcher.StopStrings.ToArray());
    }

    [TestMethod]
    public void StopStringsWithSurrogatePairsMatchOrdinally()
    {
        var matcher = new StopStringMatcher(["🍕!"]);
        string emitted = PushAll(matcher, ["I like ", "🍕", "🍕", "!", " a lot"], out TextChunk? stop);
        Assert.AreEqual("I like 🍕", emitted);
        Assert.IsNotNull(stop);
    }

    [TestMethod]
    public void InvalidStopStringsAreRejected()
    {
        Assert.ThrowsExactly<ArgumentException>(() => new StopStringMatcher(["ok", ""]));
        Assert.ThrowsExactly<ArgumentException>(() => new StopStringMatcher([null!]));
        Assert.ThrowsExactly<ArgumentException>(() => new StopStringMatcher(["\uD83D"]));
        Assert.ThrowsExactly<ArgumentException>(() => new StopStringMatcher(["a\uDF55"]));
        Assert.ThrowsExactly<ArgumentNullException>(() => new StopStringMatcher(null!));
    }

    [TestMethod]
    public void ResetMakesTheMatcherReusable()
    {
        var matcher = new StopStringMatcher(["end"]);
        Assert.IsTrue(matcher.Push("the end").IsStop);
        matcher.Reset();
        Assert.IsFalse(matcher.IsStopped);
        Assert.AreEqual("again ", matcher.Push("again e").Text);
        Assert.AreEqual("e", matcher.Flush());
    }

    [TestMethod]
    public void EmptyDeltasAndTheDefaultChunkAreHarmless()
    {
        var matcher = new StopStringMatcher(["ab"]);
        Assert.AreEqual(string.Empty, matcher.Push(string.Empty).Text);
        TextChunk none = default;
        Assert.AreEqual(string.Empty, none.Text);
        Assert.IsFalse(none.IsStop);
        Assert.AreEqual(-1, none.StopStringIndex);
    }

    /// <summary>Reference: the end of the first stop occurrence (earliest end, then longest), by brute force.</summary>
    private static (int Start, int Index)? FirstStop(string text, string[] stops)
    {
        for (int end = 1; end <= text.Length; end++)
        {
            int best = -1;
            for (int s = 0; s < stops.Length; s++)
            {
                if (stops[s].Length <= end && string.CompareOrdinal(text, end - stops[s].Length, stops[s], 0, stops[s].Length) == 0
                    && (best < 0 || stops[s].Length > stops[best].Length))
                {
                    best = s;
                }
            }

            if (best >= 0)
            {
                return (end - stops[best].Length, best);
            }
        }

        return null;
    }

    /// <summary>Reference: the longest suffix of <paramref name="text"/> that is a proper prefix of a stop string.</summary>
    private static int LongestHeldSuffix(string text, string[] stops)
    {
        int best = 0;
        foreach (string stop in stops)
        {
            for (int k = Math.Min(stop.Length - 1, text.Length); k > best; k--)
            {
                if (string.CompareOrdinal(text, text.Length - k, stop, 0, k) == 0)
                {
                    best = k;
                    break;
                }
            }
        }

        return best;
    }

    [TestMethod]
    public void RandomSplitsEmitExactlyTheTextBeforeTheFirstStop()
    {
        var random = new Random(12345);
        string[][] stopSets =
        [
            ["abc"],
            ["abc", "bca", "cc", "abab"],
            ["aab", "ab", "b"],
            ["abcabd", "cab", "bb"],
            ["a"],
        ];
        int stopsSeen = 0;
        for (int trial = 0; trial < 3000; trial++)
        {
            string[] stops = stopSets[trial % stopSets.Length];
            int length = random.Next(0, 24);
            var chars = new char[length];
            for (int i = 0; i < length; i++)
            {
                chars[i] = "abcd"[random.Next(4)];
            }

            string text = new(chars);
            (int Start, int Index)? first = FirstStop(text, stops);
            string expected = first is null ? text : text[..first.Value.Start];

            var matcher = new StopStringMatcher(stops);
            var emitted = new StringBuilder();
            TextChunk? stop = null;
            int consumed = 0;
            int before = 0;
            while (consumed < text.Length)
            {
                int take = random.Next(0, Math.Min(6, text.Length - consumed) + 1);
                before = consumed;
                TextChunk chunk = matcher.Push(text.Substring(consumed, take));
                consumed += take;
                emitted.Append(chunk.Text);
                Assert.IsTrue(expected.StartsWith(emitted.ToString(), StringComparison.Ordinal), $"'{text}': emitted '{emitted}' is not a prefix of '{expected}'");
                if (chunk.IsStop)
                {
                    stop = chunk;
                    break;
                }

                // Released eagerly: everything but the longest suffix that may still start a stop string.
                string seen = text[..consumed];
                int held = LongestHeldSuffix(seen, stops);
                Assert.AreEqual(held, matcher.HeldLength, $"'{seen}' with [{string.Join(',', stops)}]");
                Assert.AreEqual(seen[..^held], emitted.ToString());
                Assert.IsLessThanOrEqualTo(matcher.MaxStopLength - 1, matcher.HeldLength);
            }

            if (stop is null)
            {
                Assert.IsNull(first, text);
                emitted.Append(matcher.Flush());
            }
            else
            {
                stopsSeen++;
                Assert.IsNotNull(first, text);
                Assert.AreEqual(first.Value.Index, stop.Value.StopStringIndex, text);
                // The stop is reported in the delta in which its last character arrives.
                int end = first.Value.Start + stops[first.Value.Index].Length;
                Assert.IsTrue(before < end && end <= consumed, $"'{text}': stop ending at {end} reported for delta [{before}, {consumed})");
            }

            Assert.AreEqual(expected, emitted.ToString(), $"'{text}' with [{string.Join(',', stops)}]");
        }

        Assert.IsGreaterThan(500, stopsSeen);
    }

    [TestMethod]
    public void EverySplitOfATextWithAStopGivesTheSameResult()
    {
        // All 2^(n-1) ways to cut the text into deltas.
        const string Text = "xab<|end|>yy";
        string[] stops = ["<|end|>", "<|eot|>", "ab<|x"];
        for (int mask = 0; mask < 1 << (Text.Length - 1); mask++)
        {
            var deltas = new List<string>();
            int start = 0;
            for (int i = 1; i <= Text.Length; i++)
            {
                if (i == Text.Length || (mask & (1 << (i - 1))) != 0)
                {
                    deltas.Add(Text[start..i]);
                    start = i;
                }
            }

            var matcher = new StopStringMatcher(stops);
            string emitted = PushAll(matcher, deltas, out TextChunk? stop);
            Assert.AreEqual("xab", emitted, string.Join("|", deltas));
            Assert.AreEqual("<|end|>", stop!.Value.StopString);
        }
    }

    [TestMethod]
    public void FinishReasonJsonNames()
    {
        Assert.AreEqual("eos", FinishReason.Eos.ToJsonString());
        Assert.AreEqual("stop", FinishReason.Stop.ToJsonString());
        Assert.AreEqual("length", FinishReason.Length.ToJsonString());
        foreach (FinishReason reason in Enum.GetValues<FinishReason>())
        {
            Assert.IsTrue(FinishReasonExtensions.TryParseJsonString(reason.ToJsonString(), out FinishReason parsed));
            Assert.AreEqual(reason, parsed);
        }

        Assert.IsFalse(FinishReasonExtensions.TryParseJsonString("STOP", out _));
        Assert.IsFalse(FinishReasonExtensions.TryParseJsonString(null, out _));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ((FinishReason)42).ToJsonString());
    }
}
