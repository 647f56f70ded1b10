namespace MLNetTransformers.Tokenizers.ChatTemplates;

/// <summary>Jinja's tests (<c>x is name(args)</c>).</summary>
internal static class Tests
{
    private delegate bool TestFunction(Interpreter interpreter, object? value, CallArgs args);

    private static readonly Dictionary<string, TestFunction> All = Build();

    public static bool Exists(string name) => All.ContainsKey(name);

    public static bool Call(Interpreter interpreter, string name, object? value, CallArgs args) =>
        All.TryGetValue(name, out var test)
            ? test(interpreter, value, args)
            : throw ChatTemplateException.Runtime("TemplateRuntimeError", $"No test named '{name}' found.");

    private static TestFunction NoArgs(string name, Func<object?, bool> f) => (_, v, a) =>
    {
        a.Bind($"test_{name}", [], 0);
        return f(v);
    };

    private static TestFunction Compare(string op) => (_, v, a) => PyOps.CompareOp(op, v, a.Bind("compare", ["other"], 1)[0]);

    private static Dictionary<string, TestFunction> Build()
    {
        var t = new Dictionary<string, TestFunction>(StringComparer.Ordinal)
        {
            ["odd"] = NoArgs("odd", v => PyOps.Eq(PyOps.Mod(v, 2L), 1L)),
            ["even"] = NoArgs("even", v => PyOps.Eq(PyOps.Mod(v, 2L), 0L)),
            ["divisibleby"] = (_, v, a) => PyOps.Eq(PyOps.Mod(v, a.Bind("test_divisibleby", ["num"], 1)[0]), 0L),
            ["defined"] = NoArgs("defined", v => v is not Undefined),
            ["undefined"] = NoArgs("undefined", v => v is Undefined),
            ["filter"] = NoArgs("filter", v => v is string s && Filters.Exists(s)),
            ["test"] = NoArgs("test", v => v is string s && Exists(s)),
            ["none"] = NoArgs("none", v => v is null),
            ["boolean"] = NoArgs("boolean", v => v is bool),
            ["false"] = NoArgs("false", v => v is false),
            ["true"] = NoArgs("true", v => v is true),
            ["integer"] = NoArgs("integer", v => v is long),
            ["float"] = NoArgs("float", v => v is double),
            ["lower"] = NoArgs("lower", v => PyString.IsLowerStr(PyRepr.Str(v))),
            ["upper"] = NoArgs("upper", v => PyString.IsUpperStr(PyRepr.Str(v))),
            ["string"] = NoArgs("string", v => v is string),
            ["mapping"] = NoArgs("mapping", v => v is PyDict),
            ["number"] = NoArgs("number", PyOps.IsNumber),
            ["sequence"] = NoArgs("sequence", v => v is string or List<object?> or PyTuple or PyDict or PyRange or Undefined),
            ["iterable"] = NoArgs("iterable", v => PyOps.IsIterable(v) || v is LoopContext),
            ["callable"] = NoArgs("callable", v => v is PyCallable or LoopContext or Undefined),
            ["sameas"] = (_, v, a) =>
            {
                object? other = a.Bind("test_sameas", ["other"], 1)[0];
                return ReferenceEquals(v, other) || (v is null && other is null) || (v is bool x && other is bool y && x == y)
                    || (v is long l && other is long m && l == m && l >= -5 && l <= 256);
            },
            ["escaped"] = NoArgs("escaped", _ => false),
            ["in"] = (_, v, a) => PyOps.Contains(a.Bind("test_in", ["seq"], 1)[0], v),
            ["=="] = Compare("=="),
            ["eq"] = Compare("=="),
            ["equalto"] = Compare("=="),
            ["!="] = Compare("!="),
            ["ne"] = Compare("!="),
            [">"] = Compare(">"),
            ["gt"] = Compare(">"),
            ["greaterthan"] = Compare(">"),
            [">="] = Compare(">="),
            ["ge"] = Compare(">="),
            ["<"] = Compare("<"),
            ["lt"] = Compare("<"),
            ["lessthan"] = Compare("<"),
            ["<="] = Compare("<="),
            ["le"] = Compare("<="),
        };
        return t;
    }
}
