using System.Diagnostics;

namespace MLNetTransformers.Tokenizers.Tests.ChatTemplates;

/// <summary>Syntax errors, run-time errors and the limits that keep a hostile template from hanging the process.</summary>
[TestClass]
public sealed class ChatTemplateErrorTests
{
    private static readonly ChatMessage[] OneUser = [new("user", "hi")];

    private static ChatTemplateException RenderError(string source, ChatTemplateOptions? options = null) =>
        Assert.ThrowsExactly<ChatTemplateException>(() => ChatTemplate.Parse(source).Render(OneUser, options));

    [TestMethod]
    public void SyntaxErrorNamesLineColumnAndWhatWasExpected()
    {
        var ex = Assert.ThrowsExactly<ChatTemplateException>(() => ChatTemplate.Parse("{% for x in y %}\n{{ x }}\n{% endif %}"));
        Assert.AreEqual(3, ex.Line);
        Assert.AreEqual(4, ex.Column);
        Assert.AreEqual(
            "Chat template syntax error at line 3, column 4: Encountered unknown tag 'endif'. Jinja was looking for the following tags: "
            + "'endfor' or 'else'. The innermost block that needs to be closed is 'for'.",
            ex.Message);
    }

    [TestMethod]
    public void UnexpectedEndOfTemplateIsReportedAtTheEnd()
    {
        var ex = Assert.ThrowsExactly<ChatTemplateException>(() => ChatTemplate.Parse("{{ x "));
        Assert.AreEqual(1, ex.Line);
        Assert.AreEqual(6, ex.Column);
        StringAssert.Contains(ex.Message, "unexpected end of template, expected 'end of print statement'.");
    }

    [TestMethod]
    public void SyntaxErrorColumnPointsAtTheOffendingToken()
    {
        var ex = Assert.ThrowsExactly<ChatTemplateException>(() => ChatTemplate.Parse("line1\nline2 {{ 1 + }}"));
        Assert.AreEqual((2, 14), (ex.Line, ex.Column));
        StringAssert.Contains(ex.Message, "unexpected 'end of print statement'");

        ex = Assert.ThrowsExactly<ChatTemplateException>(() => ChatTemplate.Parse("{% set x = [1, 2 %}"));
        Assert.AreEqual((1, 19), (ex.Line, ex.Column));
        StringAssert.Contains(ex.Message, "unexpected '}', expected ']'");
    }

    [TestMethod]
    public void UnknownFilterIsASyntaxErrorUnlessInsideAnIf()
    {
        var ex = Assert.ThrowsExactly<ChatTemplateException>(() => ChatTemplate.Parse("{{ x|nosuch }}"));
        StringAssert.Contains(ex.Message, "No filter named 'nosuch'.");

        // Jinja defers the error to run time inside if statements and inline if-expressions
        var template = ChatTemplate.Parse("{% if false %}{{ x|nosuch }}{% endif %}ok");
        Assert.AreEqual("ok", template.Render([]));
        ex = Assert.ThrowsExactly<ChatTemplateException>(() => ChatTemplate.Parse("{% if true %}{{ x|nosuch }}{% endif %}").Render([]));
        StringAssert.StartsWith(ex.Message, "No filter named 'nosuch' found.");
    }

    [TestMethod]
    public void UnsupportedTagsAreRejectedAtParseTime()
    {
        foreach (string tag in new[] { "{% include 'x' %}", "{% extends 'x' %}", "{% import 'x' as y %}", "{% block b %}{% endblock %}" })
        {
            var ex = Assert.ThrowsExactly<ChatTemplateException>(() => ChatTemplate.Parse(tag), tag);
            StringAssert.Contains(ex.Message, "not supported", tag);
        }
    }

    [TestMethod]
    public void RaiseExceptionMessageIsTheTemplatesText()
    {
        var ex = RenderError("a\n  {{ raise_exception('Conversation roles must ' ~ 'alternate!') }}");
        Assert.AreEqual("Conversation roles must alternate!", ex.Message);
        Assert.AreEqual(2, ex.Line);
        Assert.AreEqual(6, ex.Column);
    }

    [TestMethod]
    public void RaiseExceptionFromAMacroKeepsTheText()
    {
        var ex = RenderError("{% macro check(r) %}{% if r != 'system' %}{{ raise_exception('bad role: ' + r) }}{% endif %}{% endmacro %}"
            + "{% for m in messages %}{{ check(m.role) }}{% endfor %}");
        Assert.AreEqual("bad role: user", ex.Message);
    }

    [TestMethod]
    public void RuntimeErrorsCarryThePositionOfTheFailingExpression()
    {
        // the column of the innermost failing expression: an attribute access is at its dot, a call at its callee
        var ex = RenderError("{% if true %}\n  {{ messages[0].content.nope() }}{% endif %}");
        Assert.AreEqual("'str object' has no attribute 'nope' (line 2, column 25)", ex.Message);
        Assert.AreEqual((2, 25), (ex.Line, ex.Column));

        ex = RenderError("{{ 'a' + 1 }}");
        Assert.AreEqual("can only concatenate str (not \"int\") to str (line 1, column 4)", ex.Message);

        ex = RenderError("\n\n   {% macro m() %}{{ 1 / 0 }}{% endmacro %}\n{{ m() }}");
        Assert.AreEqual(3, ex.Line, "the error is inside the macro body");
        StringAssert.StartsWith(ex.Message, "division by zero");
    }

    [TestMethod]
    public void UndefinedRendersEmptyAndIsFalsyButFailsWhenUsed()
    {
        var template = ChatTemplate.Parse("[{{ nope }}][{{ messages[0].nope }}][{{ messages[9] }}]{% if nope %}T{% else %}F{% endif %}{% for x in nope %}x{% endfor %}{{ nope|length }}");
        Assert.AreEqual("[][][]F0", template.Render(OneUser));

        Assert.AreEqual("'nope' is undefined (line 1, column 8)", RenderError("{{ nope.attr }}").Message);
        Assert.AreEqual("'dict object' has no attribute 'missing'", RenderError("{{ messages[0].missing.attr }}").RawMessage());
        Assert.AreEqual("'nope' is undefined", RenderError("{{ nope + 1 }}").RawMessage());
        Assert.AreEqual("'nope' is undefined", RenderError("{{ nope() }}").RawMessage());
    }

    [TestMethod]
    public void MutatingListsAndDictsIsRefusedLikeTheImmutableSandbox()
    {
        Assert.AreEqual("access to attribute 'append' of 'list' object is unsafe.", RenderError("{{ messages.append(1) }}").RawMessage());
        Assert.AreEqual("access to attribute 'update' of 'dict' object is unsafe.", RenderError("{{ messages[0].update({}) }}").RawMessage());
    }

    [TestMethod]
    public void NestedLoopsStopAtTheIterationLimit()
    {
        var watch = Stopwatch.StartNew();
        var ex = RenderError("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}");
        StringAssert.Contains(ex.Message, "loop iterations");
        Assert.IsLessThan(TimeSpan.FromSeconds(20), watch.Elapsed);

        var options = new ChatTemplateOptions { MaxIterations = 50 };
        ex = RenderError("{% for i in range(100) %}{{ i }}{% endfor %}", options);
        StringAssert.Contains(ex.Message, "50 loop iterations");
        Assert.AreEqual("0123", ChatTemplate.Parse("{% for i in range(4) %}{{ i }}{% endfor %}").Render([], options));
    }

    [TestMethod]
    public void ExponentialMacroCallsStopAtTheIterationLimit()
    {
        var watch = Stopwatch.StartNew();
        var ex = RenderError("{% macro m(n) %}{% if n > 0 %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}{{ m(60) }}");
        StringAssert.Contains(ex.Message, "macro calls");
        Assert.IsLessThan(TimeSpan.FromSeconds(20), watch.Elapsed);
    }

    [TestMethod]
    public void InfiniteRecursionIsARecursionError()
    {
        var ex = RenderError("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}");
        StringAssert.StartsWith(ex.Message, "maximum recursion depth exceeded");
    }

    [TestMethod]
    public void HugeRangesAreRefusedLikeTheSandbox()
    {
        var ex = RenderError("{{ range(100001)|length }}");
        StringAssert.StartsWith(ex.Message, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
        Assert.AreEqual("100000", ChatTemplate.Parse("{{ range(100000)|length }}").Render([]));
    }

    [TestMethod]
    public void StringsAndListsCannotGrowWithoutBound()
    {
        StringAssert.Contains(RenderError("{{ 'x' * 1000000000 }}").Message, "longer than the limit");
        StringAssert.Contains(RenderError("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}").Message, "longer than the limit");
        StringAssert.Contains(RenderError("{{ ([1] * 100000000)|length }}").Message, "longer than the limit");
        var options = new ChatTemplateOptions { MaxStringLength = 10 };
        StringAssert.Contains(RenderError("{% for i in range(11) %}x{% endfor %}", options).Message, "longer than the limit");
    }

    [TestMethod]
    public void DeeplyNestedTemplatesFailCleanly()
    {
        string parens = "{{ " + new string('(', 5000) + "1" + new string(')', 5000) + " }}";
        var ex = Assert.ThrowsExactly<ChatTemplateException>(() => ChatTemplate.Parse(parens));
        StringAssert.Contains(ex.Message, "nested too deeply");

        string ifs = string.Concat(Enumerable.Repeat("{% if true %}", 1000)) + string.Concat(Enumerable.Repeat("{% endif %}", 1000));
        Assert.ThrowsExactly<ChatTemplateException>(() => ChatTemplate.Parse(ifs));

        string sum = "{{ 1" + string.Concat(Enumerable.Repeat(" + 1", 200000)) + " }}";
        try
        {
            Assert.AreEqual("200001", ChatTemplate.Parse(sum).Render([]));
        }
        catch (ChatTemplateException e)
        {
            StringAssert.Contains(e.Message, "deep"); // either renders or reports the nesting; never overflows the stack
        }
    }

    [TestMethod]
    public void DeeplyNestedValuesFailCleanly()
    {
        var ex = RenderError("{% set ns = namespace(x=[]) %}{% for i in range(5000) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x }}");
        StringAssert.StartsWith(ex.Message, "maximum recursion depth exceeded");

        object? nested = "leaf";
        for (int i = 0; i < 1000; i++)
        {
            nested = new List<object?> { nested };
        }

        var options = new ChatTemplateOptions();
        options.Variables["deep"] = nested;
        Assert.ThrowsExactly<ArgumentException>(() => ChatTemplate.Parse("{{ deep }}").Render([], options));
    }

    [TestMethod]
    public void BreakOutsideALoopIsASyntaxError()
    {
        var ex = Assert.ThrowsExactly<ChatTemplateException>(() => ChatTemplate.Parse("{% if true %}{% break %}{% endif %}"));
        StringAssert.Contains(ex.Message, "'break' outside loop");
    }

    [TestMethod]
    public void ExceptionHasTheStandardConstructors()
    {
        Assert.IsFalse(string.IsNullOrEmpty(new ChatTemplateException().Message));
        Assert.AreEqual("m", new ChatTemplateException("m").Message);
        var inner = new InvalidOperationException();
        Assert.AreSame(inner, new ChatTemplateException("m", inner).InnerException);
        Assert.AreEqual(0, new ChatTemplateException("m").Line);
    }
}

internal static class ChatTemplateExceptionExtensions
{
    /// <summary>The message without the position suffix.</summary>
    public static string RawMessage(this ChatTemplateException ex) => ex.RawMessage;
}
