using System.Runtime.CompilerServices;

namespace MLNetTransformers.Tokenizers.ChatTemplates;

/// <summary>A Python slice object (<c>x[start:stop:step]</c>); parts are null, long or bool.</summary>
internal sealed class PySlice(object? start, object? stop, object? step)
{
    public object? Start { get; } = start;

    public object? Stop { get; } = stop;

    public object? Step { get; } = step;

    public bool IsValid => IsIndex(Start) && IsIndex(Stop) && IsIndex(Step);

    private static bool IsIndex(object? v) => v is null or long or bool;

    private static long? Value(object? v) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        _ => null,
    };

    /// <summary>Python's <c>slice.indices(length)</c> plus the number of items selected.</summary>
    public (long Start, long Stop, long Step, long Count) Indices(long length)
    {
        long step = Value(Step) ?? 1;
        if (step == 0)
        {
            throw ChatTemplateException.Runtime("ValueError", "slice step cannot be zero");
        }

        long lower = step < 0 ? -1 : 0;
        long upper = step < 0 ? length - 1 : length;
        long start = Adjust(Value(Start), step < 0 ? upper : lower);
        long stop = Adjust(Value(Stop), step < 0 ? lower : upper);

        long Adjust(long? v, long dflt)
        {
            if (v is null)
            {
                return dflt;
            }

            long x = v.Value;
            if (x < 0)
            {
                x += length;
                return x < lower ? lower : x;
            }

            return x > upper ? upper : x;
        }

        long count = step > 0
            ? (stop > start ? ((stop - start - 1) / step) + 1 : 0)
            : (start > stop ? ((start - stop - 1) / -step) + 1 : 0);
        return (start, stop, step, count);
    }
}

/// <summary>Python semantics of the template's values.</summary>
internal static class PyOps
{
    public static string TypeName(object? v) => v switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        PyTuple => "tuple",
        PyDict => "dict",
        PyRange => "range",
        PySlice => "slice",
        PyIterator it => it.TypeName,
        PyDictView dv => dv.Kind switch { DictViewKind.Keys => "dict_keys", DictViewKind.Values => "dict_values", _ => "dict_items" },
        PyNamespace => "Namespace",
        Undefined => "Undefined",
        LoopContext => "LoopContext",
        MacroValue => "Macro",
        BoundMethod => "builtin_function_or_method",
        PyCallable => "function",
        _ => v.GetType().Name,
    };

    /// <summary>Jinja's <c>object_type_repr</c>.</summary>
    public static string ObjectTypeRepr(object? v) => v switch
    {
        null => "None",
        PyNamespace => "jinja2.utils.Namespace object",
        LoopContext => "jinja2.runtime.LoopContext object",
        MacroValue => "jinja2.runtime.Macro object",
        Undefined => "jinja2.runtime.Undefined object",
        _ => TypeName(v) + " object",
    };

    public static bool Truthy(object? v) => v switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> l => l.Count > 0,
        PyTuple t => t.Count > 0,
        PyDict d => d.Count > 0,
        PyRange r => r.Length > 0,
        PyDictView dv => dv.Dict.Count > 0,
        Undefined => false,
        _ => true,
    };

    public static bool IsInt(object? v) => v is long or bool;

    public static bool IsNumber(object? v) => v is long or bool or double;

    public static long AsLong(object? v) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw new InvalidCastException(),
    };

    public static double AsDouble(object? v) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        double d => d,
        _ => throw new InvalidCastException(),
    };

    private static ChatTemplateException TypeError(string message) => ChatTemplateException.Runtime("TypeError", message);

    public static bool Eq(object? a, object? b)
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        if (a is Undefined || b is Undefined)
        {
            return a is Undefined && b is Undefined;
        }

        if (IsNumber(a) && IsNumber(b))
        {
            return IsInt(a) && IsInt(b) ? AsLong(a) == AsLong(b) : AsDouble(a) == AsDouble(b);
        }

        switch (a)
        {
            case null:
                return b is null;
            case string sa:
                return b is string sb && string.Equals(sa, sb, StringComparison.Ordinal);
            case List<object?> la:
                return b is List<object?> lb && SequenceEq(la, lb);
            case PyTuple ta:
                return b is PyTuple tb && SequenceEq(ta.Items, tb.Items);
            case PyDict da:
                if (b is not PyDict db || da.Count != db.Count)
                {
                    return false;
                }

                foreach (var (k, v) in da.Entries)
                {
                    if (!db.TryGetValue(k, out object? other) || !Eq(v, other))
                    {
                        return false;
                    }
                }

                return true;
            case PyRange ra:
                return b is PyRange rb && ra.Length == rb.Length
                    && (ra.Length == 0 || (ra.Start == rb.Start && (ra.Length == 1 || ra.Step == rb.Step)));
            default:
                return ReferenceEquals(a, b) || Equals(a, b);
        }
    }

    private static bool SequenceEq(IReadOnlyList<object?> a, IReadOnlyList<object?> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        for (int i = 0; i < a.Count; i++)
        {
            if (!ReferenceEquals(a[i], b[i]) && !Eq(a[i], b[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The result of <see cref="Compare"/> when a float operand is NaN (every ordering is false).</summary>
    public const int Unordered = int.MinValue;

    /// <summary>Python's ordering for <c>&lt; &lt;= &gt; &gt;=</c> and sorting: -1, 0, 1 or <see cref="Unordered"/>;
    /// mismatched types raise TypeError.</summary>
    public static int Compare(object? a, object? b, string op = "<")
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        if (a is Undefined ua)
        {
            throw ua.Fail();
        }

        if (b is Undefined ub)
        {
            throw ub.Fail();
        }

        if (IsNumber(a) && IsNumber(b))
        {
            if (IsInt(a) && IsInt(b))
            {
                return Math.Sign(AsLong(a).CompareTo(AsLong(b)));
            }

            double x = AsDouble(a);
            double y = AsDouble(b);
            return x < y ? -1 : x > y ? 1 : x == y ? 0 : Unordered;
        }

        switch (a)
        {
            case string sa when b is string sb:
                return CompareCodePoints(sa, sb);
            case List<object?> la when b is List<object?> lb:
                return CompareSequences(la, lb, op);
            case PyTuple ta when b is PyTuple tb:
                return CompareSequences(ta.Items, tb.Items, op);
        }

        throw TypeError($"'{op}' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'");
    }

    private static int CompareSequences(IReadOnlyList<object?> a, IReadOnlyList<object?> b, string op)
    {
        int n = Math.Min(a.Count, b.Count);
        for (int i = 0; i < n; i++)
        {
            if (!Eq(a[i], b[i]))
            {
                return Compare(a[i], b[i], op);
            }
        }

        return Math.Sign(a.Count - b.Count);
    }

    /// <summary>Orders strings by code point (UTF-16 order differs for characters above U+FFFF).</summary>
    public static int CompareCodePoints(string a, string b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            char x = a[i];
            char y = b[i];
            if (x != y)
            {
                bool xs = char.IsSurrogate(x);
                bool ys = char.IsSurrogate(y);
                if (xs != ys)
                {
                    // a surrogate (part of a code point >= U+10000) sorts after any BMP character
                    return xs ? 1 : -1;
                }

                return x < y ? -1 : 1;
            }
        }

        return Math.Sign(a.Length - b.Length);
    }

    /// <summary>Evaluates a comparison operator.</summary>
    public static bool CompareOp(string op, object? a, object? b)
    {
        switch (op)
        {
            case "==": return Eq(a, b);
            case "!=": return !Eq(a, b);
            case "in": return Contains(b, a);
            case "notin": return !Contains(b, a);
        }

        int c = Compare(a, b, op);
        if (c == Unordered)
        {
            return false; // NaN
        }

        return op switch
        {
            "<" => c < 0,
            "<=" => c <= 0,
            ">" => c > 0,
            _ => c >= 0,
        };
    }

    private static void Fail(object? a, object? b)
    {
        if (a is Undefined ua)
        {
            throw ua.Fail();
        }

        if (b is Undefined ub)
        {
            throw ub.Fail();
        }
    }

    private static ChatTemplateException Unsupported(string op, object? a, object? b) =>
        TypeError($"unsupported operand type(s) for {op}: '{TypeName(a)}' and '{TypeName(b)}'");

    public static object? Add(object? a, object? b, int maxString)
    {
        Fail(a, b);
        if (IsInt(a) && IsInt(b))
        {
            return Checked(() => checked(AsLong(a) + AsLong(b)));
        }

        if (IsNumber(a) && IsNumber(b))
        {
            return AsDouble(a) + AsDouble(b);
        }

        switch (a)
        {
            case string sa when b is string sb:
                CheckLength((long)sa.Length + sb.Length, maxString);
                return sa + sb;
            case string:
                throw TypeError($"can only concatenate str (not \"{TypeName(b)}\") to str");
            case List<object?> la when b is List<object?> lb:
                CheckCount((long)la.Count + lb.Count);
                return new List<object?>(la.Concat(lb));
            case List<object?>:
                throw TypeError($"can only concatenate list (not \"{TypeName(b)}\") to list");
            case PyTuple ta when b is PyTuple tb:
                CheckCount((long)ta.Count + tb.Count);
                return new PyTuple([.. ta.Items, .. tb.Items]);
            case PyTuple:
                throw TypeError($"can only concatenate tuple (not \"{TypeName(b)}\") to tuple");
        }

        throw Unsupported("+", a, b);
    }

    public static object? Sub(object? a, object? b)
    {
        Fail(a, b);
        if (IsInt(a) && IsInt(b))
        {
            return Checked(() => checked(AsLong(a) - AsLong(b)));
        }

        if (IsNumber(a) && IsNumber(b))
        {
            return AsDouble(a) - AsDouble(b);
        }

        throw Unsupported("-", a, b);
    }

    public static object? Mul(object? a, object? b, int maxString)
    {
        Fail(a, b);
        if (IsInt(a) && IsInt(b))
        {
            return Checked(() => checked(AsLong(a) * AsLong(b)));
        }

        if (IsNumber(a) && IsNumber(b))
        {
            return AsDouble(a) * AsDouble(b);
        }

        if (IsInt(a) && b is string or List<object?> or PyTuple)
        {
            (a, b) = (b, a);
        }

        if (IsInt(b))
        {
            long n = Math.Max(0, AsLong(b));
            switch (a)
            {
                case string s:
                    CheckLength(s.Length * (double)n, maxString);
                    return PyString.Repeat(s, n);
                case List<object?> l:
                    CheckCount(l.Count * (double)n);
                    var list = new List<object?>();
                    for (long i = 0; i < n; i++)
                    {
                        list.AddRange(l);
                    }

                    return list;
                case PyTuple t:
                    CheckCount(t.Count * (double)n);
                    var items = new List<object?>();
                    for (long i = 0; i < n; i++)
                    {
                        items.AddRange(t.Items);
                    }

                    return new PyTuple([.. items]);
            }
        }

        if (a is string or List<object?> or PyTuple)
        {
            throw TypeError($"can't multiply sequence by non-int of type '{TypeName(b)}'");
        }

        if (b is string or List<object?> or PyTuple)
        {
            throw TypeError($"can't multiply sequence by non-int of type '{TypeName(a)}'");
        }

        throw Unsupported("*", a, b);
    }

    public static object? Div(object? a, object? b)
    {
        Fail(a, b);
        if (!IsNumber(a) || !IsNumber(b))
        {
            throw Unsupported("/", a, b);
        }

        double y = AsDouble(b);
        if (y == 0)
        {
            throw ChatTemplateException.Runtime("ZeroDivisionError", IsInt(a) && IsInt(b) ? "division by zero" : "float division by zero");
        }

        return AsDouble(a) / y;
    }

    public static object? FloorDiv(object? a, object? b)
    {
        Fail(a, b);
        if (IsInt(a) && IsInt(b))
        {
            long x = AsLong(a);
            long y = AsLong(b);
            if (y == 0)
            {
                throw ChatTemplateException.Runtime("ZeroDivisionError", "integer division or modulo by zero");
            }

            if (x == long.MinValue && y == -1)
            {
                throw Overflow();
            }

            long q = x / y;
            return (x % y != 0) && ((x < 0) != (y < 0)) ? q - 1 : q;
        }

        if (IsNumber(a) && IsNumber(b))
        {
            return FloatDivMod(AsDouble(a), AsDouble(b), "float floor division by zero").Div;
        }

        throw Unsupported("//", a, b);
    }

    public static object? Mod(object? a, object? b)
    {
        if (a is string format)
        {
            return PyFormat.Percent(format, b);
        }

        Fail(a, b);
        if (IsInt(a) && IsInt(b))
        {
            long x = AsLong(a);
            long y = AsLong(b);
            if (y == 0)
            {
                throw ChatTemplateException.Runtime("ZeroDivisionError", "integer modulo by zero");
            }

            if (y == -1)
            {
                return 0L;
            }

            long r = x % y;
            return r != 0 && ((r < 0) != (y < 0)) ? r + y : r;
        }

        if (IsNumber(a) && IsNumber(b))
        {
            return FloatDivMod(AsDouble(a), AsDouble(b), "float modulo").Mod;
        }

        throw Unsupported("%", a, b);
    }

    /// <summary>CPython's <c>float_divmod</c>.</summary>
    private static (double Div, double Mod) FloatDivMod(double vx, double wx, string zeroMessage)
    {
        if (wx == 0)
        {
            throw ChatTemplateException.Runtime("ZeroDivisionError", zeroMessage);
        }

        double mod = vx % wx;
        double div = (vx - mod) / wx;
        if (mod != 0)
        {
            if ((wx < 0) != (mod < 0))
            {
                mod += wx;
                div -= 1.0;
            }
        }
        else
        {
            mod = Math.CopySign(0.0, wx);
        }

        double floordiv;
        if (div != 0)
        {
            floordiv = Math.Floor(div);
            if (div - floordiv > 0.5)
            {
                floordiv += 1.0;
            }
        }
        else
        {
            floordiv = Math.CopySign(0.0, vx / wx);
        }

        return (floordiv, mod);
    }

    public static object? Pow(object? a, object? b)
    {
        Fail(a, b);
        if (IsInt(a) && IsInt(b))
        {
            long x = AsLong(a);
            long e = AsLong(b);
            if (e < 0)
            {
                if (x == 0)
                {
                    throw ChatTemplateException.Runtime("ZeroDivisionError", "0.0 cannot be raised to a negative power");
                }

                return Math.Pow(x, e);
            }

            return Checked(() =>
            {
                long result = 1;
                long bas = x;
                while (e > 0)
                {
                    if ((e & 1) != 0)
                    {
                        result = checked(result * bas);
                    }

                    e >>= 1;
                    if (e > 0)
                    {
                        bas = checked(bas * bas);
                    }
                }

                return result;
            });
        }

        if (IsNumber(a) && IsNumber(b))
        {
            double x = AsDouble(a);
            double y = AsDouble(b);
            if (x == 0 && y < 0)
            {
                throw ChatTemplateException.Runtime("ZeroDivisionError", "0.0 cannot be raised to a negative power");
            }

            if (x < 0 && Math.Floor(y) != y)
            {
                throw ChatTemplateException.Runtime("ValueError", "complex results are not supported");
            }

            double result = Math.Pow(x, y);
            if (double.IsInfinity(result) && !double.IsInfinity(x) && !double.IsInfinity(y))
            {
                throw ChatTemplateException.Runtime("OverflowError", "(34, 'Numerical result out of range')");
            }

            return result;
        }

        throw Unsupported("** or pow()", a, b);
    }

    public static object? Neg(object? a) => a switch
    {
        Undefined u => throw u.Fail(),
        long l => (object?)Checked(() => checked(-l)),
        bool b => b ? -1L : 0L,
        double d => -d,
        _ => throw TypeError($"bad operand type for unary -: '{TypeName(a)}'"),
    };

    public static object? Pos(object? a) => a switch
    {
        Undefined u => throw u.Fail(),
        long l => (object?)l,
        bool b => b ? 1L : 0L,
        double d => d,
        _ => throw TypeError($"bad operand type for unary +: '{TypeName(a)}'"),
    };

    private static ChatTemplateException Overflow() =>
        ChatTemplateException.Runtime("OverflowError", "integer result does not fit in 64 bits (Python's unbounded integers are not supported)");

    private static long Checked(Func<long> f)
    {
        try
        {
            return f();
        }
        catch (OverflowException)
        {
            throw Overflow();
        }
    }

    public static void CheckLength(double length, int max)
    {
        if (length > max)
        {
            throw ChatTemplateException.Runtime("MemoryError", $"string longer than the limit of {max} characters");
        }
    }

    public static void CheckCount(double count)
    {
        if (count > ChatTemplateLimits.MaxCollectionLength)
        {
            throw ChatTemplateException.Runtime("MemoryError", $"sequence longer than the limit of {ChatTemplateLimits.MaxCollectionLength} items");
        }
    }

    /// <summary>Python's <c>item in container</c>.</summary>
    public static bool Contains(object? container, object? item)
    {
        switch (container)
        {
            case Undefined:
                return false;
            case string s:
                if (item is not string sub)
                {
                    throw TypeError($"'in <string>' requires string as left operand, not {TypeName(item)}");
                }

                return s.Contains(sub, StringComparison.Ordinal);
            case List<object?> l:
                return l.Any(x => Eq(x, item));
            case PyTuple t:
                return t.Items.Any(x => Eq(x, item));
            case PyDict d:
                return d.ContainsKey(item);
            case PyRange r:
                if (!IsNumber(item))
                {
                    return false;
                }

                double v = AsDouble(item);
                if (Math.Floor(v) != v)
                {
                    return false;
                }

                long x = (long)v;
                return r.Step > 0 ? x >= r.Start && x < r.Stop && (x - r.Start) % r.Step == 0
                                  : x <= r.Start && x > r.Stop && (r.Start - x) % -r.Step == 0;
            case PyDictView dv when dv.Kind == DictViewKind.Keys:
                return dv.Dict.ContainsKey(item);
            case PyDictView dv:
                return dv.Values().Any(x => Eq(x, item));
            case PyIterator it:
                return it.Consume().Any(x => Eq(x, item));
        }

        throw TypeError($"argument of type '{TypeName(container)}' is not iterable");
    }

    /// <summary>Python's <c>iter(value)</c> (Undefined iterates as empty).</summary>
    public static IEnumerable<object?> Iterate(object? v) => v switch
    {
        string s => PyString.Chars(s),
        List<object?> l => l,
        PyTuple t => t.Items,
        PyDict d => d.Keys,
        PyRange r => r.Values(),
        PyDictView dv => dv.Values(),
        PyIterator it => it.Consume(),
        Undefined => [],
        _ => throw TypeError($"'{TypeName(v)}' object is not iterable"),
    };

    public static bool IsIterable(object? v) => v is string or List<object?> or PyTuple or PyDict or PyRange or PyDictView or PyIterator or Undefined;

    /// <summary>Python's <c>len(value)</c>.</summary>
    public static long Length(object? v) => v switch
    {
        string s => PyString.Length(s),
        List<object?> l => l.Count,
        PyTuple t => t.Count,
        PyDict d => d.Count,
        PyRange r => r.Length,
        PyDictView dv => dv.Dict.Count,
        Undefined => 0,
        LoopContext loop => loop.Length,
        _ => throw TypeError($"object of type '{TypeName(v)}' has no len()"),
    };

    /// <summary>The sandbox's <c>getattr(obj, attribute)</c>: the attribute (a method) first, then the item.</summary>
    public static object? GetAttr(object? obj, string name)
    {
        switch (obj)
        {
            case Undefined u:
                throw u.Fail();
            case PyDict d:
                if (Methods.Get(d, name) is { } dictMethod)
                {
                    return dictMethod;
                }

                return d.TryGetValue(name, out object? value) ? value : Undefined.Attribute(obj, name);
            case PyNamespace ns:
                return ns.Attributes.TryGetValue(name, out object? attr) ? attr : Undefined.Attribute(obj, name);
            case LoopContext loop:
                return loop.GetAttribute(name);
            case PyTuple t when t.Names is not null && Array.IndexOf(t.Names, name) is int i && i >= 0:
                return t.Items[i];
            case MacroValue m:
                return name switch
                {
                    "name" => m.Name,
                    "arguments" => new PyTuple([.. m.Definition.Args]),
                    "catch_kwargs" => m.Definition.UsesKwargs,
                    "catch_varargs" => m.Definition.UsesVarargs,
                    "caller" => m.Definition.UsesCaller,
                    _ => Undefined.Attribute(obj, name),
                };
            case PyRange r:
                return name switch
                {
                    "start" => r.Start,
                    "stop" => r.Stop,
                    "step" => r.Step,
                    _ => Methods.Get(obj, name) ?? Undefined.Attribute(obj, name),
                };
        }

        return Methods.Get(obj, name) ?? Undefined.Attribute(obj, name);
    }

    /// <summary><c>obj[start:stop:step]</c>: Jinja compiles a slice as a plain Python subscript (no sandbox fallback).</summary>
    public static object? GetSlice(object? obj, PySlice slice)
    {
        if (obj is Undefined u)
        {
            throw u.Fail();
        }

        if (obj is string or List<object?> or PyTuple or PyRange && !slice.IsValid)
        {
            throw TypeError("slice indices must be integers or None or have an __index__ method");
        }

        return obj switch
        {
            string or List<object?> or PyTuple or PyRange => GetItem(obj, slice),
            PyDict => throw TypeError("unhashable type: 'slice'"),
            _ => throw TypeError($"'{TypeName(obj)}' object is not subscriptable"),
        };
    }

    /// <summary>The sandbox's <c>getitem(obj, argument)</c>: the item first, then (for a string argument) the attribute.</summary>
    public static object? GetItem(object? obj, object? key)
    {
        switch (obj)
        {
            case Undefined u:
                throw u.Fail();
            case PyDict d:
                if (key is not (List<object?> or PyDict or PyDictView) && d.TryGetValue(key, out object? value))
                {
                    return value;
                }

                break;
            case string s:
                if (IsInt(key))
                {
                    long len = PyString.Length(s);
                    long i = AsLong(key);
                    i = i < 0 ? i + len : i;
                    if (i >= 0 && i < len)
                    {
                        return PyString.At(s, (int)i);
                    }
                }
                else if (key is PySlice slice && slice.IsValid)
                {
                    return PyString.Slice(s, slice);
                }

                break;
            case List<object?> l:
                if (TryIndex(l, key, out object? item))
                {
                    return item;
                }

                if (key is PySlice ls && ls.IsValid)
                {
                    return SliceList(l, ls);
                }

                break;
            case PyTuple t:
                if (TryIndex(t.Items, key, out object? titem))
                {
                    return titem;
                }

                if (key is PySlice ts && ts.IsValid)
                {
                    return new PyTuple([.. SliceList(t.Items, ts)]);
                }

                break;
            case PyRange r:
                if (IsInt(key))
                {
                    long i = AsLong(key);
                    i = i < 0 ? i + r.Length : i;
                    if (i >= 0 && i < r.Length)
                    {
                        return r[i];
                    }
                }
                else if (key is PySlice rs && rs.IsValid)
                {
                    var (start, stop, step, _) = rs.Indices(r.Length);
                    return new PyRange(r.Start + (start * r.Step), r.Start + (stop * r.Step), r.Step * step);
                }

                break;
        }

        if (key is string name)
        {
            return obj switch
            {
                PyDict d => Methods.Get(d, name) ?? Undefined.Attribute(obj, name),
                _ => GetAttr(obj, name),
            };
        }

        return Undefined.Attribute(obj, key);
    }

    private static bool TryIndex(IReadOnlyList<object?> items, object? key, out object? item)
    {
        if (IsInt(key))
        {
            long i = AsLong(key);
            i = i < 0 ? i + items.Count : i;
            if (i >= 0 && i < items.Count)
            {
                item = items[(int)i];
                return true;
            }
        }

        item = null;
        return false;
    }

    private static List<object?> SliceList(IReadOnlyList<object?> items, PySlice slice)
    {
        var (start, _, step, count) = slice.Indices(items.Count);
        var result = new List<object?>((int)count);
        for (long i = 0, j = start; i < count; i++, j += step)
        {
            result.Add(items[(int)j]);
        }

        return result;
    }
}
