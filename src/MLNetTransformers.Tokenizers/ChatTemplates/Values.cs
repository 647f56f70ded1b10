using System.Runtime.CompilerServices;

namespace MLNetTransformers.Tokenizers.ChatTemplates;

// The template's values are Python's: null (None), bool, long (int), double (float), string (str), List<object?> (list),
// PyTuple, PyDict, PyRange, PyIterator (generators and other one-shot iterators), PyDictView, PyNamespace, Undefined,
// LoopContext and the callables below.

/// <summary>The limits that keep a hostile template from hanging or exhausting memory.</summary>
internal static class ChatTemplateLimits
{
    public const int DefaultMaxIterations = 1_000_000;

    public const int DefaultMaxStringLength = 16 * 1024 * 1024;

    /// <summary>The deepest macro recursion (Python's own recursion limit stops Jinja a little deeper).</summary>
    public const int MaxCallDepth = 200;

    /// <summary>The sandbox's <c>MAX_RANGE</c>.</summary>
    public const int MaxRange = 100_000;

    /// <summary>The longest list a template may build.</summary>
    public const int MaxCollectionLength = 10_000_000;

    /// <summary>The deepest nesting of input values converted for the template.</summary>
    public const int MaxInputDepth = 128;

    /// <summary>The deepest nesting <c>repr</c> and <c>tojson</c> write (Python stops near its recursion limit of 1000).</summary>
    public const int MaxOutputDepth = 900;
}

/// <summary>Jinja's default <c>Undefined</c>: renders as "", is falsy, iterates as empty; most other uses fail.</summary>
internal sealed class Undefined
{
    private static readonly object Missing = new();

    private readonly object? _obj;
    private readonly object? _name;

    private Undefined(string? hint, object? obj, object? name, string kind)
    {
        Hint = hint;
        _obj = obj;
        _name = name;
        Kind = kind;
    }

    public string? Hint { get; }

    /// <summary>The exception class the failure raises (UndefinedError, or SecurityError for an unsafe attribute).</summary>
    public string Kind { get; }

    public static Undefined Named(string name) => new(null, Missing, name, "UndefinedError");

    public static Undefined WithHint(string hint) => new(hint, Missing, null, "UndefinedError");

    public static Undefined Attribute(object? obj, object? name) => new(null, obj, name, "UndefinedError");

    public static Undefined Unsafe(object? obj, string name) =>
        new($"access to attribute '{name}' of '{PyOps.TypeName(obj)}' object is unsafe.", obj, name, "SecurityError");

    public string Message
    {
        get
        {
            if (Hint is not null)
            {
                return Hint;
            }

            if (ReferenceEquals(_obj, Missing))
            {
                return $"{PyRepr.Repr(_name)} is undefined";
            }

            if (_name is not string)
            {
                return $"{PyOps.ObjectTypeRepr(_obj)} has no element {PyRepr.Repr(_name)}";
            }

            return $"{PyRepr.Quote(PyOps.ObjectTypeRepr(_obj))} has no attribute {PyRepr.Repr(_name)}";
        }
    }

    public ChatTemplateException Fail() => ChatTemplateException.Runtime(Kind, Message);
}

/// <summary>A Python tuple (and the named tuples of <c>groupby</c>).</summary>
internal sealed class PyTuple(object?[] items, string[]? names = null)
{
    public static readonly PyTuple Empty = new([]);

    public object?[] Items { get; } = items;

    /// <summary>Field names of a named tuple (null otherwise).</summary>
    public string[]? Names { get; } = names;

    public int Count => Items.Length;
}

/// <summary>A Python <c>range</c>.</summary>
internal sealed class PyRange(long start, long stop, long step)
{
    public long Start { get; } = start;

    public long Stop { get; } = stop;

    public long Step { get; } = step;

    public long Length => Step > 0
        ? (Stop > Start ? ((Stop - Start - 1) / Step) + 1 : 0)
        : (Start > Stop ? ((Start - Stop - 1) / -Step) + 1 : 0);

    public long this[long index] => Start + (index * Step);

    public IEnumerable<object?> Values()
    {
        long n = Length;
        for (long i = 0; i < n; i++)
        {
            yield return this[i];
        }
    }
}

/// <summary>A one-shot Python iterator (a generator from <c>map</c>, <c>select</c>, ..., or <c>reversed()</c>): no length,
/// always truthy, exhausted once iterated.</summary>
internal sealed class PyIterator(IEnumerable<object?> source, string typeName)
{
    private IEnumerator<object?>? _enumerator;

    public string TypeName { get; } = typeName;

    public IEnumerable<object?> Consume()
    {
        _enumerator ??= source.GetEnumerator();
        while (_enumerator.MoveNext())
        {
            yield return _enumerator.Current;
        }
    }
}

internal enum DictViewKind
{
    Keys,
    Values,
    Items,
}

/// <summary><c>dict.keys()</c>, <c>dict.values()</c>, <c>dict.items()</c>.</summary>
internal sealed class PyDictView(PyDict dict, DictViewKind kind)
{
    public PyDict Dict { get; } = dict;

    public DictViewKind Kind { get; } = kind;

    public IEnumerable<object?> Values() => Kind switch
    {
        DictViewKind.Keys => Dict.Keys,
        DictViewKind.Values => Dict.Entries.Select(e => e.Value),
        _ => Dict.Entries.Select(e => (object?)new PyTuple([e.Key, e.Value])),
    };
}

/// <summary>Jinja's <c>namespace(...)</c>: the one mutable object (<c>{% set ns.attr = ... %}</c>).</summary>
internal sealed class PyNamespace
{
    public PyDict Attributes { get; } = new();
}

/// <summary>A Python dict: insertion-ordered, keys compared with Python's equality (1 == 1.0 == True).</summary>
internal sealed class PyDict
{
    private readonly List<KeyValuePair<object?, object?>> _entries = [];
    private readonly Dictionary<PyKey, int> _index = [];

    public int Count => _entries.Count;

    public IReadOnlyList<KeyValuePair<object?, object?>> Entries => _entries;

    public IEnumerable<object?> Keys => _entries.Select(e => e.Key);

    public bool TryGetValue(object? key, out object? value)
    {
        if (_index.TryGetValue(PyKey.Of(key), out int i))
        {
            value = _entries[i].Value;
            return true;
        }

        value = null;
        return false;
    }

    public bool ContainsKey(object? key) => _index.ContainsKey(PyKey.Of(key));

    /// <summary>Sets a key (an existing key keeps its place and its original key object, as in Python).</summary>
    public void Set(object? key, object? value)
    {
        var k = PyKey.Of(key);
        if (_index.TryGetValue(k, out int i))
        {
            _entries[i] = new KeyValuePair<object?, object?>(_entries[i].Key, value);
        }
        else
        {
            _index[k] = _entries.Count;
            _entries.Add(new KeyValuePair<object?, object?>(key, value));
        }
    }
}

/// <summary>A dict key with Python's hashing and equality; unhashable values (list, dict) fail with TypeError.</summary>
internal readonly struct PyKey : IEquatable<PyKey>
{
    private readonly object? _value;
    private readonly int _hash;

    private PyKey(object? value, int hash)
    {
        _value = value;
        _hash = hash;
    }

    public static PyKey Of(object? value) => new(value, Hash(value));

    public static int Hash(object? value)
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        return HashCore(value);
    }

    private static int HashCore(object? value) => value switch
    {
        null => 0x5f3759df,
        bool b => b ? 1 : 0,
        long l => l.GetHashCode(),
        double d when Math.Floor(d) == d && d >= long.MinValue && d < long.MaxValue => ((long)d).GetHashCode(),
        double d => d.GetHashCode(),
        string s => StringComparer.Ordinal.GetHashCode(s),
        PyTuple t => t.Items.Aggregate(0x345678, (h, item) => HashCode.Combine(h, Hash(item))),
        List<object?> or PyDict or PyDictView => throw ChatTemplateException.Runtime("TypeError", $"unhashable type: '{PyOps.TypeName(value)}'"),
        Undefined => 0x0ddba11,
        _ => RuntimeHelpers.GetHashCode(value),
    };

    public bool Equals(PyKey other) => _hash == other._hash && PyOps.Eq(_value, other._value);

    public override bool Equals(object? obj) => obj is PyKey other && Equals(other);

    public override int GetHashCode() => _hash;
}

/// <summary>Arguments of a call: positional, then keyword (in order).</summary>
internal sealed class CallArgs(List<object?> positional, List<KeyValuePair<string, object?>> keywords)
{
    public static readonly CallArgs None = new([], []);

    public List<object?> Positional { get; } = positional;

    public List<KeyValuePair<string, object?>> Keywords { get; } = keywords;

    public static CallArgs Of(params object?[] positional) => new([.. positional], []);

    /// <summary>Binds the arguments to parameters like a Python function <c>def name(p0, p1=d1, ...)</c>.</summary>
    /// <param name="function">The function's name, for errors.</param>
    /// <param name="names">The parameter names.</param>
    /// <param name="required">How many leading parameters have no default.</param>
    /// <param name="defaults">The defaults of the parameters from <paramref name="required"/> on.</param>
    public object?[] Bind(string function, string[] names, int required, params object?[] defaults)
    {
        if (Positional.Count > names.Length)
        {
            throw ChatTemplateException.Runtime("TypeError",
                $"{function}() takes {(required == names.Length ? "" : "from " + required + " to ")}{names.Length} positional arguments but {Positional.Count} were given");
        }

        var values = new object?[names.Length];
        var set = new bool[names.Length];
        for (int i = 0; i < Positional.Count; i++)
        {
            values[i] = Positional[i];
            set[i] = true;
        }

        foreach (var (key, value) in Keywords)
        {
            int i = Array.IndexOf(names, key);
            if (i < 0)
            {
                throw ChatTemplateException.Runtime("TypeError", $"{function}() got an unexpected keyword argument '{key}'");
            }

            if (set[i])
            {
                throw ChatTemplateException.Runtime("TypeError", $"{function}() got multiple values for argument '{key}'");
            }

            values[i] = value;
            set[i] = true;
        }

        for (int i = 0; i < names.Length; i++)
        {
            if (!set[i])
            {
                if (i < required)
                {
                    throw ChatTemplateException.Runtime("TypeError", $"{function}() missing required argument: '{names[i]}'");
                }

                values[i] = defaults[i - required];
            }
        }

        return values;
    }
}

/// <summary>Something a template can call.</summary>
internal abstract class PyCallable
{
    public abstract string Name { get; }

    public abstract object? Call(Interpreter interpreter, CallArgs args);
}

/// <summary>A global function (<c>range</c>, <c>namespace</c>, <c>raise_exception</c>, ...).</summary>
internal sealed class BuiltinFunction(string name, Func<Interpreter, CallArgs, object?> function) : PyCallable
{
    public override string Name { get; } = name;

    public override object? Call(Interpreter interpreter, CallArgs args) => function(interpreter, args);
}

/// <summary>A method bound to its object (<c>'x'.upper</c>, <c>d.items</c>, <c>loop.cycle</c>).</summary>
internal sealed class BoundMethod(object? self, string name, Func<Interpreter, object?, CallArgs, object?> function) : PyCallable
{
    public object? Self { get; } = self;

    public override string Name { get; } = name;

    public override object? Call(Interpreter interpreter, CallArgs args) => function(interpreter, Self, args);
}

/// <summary>A macro, closed over the scope it was defined in.</summary>
internal sealed class MacroValue(MacroDef definition, Scope scope) : PyCallable
{
    public MacroDef Definition { get; } = definition;

    public Scope Scope { get; } = scope;

    public override string Name => Definition.Name;

    public override object? Call(Interpreter interpreter, CallArgs args) => interpreter.CallMacro(this, args);
}

/// <summary>Jinja's <c>loop</c> variable.</summary>
internal sealed class LoopContext(List<object?> items, int depth0, Func<object?, int, string>? recurse)
{
    private object? _lastChanged = Missing;

    private static readonly object Missing = new();

    public List<object?> Items { get; } = items;

    public int Index0 { get; set; }

    public int Depth0 { get; } = depth0;

    public int Length => Items.Count;

    public Func<object?, int, string>? Recurse { get; } = recurse;

    public object? GetAttribute(string name) => name switch
    {
        "index" => (long)(Index0 + 1),
        "index0" => (long)Index0,
        "revindex" => (long)(Length - Index0),
        "revindex0" => (long)(Length - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == Length - 1,
        "length" => (long)Length,
        "depth" => (long)(Depth0 + 1),
        "depth0" => (long)Depth0,
        "previtem" => Index0 > 0 ? Items[Index0 - 1] : Undefined.WithHint("there is no previous item"),
        "nextitem" => Index0 < Length - 1 ? Items[Index0 + 1] : Undefined.WithHint("there is no next item"),
        "cycle" => new BoundMethod(this, "cycle", static (_, self, args) =>
        {
            var loop = (LoopContext)self!;
            if (args.Positional.Count == 0)
            {
                throw ChatTemplateException.Runtime("TypeError", "no items for cycling given");
            }

            return args.Positional[loop.Index0 % args.Positional.Count];
        }),
        "changed" => new BoundMethod(this, "changed", static (_, self, args) =>
        {
            var loop = (LoopContext)self!;
            var value = new PyTuple([.. args.Positional]);
            if (ReferenceEquals(loop._lastChanged, Missing) || !PyOps.Eq(loop._lastChanged, value))
            {
                loop._lastChanged = value;
                return true;
            }

            return false;
        }),
        _ => Undefined.Attribute(this, name),
    };
}

/// <summary>A chain of variable scopes: the globals and render variables at the root, then the template, loop iterations and
/// macro calls.</summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, object?> _vars = new(StringComparer.Ordinal);

    public Scope? Parent { get; } = parent;

    public bool TryGet(string name, out object? value)
    {
        for (var s = this; s is not null; s = s.Parent)
        {
            if (s._vars.TryGetValue(name, out value))
            {
                return true;
            }
        }

        value = null;
        return false;
    }

    public void Set(string name, object? value) => _vars[name] = value;
}
