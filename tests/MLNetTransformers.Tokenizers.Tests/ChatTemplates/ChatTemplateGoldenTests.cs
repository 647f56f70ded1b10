using System.Text.Json;

namespace MLNetTransformers.Tokenizers.Tests.ChatTemplates;

/// <summary>
/// Every case of TestData/chat_templates/goldens.json: real chat templates of widely used models and small templates aimed
/// at one feature each, rendered by Python's jinja2 the way transformers renders them (generate_goldens.py). The output must
/// be identical; an expected error must be a <see cref="ChatTemplateException"/> of the same kind, with the same message
/// (and for syntax errors the same line).
/// </summary>
[TestClass]
public sealed class ChatTemplateGoldenTests
{
    // Python reports these errors with the text of a different layer; the kind and the line still have to match.
    private static readonly HashSet<string> MessageMayDiffer = new(StringComparer.Ordinal)
    {
        "feature:syntax/break_outside_loop", // Python: SyntaxError from compiling the generated module ("line 11" of the module)
    };

    public static IEnumerable<object[]> CaseNames => ChatTemplateGoldens.Cases.Select(c => new object[] { c.GetProperty("name").GetString()! });

    [TestMethod]
    public void GoldensCoverRealTemplatesAndFeatures()
    {
        var root = ChatTemplateGoldens.Root;
        StringAssert.Contains(root.GetProperty("generator").GetString(), "jinja2");
        var cases = ChatTemplateGoldens.Cases.ToList();
        Assert.IsGreaterThanOrEqualTo(200, cases.Count);
        int real = cases.Count(c => !c.GetProperty("template").GetString()!.StartsWith("feature:", StringComparison.Ordinal));
        Assert.IsGreaterThanOrEqualTo(40, real);
    }

    [TestMethod]
    [DynamicData(nameof(CaseNames))]
    public void RendersLikePythonJinja2(string name)
    {
        JsonElement c = ChatTemplateGoldens.Case(name);
        string source = ChatTemplateGoldens.Source(c);
        JsonElement error = c.GetProperty("error");

        if (error.ValueKind == JsonValueKind.Object)
        {
            AssertError(name, source, c, error);
            return;
        }

        string expected = c.GetProperty("expected").GetString()!;
        var template = ChatTemplate.Parse(source);
        string actual = template.Render(ChatTemplateGoldens.Messages(c), ChatTemplateGoldens.Options(c));
        if (actual != expected)
        {
            int i = 0;
            while (i < actual.Length && i < expected.Length && actual[i] == expected[i])
            {
                i++;
            }

            Assert.Fail($"{name}: first difference at {i}.\nexpected: {Escape(expected[Math.Max(0, i - 40)..Math.Min(expected.Length, i + 60)])}\nactual:   {Escape(actual[Math.Max(0, i - 40)..Math.Min(actual.Length, i + 60)])}");
        }
    }

    private static string Escape(string s) => s.Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal);

    private static void AssertError(string name, string source, JsonElement c, JsonElement error)
    {
        string type = error.GetProperty("type").GetString()!;
        string message = error.GetProperty("message").GetString()!;
        bool syntax = type is "TemplateSyntaxError" or "TemplateAssertionError" or "SyntaxError";
        ChatTemplateException ex;
        if (syntax)
        {
            ex = Assert.ThrowsExactly<ChatTemplateException>(() => ChatTemplate.Parse(source), name);
            Assert.AreEqual("TemplateSyntaxError", ex.Kind, name);
            if (error.TryGetProperty("line", out var line))
            {
                Assert.AreEqual(line.GetInt32(), ex.Line, $"{name}: line of {ex.Message}");
            }

            Assert.IsGreaterThan(0, ex.Column, name);
            StringAssert.Contains(ex.Message, $"line {ex.Line}, column {ex.Column}", name);
        }
        else
        {
            var template = ChatTemplate.Parse(source);
            ex = Assert.ThrowsExactly<ChatTemplateException>(() => template.Render(ChatTemplateGoldens.Messages(c), ChatTemplateGoldens.Options(c)), name);
            Assert.AreEqual(type, ex.Kind, $"{name}: {ex.Message}");
            Assert.IsGreaterThan(0, ex.Line, name);
            if (type == "TemplateError")
            {
                Assert.AreEqual(message, ex.Message, $"{name}: raise_exception's text is the message");
            }
        }

        if (!MessageMayDiffer.Contains(name))
        {
            Assert.AreEqual(message, ex.RawMessage, name);
        }
    }
}
