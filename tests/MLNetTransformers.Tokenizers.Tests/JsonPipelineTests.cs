using System.Text;

namespace MLNetTransformers.Tokenizers.Tests;

/// <summary>Small hand-written tokenizer.json files: models, added-token rules, post-processors, and the errors of bad files.</summary>
[TestClass]
public sealed class JsonPipelineTests
{
    internal static Tokenizer FromJson(string json, string? config = null) =>
        Tokenizer.FromJson(new MemoryStream(Encoding.UTF8.GetBytes(json)), config is null ? null : new MemoryStream(Encoding.UTF8.GetBytes(config)));

    private const string WordLevel = """
        {"model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "hello": 1, "world": 2, "[CLS]": 3, "[SEP]": 4, "<s>": 5, "</s>": 6}, "unk_token": "[UNK]"},
         "pre_tokenizer": {"type": "Whitespace"}%EXTRA%}
        """;

    private static Tokenizer WordLevelWith(string extra) => FromJson(WordLevel.Replace("%EXTRA%", extra, StringComparison.Ordinal));

    [TestMethod]
    public void WordLevelLooksUpWholeWordsAndFallsBackToUnk()
    {
        Tokenizer tokenizer = WordLevelWith(string.Empty);
        CollectionAssert.AreEqual(new[] { 1, 2, 0 }, tokenizer.Encode("hello world other").Ids.ToArray());
        Assert.AreEqual("hello world [UNK]", tokenizer.Decode([1, 2, 0]), "no decoder: tokens joined with spaces");
    }

    [TestMethod]
    public void BertAndRobertaProcessingLayOutPairs()
    {
        Tokenizer bert = WordLevelWith(""", "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 4], "cls": ["[CLS]", 3]}""");
        TokenEncoding pair = bert.Encode("hello", "world");
        CollectionAssert.AreEqual(new[] { 3, 1, 4, 2, 4 }, pair.Ids.ToArray());
        CollectionAssert.AreEqual(new[] { 0, 0, 0, 1, 1 }, pair.TypeIds.ToArray());
        CollectionAssert.AreEqual(new[] { 1, 0, 1, 0, 1 }, pair.SpecialTokensMask.ToArray());
        CollectionAssert.AreEqual(new[] { 1, 2 }, bert.Encode("hello", "world", new EncodeOptions { AddSpecialTokens = false }).Ids.ToArray());
        CollectionAssert.AreEqual(new[] { 0, 1 }, bert.Encode("hello", "world", new EncodeOptions { AddSpecialTokens = false }).TypeIds.ToArray());

        Tokenizer roberta = WordLevelWith(""", "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 6], "cls": ["<s>", 5], "trim_offsets": true, "add_prefix_space": false}""");
        CollectionAssert.AreEqual(new[] { 5, 1, 6, 6, 2, 6 }, roberta.Encode("hello", "world").Ids.ToArray());
    }

    [TestMethod]
    public void TemplateProcessingWithMultiTokenSpecials()
    {
        Tokenizer tokenizer = WordLevelWith("""
            , "post_processor": {"type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "BEGIN", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 2}}],
                "special_tokens": {"BEGIN": {"id": "BEGIN", "ids": [3, 5], "tokens": ["[CLS]", "<s>"]}}}
            """);
        CollectionAssert.AreEqual(new[] { 3, 5, 1 }, tokenizer.Encode("hello").Ids.ToArray());
        TokenEncoding pair = tokenizer.Encode("hello", "world");
        CollectionAssert.AreEqual(new[] { 1, 4, 2 }, pair.Ids.ToArray());
        CollectionAssert.AreEqual(new[] { 0, 1, 2 }, pair.TypeIds.ToArray());
    }

    private const string Bpe = """
        {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "##b": 3, "##c": 4, "a##b": 5, "ab": 6, "abc": 7, "c</w>": 8, "b</w>": 9, "ab</w>": 10, "<unk>": 11},
                   "merges": %MERGES%, "unk_token": "<unk>" %OPTIONS%}}
        """;

    private static Tokenizer BpeWith(string merges, string options) =>
        FromJson(Bpe.Replace("%MERGES%", merges, StringComparison.Ordinal).Replace("%OPTIONS%", options, StringComparison.Ordinal));

    [TestMethod]
    public void BpeMergesByRankAndSupportsPrefixSuffixIgnoreMergesAndFuseUnk()
    {
        Tokenizer plain = BpeWith("""["a b", "ab c"]""", string.Empty);
        CollectionAssert.AreEqual(new[] { 7 }, plain.Encode("abc").Ids.ToArray());
        CollectionAssert.AreEqual(new[] { 1, 0 }, plain.Encode("ba").Ids.ToArray());

        Tokenizer arrays = BpeWith("""[["a", "b"]]""", string.Empty);
        CollectionAssert.AreEqual(new[] { 6, 2 }, arrays.Encode("abc").Ids.ToArray(), "merges may be [left, right] arrays");

        Tokenizer prefixed = BpeWith("""["a ##b"]""", """, "continuing_subword_prefix": "##" """);
        CollectionAssert.AreEqual(new[] { 6, 4 }, prefixed.Encode("abc").Ids.ToArray(), "a + ##b merge into ab (the prefix is dropped when joining)");

        Tokenizer suffixed = BpeWith("""["a b</w>"]""", """, "end_of_word_suffix": "</w>" """);
        CollectionAssert.AreEqual(new[] { 10 }, suffixed.Encode("ab").Ids.ToArray());

        Tokenizer ignoreMerges = BpeWith("""["a b"]""", """, "ignore_merges": true""");
        CollectionAssert.AreEqual(new[] { 7 }, ignoreMerges.Encode("abc").Ids.ToArray(), "a whole word in the vocabulary wins without merges");

        CollectionAssert.AreEqual(new[] { 0, 11, 11 }, plain.Encode("axy").Ids.ToArray());
        Tokenizer fused = BpeWith("[]", """, "fuse_unk": true""");
        CollectionAssert.AreEqual(new[] { 0, 11 }, fused.Encode("axy").Ids.ToArray());
        Assert.AreEqual((1, 3), fused.Encode("axy").Offsets[1]);
    }

    [TestMethod]
    public void BpeByteFallbackUsesByteTokens()
    {
        Tokenizer tokenizer = FromJson("""
            {"model": {"type": "BPE", "vocab": {"<unk>": 0, "a": 1, "<0xC3>": 2, "<0xA9>": 3}, "merges": [], "unk_token": "<unk>", "byte_fallback": true},
             "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}]}}
            """);
        TokenEncoding encoding = tokenizer.Encode("aé");
        CollectionAssert.AreEqual(new[] { 1, 2, 3 }, encoding.Ids.ToArray());
        Assert.AreEqual((1, 2), encoding.Offsets[1]);
        Assert.AreEqual("aé", tokenizer.Decode(encoding.Ids.ToArray()));
        CollectionAssert.AreEqual(new[] { 1, 0 }, tokenizer.Encode("a€").Ids.ToArray(), "€'s bytes are not all in the vocabulary: unk");
    }

    private static Tokenizer WithAddedToken(string flags) =>
        FromJson(WordLevel.Replace("%EXTRA%", $$""", "added_tokens": [{"id": 9, "content": "<mask>", "special": true {{flags}} }], "normalizer": {"type": "Lowercase"}""", StringComparison.Ordinal));

    [TestMethod]
    public void AddedTokenRules()
    {
        Tokenizer plain = WithAddedToken(string.Empty);
        CollectionAssert.AreEqual(new[] { 1, 9, 2 }, plain.Encode("hello<mask>world").Ids.ToArray());
        Assert.AreEqual((5, 11), plain.Encode("hello<mask>world").Offsets[1]);

        Tokenizer lstrip = WithAddedToken(""", "lstrip": true""");
        Assert.AreEqual((5, 13), lstrip.Encode("hello  <mask> world").Offsets[1], "lstrip takes the spaces on the left");
        Tokenizer rstrip = WithAddedToken(""", "rstrip": true""");
        Assert.AreEqual((7, 14), rstrip.Encode("hello  <mask> world").Offsets[1], "rstrip takes the space on the right");

        Tokenizer singleWord = WithAddedToken(""", "single_word": true""");
        CollectionAssert.AreEqual(new[] { 1, 9, 2 }, singleWord.Encode("hello <mask> world").Ids.ToArray());
        Assert.IsFalse(singleWord.Encode("hello<mask>world").Ids.Contains(9), "inside a word it is not a match");

        Tokenizer rawOnly = WithAddedToken(""", "normalized": false""");
        Assert.IsFalse(rawOnly.Encode("hello<MASK>").Ids.Contains(9), "a raw token must match the input exactly");
        Tokenizer normalized = WithAddedToken(""", "normalized": true""");
        Assert.IsTrue(normalized.Encode("hello<MASK>").Ids.Contains(9), "a normalized token matches the lowercased text");

        Assert.AreEqual("hello world", plain.Decode([1, 9, 2], skipSpecialTokens: true));
        Assert.AreEqual("hello <mask> world", plain.Decode([1, 9, 2]));
    }

    [TestMethod]
    public void MalformedJsonNamesTheLine()
    {
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => FromJson("{\"model\": {\n  \"type\": \"BPE\",, }"));
        StringAssert.StartsWith(ex.Message, "tokenizer.json: not valid JSON (line 2");
    }

    [TestMethod]
    public void MissingSectionNamesItsPath()
    {
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => FromJson("""{"normalizer": null}"""));
        Assert.AreEqual("tokenizer.json: $.model is missing.", ex.Message);
        var merges = Assert.ThrowsExactly<InvalidDataException>(() => FromJson("""{"model": {"type": "BPE", "vocab": {"a": 0}}}"""));
        Assert.AreEqual("tokenizer.json: $.model.merges is missing.", merges.Message);
    }

    [TestMethod]
    public void UnknownComponentTypeNamesPathAndValue()
    {
        var ex = Assert.ThrowsExactly<NotSupportedException>(() => WordLevelWith(""", "normalizer": {"type": "Sequence", "normalizers": [{"type": "Lowercase"}, {"type": "Fancy"}]}"""));
        StringAssert.StartsWith(ex.Message, "tokenizer.json: $.normalizer.normalizers[1].type: unknown normalizer type 'Fancy'");
        var model = Assert.ThrowsExactly<NotSupportedException>(() => FromJson("""{"model": {"type": "Magic", "vocab": {}}}"""));
        StringAssert.Contains(model.Message, "$.model.type: unknown model type 'Magic'");
    }

    [TestMethod]
    public void WrongValueTypesAndBadMergesAreNamed()
    {
        var notString = Assert.ThrowsExactly<InvalidDataException>(() => WordLevelWith(""", "normalizer": {"type": "Prepend", "prepend": 5}"""));
        Assert.AreEqual("tokenizer.json: $.normalizer.prepend: expected a string but found 5.", notString.Message);
        var badMerge = Assert.ThrowsExactly<InvalidDataException>(() => BpeWith("""["a zz"]""", string.Empty));
        StringAssert.Contains(badMerge.Message, "merge #0 'a zz'");
        var badRegex = Assert.ThrowsExactly<InvalidDataException>(() => WordLevelWith(""", "normalizer": {"type": "Replace", "pattern": {"Regex": "(unclosed"}, "content": ""}"""));
        StringAssert.Contains(badRegex.Message, "$.normalizer.pattern.Regex: invalid regular expression");
        var badBehavior = Assert.ThrowsExactly<InvalidDataException>(() => WordLevelWith(""", "pre_tokenizer": {"type": "Split", "pattern": {"String": "-"}, "behavior": "Sideways"}"""));
        StringAssert.Contains(badBehavior.Message, "$.pre_tokenizer.behavior: unknown split behavior \"Sideways\"");
    }

    [TestMethod]
    public void PathologicalRegexOnPathologicalInputDoesNotHang()
    {
        // (a+)+$ backtracks exponentially on "aaaa…!"; the pattern has no lookaround, so it runs on the linear-time engine.
        Tokenizer tokenizer = WordLevelWith(""", "normalizer": {"type": "Replace", "pattern": {"Regex": "(a+)+$"}, "content": "x"}""");
        string input = new string('a', 5000) + "!";
        CollectionAssert.AreEqual(new[] { 0, 0 }, tokenizer.Encode(input).Ids.ToArray(), "no match, so no replacement: two unknown words");
    }

    [TestMethod]
    public void ConfigFactsAreRead()
    {
        Tokenizer tokenizer = FromJson(
            WordLevel.Replace("%EXTRA%", string.Empty, StringComparison.Ordinal),
            """{"bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>", "pad_token": "[UNK]", "model_max_length": 1000000000000000019884624838656, "padding_side": "left", "chat_template": [{"name": "default", "template": "{{ x }}"}, {"name": "tool_use", "template": "{{ y }}"}]}""");
        Assert.AreEqual(5, tokenizer.BosTokenId);
        Assert.AreEqual(6, tokenizer.EosTokenId);
        Assert.AreEqual(0, tokenizer.PadTokenId);
        Assert.IsNull(tokenizer.Config.ModelMaxLength, "the 'no limit' sentinel is not a length");
        Assert.AreEqual(Side.Left, tokenizer.Config.PaddingSide);
        Assert.AreEqual("{{ x }}", tokenizer.Config.ChatTemplate);
        Assert.AreEqual("{{ y }}", tokenizer.Config.ChatTemplates["tool_use"]);
        var badSide = Assert.ThrowsExactly<InvalidDataException>(() => FromJson(WordLevel.Replace("%EXTRA%", string.Empty, StringComparison.Ordinal), """{"padding_side": "up"}"""));
        StringAssert.Contains(badSide.Message, "$.padding_side: expected \"left\" or \"right\"");
    }

    [TestMethod]
    public void MissingFilesAndFoldersAreNamed()
    {
        string missing = Path.Combine(Path.GetTempPath(), "mlnt-no-tokenizer-here");
        Assert.ThrowsExactly<DirectoryNotFoundException>(() => Tokenizer.FromDirectory(missing));
        string empty = Directory.CreateTempSubdirectory("mlnt-tok").FullName;
        var ex = Assert.ThrowsExactly<FileNotFoundException>(() => Tokenizer.FromDirectory(empty));
        StringAssert.Contains(ex.Message, "No tokenizer.json or tokenizer.model in " + empty);
    }
}

[TestClass]
public sealed class LlamaConfigTests
{
    private static Tokenizer LlamaWithConfig(string config)
    {
        string directory = Directory.CreateTempSubdirectory("mlnt-llama-config").FullName;
        File.Copy(Path.Combine(TestTokenizers.Directory(TestTokenizers.Llama), "tokenizer.json"), Path.Combine(directory, "tokenizer.json"));
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), config);
        return Tokenizer.FromDirectory(directory);
    }

    [TestMethod]
    public void AddBosAndAddEosFlagsRebuildTheTemplateAsTransformersDoes()
    {
        const string Common = "\"tokenizer_class\": \"LlamaTokenizer\", \"bos_token\": \"<s>\", \"eos_token\": \"</s>\"";
        Tokenizer both = LlamaWithConfig($"{{{Common}, \"add_bos_token\": true, \"add_eos_token\": true}}");
        CollectionAssert.AreEqual(new[] { 1, 506, 420, 4011, 1577, 2 }, both.Encode("Hello world").Ids.ToArray());
        TokenEncoding pair = both.Encode("Hello", "world");
        CollectionAssert.AreEqual(new[] { 1, 506, 420, 4011, 2, 1, 1577, 2 }, pair.Ids.ToArray());
        CollectionAssert.AreEqual(new[] { 0, 0, 0, 0, 0, 1, 1, 1 }, pair.TypeIds.ToArray());

        Tokenizer none = LlamaWithConfig($"{{{Common}, \"add_bos_token\": false}}");
        CollectionAssert.AreEqual(new[] { 506, 420, 4011, 1577 }, none.Encode("Hello world").Ids.ToArray());

        Tokenizer notLlama = LlamaWithConfig("{\"tokenizer_class\": \"PreTrainedTokenizerFast\", \"add_bos_token\": false}");
        Assert.AreEqual(1, notLlama.Encode("Hello world").Ids[0], "other classes keep tokenizer.json's post-processor");
    }
}

[TestClass]
public sealed class TokenizerChatTemplateTests
{
    private const string Zephyr = "{% for message in messages %}{% if message['role'] == 'user' %}{{ '<|user|>\n' + message['content'] + eos_token }}{% elif message['role'] == 'assistant' %}{{ '<|assistant|>\n' + message['content'] + eos_token }}{% endif %}{% if loop.last and add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}{% endfor %}";

    [TestMethod]
    public void RendersWithTheTokenizersSpecialTokensAndEncodesWithoutAddingMore()
    {
        Tokenizer llama = TestTokenizers.Get(TestTokenizers.Llama);
        var messages = new[] { new ChatMessage("user", "Hi"), new ChatMessage("assistant", "Hello"), new ChatMessage("user", "Define cat") };
        string prompt = llama.ApplyChatTemplate(messages, new ChatTemplateOptions { AddGenerationPrompt = true }, Zephyr);
        Assert.AreEqual("<|user|>\nHi</s><|assistant|>\nHello</s><|user|>\nDefine cat</s><|assistant|>", prompt);

        TokenEncoding encoding = llama.EncodeChat(messages, new ChatTemplateOptions { AddGenerationPrompt = true }, Zephyr);
        CollectionAssert.AreEqual(llama.Encode(prompt, addSpecialTokens: false).Ids.ToArray(), encoding.Ids.ToArray());
        Assert.AreEqual(3, encoding.Ids.Count(id => id == 2), "the three </s> written by the template are real EOS tokens");
        Assert.AreNotEqual(1, encoding.Ids[0], "no BOS added on top of the template");
    }

    [TestMethod]
    public void CallerVariablesWinAndNamedTemplatesResolve()
    {
        Tokenizer tokenizer = JsonPipelineTests.FromJson(
            """{"model": {"type": "WordLevel", "vocab": {"[UNK]": 0}, "unk_token": "[UNK]"}}""",
            """{"eos_token": "</s>", "chat_template": [{"name": "default", "template": "{{ eos_token }}{{ messages|length }}"}, {"name": "tool_use", "template": "tools={{ tools|length }}"}]}""");
        var messages = new[] { new ChatMessage("user", "x") };
        Assert.AreEqual("</s>1", tokenizer.ApplyChatTemplate(messages));
        var options = new ChatTemplateOptions();
        options.Variables["eos_token"] = "<END>";
        Assert.AreEqual("<END>1", tokenizer.ApplyChatTemplate(messages, options));
        options.Variables["tools"] = new[] { "a", "b" };
        Assert.AreEqual("tools=2", tokenizer.ApplyChatTemplate(messages, options, "tool_use"));
    }

    [TestMethod]
    public void MissingTemplateIsAClearError()
    {
        Tokenizer llama = TestTokenizers.Get(TestTokenizers.Llama);
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() => llama.ApplyChatTemplate([new ChatMessage("user", "x")]));
        StringAssert.Contains(ex.Message, "no chat template");
    }
}
