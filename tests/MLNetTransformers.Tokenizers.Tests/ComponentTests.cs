using System.Text;
using System.Text.RegularExpressions;
using MLNetTransformers.Tokenizers.Core;
using MLNetTransformers.Tokenizers.Decoders;
using MLNetTransformers.Tokenizers.Json;
using MLNetTransformers.Tokenizers.Normalizers;
using MLNetTransformers.Tokenizers.PreTokenizers;

namespace MLNetTransformers.Tokenizers.Tests;

/// <summary>Each normalizer, pre-tokenizer and decoder against hand-computed expectations (Hugging Face's documented behaviour).</summary>
[TestClass]
public sealed class NormalizerTests
{
    private static NormalizedString Run(Normalizer normalizer, string text) => normalizer.Normalize(new NormalizedString(text, 0));

    [TestMethod]
    public void UnicodeFormsAndTheirAlignment()
    {
        NormalizedString nfd = Run(new UnicodeNormalizer(NormalizationForm.FormD), "aé");
        Assert.AreEqual("ae\u0301", nfd.Text);
        Assert.AreEqual((1, 2), (nfd.OriginalStart(2), nfd.OriginalEnd(2)), "the combining accent comes from the original é");
        NormalizedString nfc = Run(new UnicodeNormalizer(NormalizationForm.FormC), "xe\u0301y");
        Assert.AreEqual("xéy", nfc.Text);
        Assert.AreEqual((1, 3), nfc.OriginalRange(1, 2), "é covers both original characters");
        Assert.AreEqual((3, 4), nfc.OriginalRange(2, 3));
        Assert.AreEqual("fi 1", Run(new UnicodeNormalizer(NormalizationForm.FormKC), "ﬁ ¹").Text);
        Assert.AreEqual("ABC", Run(new UnicodeNormalizer(NormalizationForm.FormKD), "ＡＢＣ").Text);
    }

    [TestMethod]
    public void LowercaseIsPerCharacterLikeRust()
    {
        Assert.AreEqual("σίσυφοσ", Run(new LowercaseNormalizer(), "ΣΊΣΥΦΟΣ").Text, "no final-sigma context, as char::to_lowercase");
        Assert.AreEqual("hello wörld", Run(new LowercaseNormalizer(), "HeLLo WÖRLD").Text);
    }

    [TestMethod]
    public void StripStripAccentsPrependReplaceNmt()
    {
        NormalizedString stripped = Run(new StripNormalizer(true, true), "  hi \t");
        Assert.AreEqual("hi", stripped.Text);
        Assert.AreEqual((2, 4), stripped.OriginalRange(0, 2));
        Assert.AreEqual("hi", Run(new StripNormalizer(false, true), "hi  ").Text);
        Assert.AreEqual("  hi", Run(new StripNormalizer(false, true), "  hi  ").Text);
        Assert.AreEqual("cafe", Run(new SequenceNormalizer([new UnicodeNormalizer(NormalizationForm.FormD), new StripAccentsNormalizer()]), "café").Text);
        NormalizedString prepended = Run(new PrependNormalizer("▁"), "ab");
        Assert.AreEqual("▁ab", prepended.Text);
        Assert.AreEqual((0, 1), prepended.OriginalRange(0, 1));
        Assert.AreEqual(string.Empty, Run(new PrependNormalizer("▁"), string.Empty).Text);
        Assert.AreEqual("a-b-c", Run(new ReplaceNormalizer(new Regex(@"\s+"), "-"), "a  b\tc").Text);
        Assert.AreEqual("ab", Run(new NmtNormalizer(), "a\u0001b").Text);
        Assert.AreEqual("a b", Run(new NmtNormalizer(), "a\u200Bb").Text);
    }

    [TestMethod]
    public void BertNormalizerCleansPadsCjkStripsAndLowercases()
    {
        var bert = new BertNormalizer(cleanText: true, handleChineseChars: true, stripAccents: null, lowercase: true);
        // NUL and the zero-width space (Cf) are removed, tab and no-break space become spaces, 中 is padded, é loses its accent.
        Assert.AreEqual("hello  中  worlde", Run(bert, "Héllo\u0000\t中\u00A0World\u200Bé").Text);
        var keepAccents = new BertNormalizer(cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: true);
        Assert.AreEqual("héllo", Run(keepAccents, "HÉLLO").Text);
    }

    [TestMethod]
    public void ByteLevelNormalizerMapsBytes()
    {
        Assert.AreEqual("ĠhÃ©", Run(new ByteLevelNormalizer(), " hé").Text);
    }
}

[TestClass]
public sealed class PreTokenizerTests
{
    private static string[] Run(PreTokenizer preTokenizer, string text)
    {
        var pieces = new PreTokenizedString(new NormalizedString(text, 0));
        preTokenizer.PreTokenize(pieces);
        return pieces.Splits.Select(s => s.Text.Text).ToArray();
    }

    private static SplitPreTokenizer Split(string pattern, SplitDelimiterBehavior behavior, bool invert = false) =>
        new(new Regex(Regex.Escape(pattern)), behavior, invert);

    [TestMethod]
    public void SplitHasAllFiveBehaviorsAndInvert()
    {
        const string text = "the-final--countdown";
        CollectionAssert.AreEqual(new[] { "the", "final", "countdown" }, Run(Split("-", SplitDelimiterBehavior.Removed), text));
        CollectionAssert.AreEqual(new[] { "the", "-", "final", "-", "-", "countdown" }, Run(Split("-", SplitDelimiterBehavior.Isolated), text));
        CollectionAssert.AreEqual(new[] { "the-", "final-", "-", "countdown" }, Run(Split("-", SplitDelimiterBehavior.MergedWithPrevious), text));
        CollectionAssert.AreEqual(new[] { "the", "-final", "-", "-countdown" }, Run(Split("-", SplitDelimiterBehavior.MergedWithNext), text));
        CollectionAssert.AreEqual(new[] { "the", "-", "final", "--", "countdown" }, Run(Split("-", SplitDelimiterBehavior.Contiguous), text));
        // Inverted: the matches are the pieces and everything between them is the delimiter.
        CollectionAssert.AreEqual(new[] { "the", "final", "countdown" }, Run(new SplitPreTokenizer(new Regex("[a-z]+"), SplitDelimiterBehavior.Removed, invert: true), text));
        CollectionAssert.AreEqual(new[] { "the", "-", "final", "--", "countdown" }, Run(new SplitPreTokenizer(new Regex("[a-z]+"), SplitDelimiterBehavior.Contiguous, invert: true), text));
    }

    [TestMethod]
    public void WhitespaceFamilies()
    {
        CollectionAssert.AreEqual(new[] { "Hey", "friend", "!", "How", "are", "you", "?!" }, Run(new WhitespacePreTokenizer(), "Hey friend!  How are you?!"));
        CollectionAssert.AreEqual(new[] { "Hey", "friend!", "How" }, Run(new WhitespaceSplitPreTokenizer(), " Hey friend!\tHow "));
        CollectionAssert.AreEqual(new[] { "Hey", "friend", "!", "how", "'", "s" }, Run(new BertPreTokenizer(), "Hey friend! how's"));
        CollectionAssert.AreEqual(new[] { "a", "b", "c" }, Run(new CharDelimiterSplitPreTokenizer('|'), "a|b||c"));
    }

    [TestMethod]
    public void DigitsAndPunctuation()
    {
        CollectionAssert.AreEqual(new[] { "Call ", "123", " now" }, Run(new DigitsPreTokenizer(false), "Call 123 now"));
        CollectionAssert.AreEqual(new[] { "Call ", "1", "2", "3", " now" }, Run(new DigitsPreTokenizer(true), "Call 123 now"));
        CollectionAssert.AreEqual(new[] { "Hi", ",", " there", "!", "!" }, Run(new PunctuationPreTokenizer(SplitDelimiterBehavior.Isolated), "Hi, there!!"));
        CollectionAssert.AreEqual(new[] { "Hi,", " there!", "!" }, Run(new PunctuationPreTokenizer(SplitDelimiterBehavior.MergedWithPrevious), "Hi, there!!"));
    }

    [TestMethod]
    public void MetaspacePrependSchemes()
    {
        CollectionAssert.AreEqual(new[] { "▁Hey", "▁friend" }, Run(new MetaspacePreTokenizer('▁', PrependScheme.Always, split: true), "Hey friend"));
        CollectionAssert.AreEqual(new[] { "Hey", "▁friend" }, Run(new MetaspacePreTokenizer('▁', PrependScheme.Never, split: true), "Hey friend"));
        CollectionAssert.AreEqual(new[] { "▁Hey▁friend" }, Run(new MetaspacePreTokenizer('▁', PrependScheme.First, split: false), "Hey friend"));
        CollectionAssert.AreEqual(new[] { "▁Hey", "▁", "▁friend" }, Run(new MetaspacePreTokenizer('▁', PrependScheme.Always, split: true), "Hey  friend"));
    }

    [TestMethod]
    public void MetaspaceFirstPrependsOnlyAtTheStartOfTheInput()
    {
        var pieces = new PreTokenizedString([new Split(new NormalizedString("Hey", 0)), new Split(new NormalizedString("you", 10))]);
        new MetaspacePreTokenizer('▁', PrependScheme.First, split: false).PreTokenize(pieces);
        CollectionAssert.AreEqual(new[] { "▁Hey", "you" }, pieces.Splits.Select(s => s.Text.Text).ToArray());
    }

    [TestMethod]
    public void Gpt2PatternMatchesTheReferenceRegexOnTrickyInput()
    {
        // The regex as published (with .NET's \p classes); the hand-written matcher must agree on BMP text.
        var reference = new Regex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+");
        string[] inputs =
        [
            "Hello world", "  leading", "trailing  ", "a\n\nb", "x \t y", "I'm it's we've they'll I'd 'quoted'", "!!!  ??", "3.14 1,000",
            "tabs\t\tand\r\nnewlines\n", "naïve café — ok", "   ", string.Empty, "a  !", "''s", "don't 'Ve",
        ];
        foreach (string input in inputs)
        {
            var expected = reference.Matches(input).Select(m => m.Value).ToArray();
            var ranges = new List<(int Start, int End)>();
            Gpt2Pattern.Matches(input, ranges);
            CollectionAssert.AreEqual(expected, ranges.Select(r => input[r.Start..r.End]).ToArray(), input);
        }
    }

    [TestMethod]
    public void Gpt2PatternTreatsLettersOutsideTheBmpAsLetters()
    {
        var ranges = new List<(int Start, int End)>();
        const string text = " 𝐀𝐁c!"; // mathematical bold letters (surrogate pairs) are \p{L}
        Gpt2Pattern.Matches(text, ranges);
        CollectionAssert.AreEqual(new[] { " 𝐀𝐁c", "!" }, ranges.Select(r => text[r.Start..r.End]).ToArray());
    }
}

[TestClass]
public sealed class DecoderTests
{
    private static string Run(TokenDecoder decoder, params string[] tokens) => decoder.Decode([.. tokens]);

    [TestMethod]
    public void EachDecoder()
    {
        Assert.AreEqual("Hello world", Run(new ByteLevelDecoder(), "Hello", "Ġworld"));
        Assert.AreEqual("unaffable do n't", Run(new WordPieceDecoder("##", cleanup: false), "un", "##aff", "##able", "do", "n't"));
        Assert.AreEqual("unaffable don't", Run(new WordPieceDecoder("##", cleanup: true), "un", "##aff", "##able", "do", "n't"));
        Assert.AreEqual("hello, world.", Run(new WordPieceDecoder("##", cleanup: true), "hello", ",", "world", "."));
        Assert.AreEqual("Hey friend", Run(new MetaspaceDecoder('▁', prependScheme: true), "▁Hey", "▁friend"));
        Assert.AreEqual(" Hey friend", Run(new MetaspaceDecoder('▁', prependScheme: false), "▁Hey", "▁friend"));
        Assert.AreEqual("hello world", Run(new BpeDecoder("</w>"), "hel", "lo</w>", "world</w>"));
        Assert.AreEqual("é!", Run(new ByteFallbackDecoder(), "<0xC3>", "<0xA9>", "!"));
        Assert.AreEqual("\uFFFD\uFFFDx", Run(new ByteFallbackDecoder(), "<0xC3>", "<0xC3>", "x"), "an invalid run becomes one U+FFFD per byte");
        Assert.AreEqual("abc", Run(new FuseDecoder(), "a", "b", "c"));
        Assert.AreEqual("ab", Run(new StripDecoder(' ', 1, 1), " a ", "b"));
        Assert.AreEqual("a b", Run(new ReplaceDecoder(new Regex("▁"), " "), "a▁b"));
        Assert.AreEqual("hello world", Run(new CtcDecoder("<pad>", "|", cleanup: true), "h", "e", "l", "<pad>", "l", "l", "o", "|", "w", "o", "r", "l", "d"));
        Assert.AreEqual("Hey friend", Run(new SequenceDecoder([new ReplaceDecoder(new Regex("▁"), " "), new FuseDecoder(), new StripDecoder(' ', 1, 0)]), "▁Hey", "▁friend"));
    }
}
