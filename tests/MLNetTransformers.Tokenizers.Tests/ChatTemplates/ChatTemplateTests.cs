using System.Text.Json;
using System.Text.Json.Nodes;

namespace MLNetTransformers.Tokenizers.Tests.ChatTemplates;

/// <summary>The public API: parsing once and rendering many times (also concurrently), options, and .NET values.</summary>
[TestClass]
public sealed class ChatTemplateTests
{
    private const string ChatML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    [TestMethod]
    public void RendersChatML()
    {
        var template = ChatTemplate.Parse(ChatML);
        Assert.AreEqual(ChatML, template.Source);
        string text = template.Render([new("system", "Be brief."), new("user", "Hi")], new ChatTemplateOptions { AddGenerationPrompt = true });
        Assert.AreEqual("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", text);
        Assert.AreEqual("<|im_start|>user\nHi<|im_end|>\n", template.Render([new("user", "Hi")]));
    }

    [TestMethod]
    public void ArgumentsAreChecked()
    {
        Assert.ThrowsExactly<ArgumentNullException>(() => ChatTemplate.Parse(null!));
        var template = ChatTemplate.Parse("x");
        Assert.ThrowsExactly<ArgumentNullException>(() => template.Render(null!));
        Assert.ThrowsExactly<ArgumentException>(() => template.Render([null!]));
        Assert.ThrowsExactly<ArgumentNullException>(() => new ChatMessage(null!, "x"));
        foreach (string reserved in new[] { "messages", "add_generation_prompt" })
        {
            var options = new ChatTemplateOptions();
            options.Variables[reserved] = true;
            Assert.ThrowsExactly<ArgumentException>(() => template.Render([], options), reserved);
        }
    }

    [TestMethod]
    public void MessagesAreDictsWithRoleContentAndAdditionalProperties()
    {
        var message = new ChatMessage("assistant", null);
        message.AdditionalProperties["tool_calls"] = new List<object?>
        {
            new Dictionary<string, object?> { ["type"] = "function", ["function"] = new Dictionary<string, object?> { ["name"] = "f", ["arguments"] = new Dictionary<string, object?> { ["x"] = 1 } } },
        };
        message.AdditionalProperties["name"] = "bot";
        var template = ChatTemplate.Parse("{{ messages[0] }}|{{ messages[0].content is none }}|{{ 'tool_calls' in messages[0] }}|{{ messages[0].tool_calls[0].function.arguments|tojson }}|{{ messages[0]|list }}");
        Assert.AreEqual(
            "{'role': 'assistant', 'content': None, 'tool_calls': [{'type': 'function', 'function': {'name': 'f', 'arguments': {'x': 1}}}], 'name': 'bot'}|True|True|{\"x\": 1}|['role', 'content', 'tool_calls', 'name']",
            template.Render([message]));
    }

    [TestMethod]
    public void StructuredContentReplacesTheTextContent()
    {
        var message = new ChatMessage("user", null);
        message.AdditionalProperties["content"] = JsonSerializer.Deserialize<JsonElement>("""[{"type": "image"}, {"type": "text", "text": "What is this?"}]""");
        var template = ChatTemplate.Parse("{% for part in messages[0].content %}{% if part.type == 'image' %}<image>{% else %}{{ part.text }}{% endif %}{% endfor %}|{{ messages[0]|list }}");
        Assert.AreEqual("<image>What is this?|['role', 'content']", template.Render([message]));
    }

    [TestMethod]
    public void ToolsAndDocumentsAreNoneUnlessGivenLikeTransformers()
    {
        var template = ChatTemplate.Parse("{{ tools is none }} {{ tools is defined }} {{ documents is none }} {{ add_generation_prompt }} {{ bos_token is defined }}");
        Assert.AreEqual("True True True False False", template.Render([]));
        var options = new ChatTemplateOptions { AddGenerationPrompt = true };
        options.Variables["tools"] = new[] { "t" };
        options.Variables["bos_token"] = "<s>";
        Assert.AreEqual("False True True True True", template.Render([], options));
    }

    [TestMethod]
    public void DotNetValuesBecomePythonValues()
    {
        var options = new ChatTemplateOptions();
        options.Variables["i"] = 3;
        options.Variables["l"] = 5_000_000_000L;
        options.Variables["d"] = 0.5;
        options.Variables["whole"] = 2.0;
        options.Variables["f"] = 1.5f;
        options.Variables["m"] = 2.50m;
        options.Variables["b"] = true;
        options.Variables["n"] = null;
        options.Variables["s"] = "text";
        options.Variables["c"] = 'c';
        options.Variables["arr"] = new[] { 1, 2 };
        options.Variables["list"] = new List<object?> { "a", null, false };
        options.Variables["dict"] = new Dictionary<string, object?> { ["k"] = 1, ["z"] = new[] { 1.0 } };
        options.Variables["ro"] = new Dictionary<string, int> { ["x"] = 1 };
        options.Variables["tuple"] = (1, "two");
        options.Variables["enum"] = DayOfWeek.Friday;
        options.Variables["msg"] = new ChatMessage("user", "hi");
        var template = ChatTemplate.Parse("{{ i }} {{ l }} {{ d }} {{ whole }} {{ f }} {{ m }} {{ b }} {{ n }} {{ s }} {{ c }} {{ arr }} {{ list }} {{ dict }} {{ ro }} {{ tuple }} {{ enum }} {{ msg }} {{ i is integer }} {{ whole is float }}");
        Assert.AreEqual(
            "3 5000000000 0.5 2.0 1.5 2.5 True None text c [1, 2] ['a', None, False] {'k': 1, 'z': [1.0]} {'x': 1} (1, 'two') Friday {'role': 'user', 'content': 'hi'} True True",
            template.Render([], options));
    }

    [TestMethod]
    public void JsonElementAndJsonNodeKeepPythonsIntFloatDistinction()
    {
        const string json = """{"a": 1, "b": 1.0, "c": [true, null, "x", 1e-7], "d": {"e": -2}}""";
        var template = ChatTemplate.Parse("{{ v }} {{ v|tojson }}");
        const string expected = "{'a': 1, 'b': 1.0, 'c': [True, None, 'x', 1e-07], 'd': {'e': -2}} {\"a\": 1, \"b\": 1.0, \"c\": [true, null, \"x\", 1e-07], \"d\": {\"e\": -2}}";

        var options = new ChatTemplateOptions();
        options.Variables["v"] = JsonSerializer.Deserialize<JsonElement>(json);
        Assert.AreEqual(expected, template.Render([], options));

        options.Variables["v"] = JsonNode.Parse(json);
        Assert.AreEqual(expected, template.Render([], options));
    }

    [TestMethod]
    public void StrftimeNowUsesTheLocalClock()
    {
        var template = ChatTemplate.Parse("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d') }}");
        string before = DateTime.Now.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        string text = template.Render([]);
        string after = DateTime.Now.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        string iso = text.Split('|')[1];
        Assert.IsTrue(iso == before || iso == after, text);

        var options = new ChatTemplateOptions { Clock = () => new DateTime(2024, 7, 26, 9, 5, 3) };
        Assert.AreEqual("26 Jul 2024|2024-07-26", template.Render([], options));
    }

    [TestMethod]
    public void ATemplateIsImmutableAndRendersConcurrently()
    {
        var template = ChatTemplate.Parse(
            "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + m.content|length %}{{ loop.index }}:{{ m.content }};{% endfor %}{{ ns.n }}|{{ who }}");
        string Render(int i)
        {
            var options = new ChatTemplateOptions();
            options.Variables["who"] = i;
            return template.Render([.. Enumerable.Range(0, i % 7).Select(k => new ChatMessage("user", new string('x', k + i)))], options);
        }

        var expected = Enumerable.Range(0, 200).Select(Render).ToArray();
        var actual = new string[200];
        Parallel.For(0, 200, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => actual[i] = Render(i));
        CollectionAssert.AreEqual(expected, actual);
        Assert.AreEqual("1:xxx;2:xxxx;3:xxxxx;12|3", Render(3));
    }

    [TestMethod]
    public void LongConversationsRenderQuickly()
    {
        var goldens = ChatTemplateGoldens.Root.GetProperty("templates");
        var template = ChatTemplate.Parse(goldens.GetProperty("qwen2.5").GetProperty("source").GetString()!);
        var messages = Enumerable.Range(0, 5000).Select(i => new ChatMessage(i % 2 == 0 ? "user" : "assistant", $"message {i}")).ToList();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        string text = template.Render(messages, new ChatTemplateOptions { AddGenerationPrompt = true });
        Assert.IsLessThan(TimeSpan.FromSeconds(5), watch.Elapsed);
        StringAssert.EndsWith(text, "<|im_start|>user\nmessage 4998<|im_end|>\n<|im_start|>assistant\nmessage 4999<|im_end|>\n<|im_start|>assistant\n");
    }
}
