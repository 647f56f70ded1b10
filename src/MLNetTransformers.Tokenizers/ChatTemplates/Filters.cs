using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace MLNetTransformers.Tokenizers.ChatTemplates;

/// <summary>Jinja's filters as transformers configures them (its own <c>tojson</c>; autoescape off).</summary>
internal static partial class Filters
{
    private delegate object? FilterFunction(Interpreter interpreter, object? value, CallArgs args);

    private static readonly Dictionary<string, FilterFunction> All = Build();

    public static bool Exists(string name) => All.ContainsKey(name);

    public static object? Call(Interpreter interpreter, string name, object? value, CallArgs args) =>
        All.TryGetValue(name, out var filter)
            ? filter(interpreter, value, args)
            : throw ChatTemplateException.Runtime("TemplateRuntimeError", $"No filter named '{name}' found.");

    private static ChatTemplateException TypeError(string message) => ChatTemplateException.Runtime("TypeError", message);

    private static ChatTemplateException ArgumentError(string message) => ChatTemplateException.Runtime("FilterArgumentError", message);

    [GeneratedRegex(@"([-\s({\[<]+)")]
    private static partial Regex WordBeginningSplit();

    [GeneratedRegex(@"\w+")]
    private static partial Regex Word();

    [GeneratedRegex(@"<!--.*?-->", RegexOptions.Singleline)]
    private static partial Regex HtmlComment();

    [GeneratedRegex(@"<.*?>", RegexOptions.Singleline)]
    private static partial Regex HtmlTag();

    private static FilterFunction Simple(string name, Func<object?, object?> f) => (_, v, a) =>
    {
        a.Bind(name, [], 0);
        return f(v);
    };

    private static Dictionary<string, FilterFunction> Build()
    {
        var f = new Dictionary<string, FilterFunction>(StringComparer.Ordinal)
        {
            ["abs"] = Simple("abs", v => v switch
            {
                long l => l == long.MinValue ? throw ChatTemplateException.Runtime("OverflowError", "integer overflow") : (object?)Math.Abs(l),
                bool b => b ? 1L : 0L,
                double d => Math.Abs(d),
                _ => throw TypeError($"bad operand type for abs(): '{PyOps.TypeName(v)}'"),
            }),
            ["attr"] = (_, v, a) =>
            {
                // attributes only: a dict's keys are not attributes (Jinja uses getattr_static / hasattr here)
                string name = a.Bind("do_attr", ["name"], 1)[0] as string ?? throw TypeError("attribute name must be string");
                return v is PyDict d ? Methods.Get(d, name) ?? Undefined.Attribute(d, name) : PyOps.GetAttr(v, name);
            },
            ["batch"] = (_, v, a) =>
            {
                var p = a.Bind("do_batch", ["linecount", "fill_with"], 1, [null]);
                return new PyIterator(Batch(v, Int(p[0]), p[1]), "generator");
            },
            ["capitalize"] = Simple("do_capitalize", v => PyString.Capitalize(PyRepr.Str(v))),
            ["center"] = (_, v, a) => PyString.Center(PyRepr.Str(v), Int(a.Bind("do_center", ["width"], 0, 80L)[0])),
            ["count"] = Simple("len", v => PyOps.Length(v)),
            ["length"] = Simple("len", v => PyOps.Length(v)),
            ["default"] = Default,
            ["d"] = Default,
            ["dictsort"] = DictSort,
            ["escape"] = Simple("escape", v => Escape(PyRepr.Str(v))),
            ["e"] = Simple("escape", v => Escape(PyRepr.Str(v))),
            ["forceescape"] = Simple("do_forceescape", v => Escape(PyRepr.Str(v))),
            ["first"] = Simple("do_first", v =>
            {
                foreach (var item in PyOps.Iterate(v))
                {
                    return item;
                }

                return Undefined.WithHint("No first item, sequence was empty.");
            }),
            ["last"] = Simple("do_last", v =>
            {
                foreach (var item in Reversed(v))
                {
                    return item;
                }

                return Undefined.WithHint("No last item, sequence was empty.");
            }),
            ["float"] = (_, v, a) => ToFloat(v, a.Bind("do_float", ["default"], 0, 0.0)[0]),
            ["int"] = (_, v, a) =>
            {
                var p = a.Bind("do_int", ["default", "base"], 0, 0L, 10L);
                return ToInt(v, p[0], Int(p[1]));
            },
            ["format"] = (_, v, a) =>
            {
                if (a.Positional.Count > 0 && a.Keywords.Count > 0)
                {
                    throw ArgumentError("can't handle positional and keyword arguments at the same time");
                }

                object? args;
                if (a.Keywords.Count > 0)
                {
                    var d = new PyDict();
                    foreach (var (k, x) in a.Keywords)
                    {
                        d.Set(k, x);
                    }

                    args = d;
                }
                else
                {
                    args = new PyTuple([.. a.Positional]);
                }

                return PyFormat.Percent(PyRepr.Str(v), args);
            },
            ["groupby"] = GroupBy,
            ["indent"] = Indent,
            ["items"] = Simple("do_items", v => v switch
            {
                Undefined => new PyIterator([], "generator"),
                PyDict d => new PyIterator(d.Entries.Select(e => (object?)new PyTuple([e.Key, e.Value])).ToList(), "generator"),
                _ => throw TypeError("Can only get item pairs from a mapping."),
            }),
            ["join"] = (it, v, a) =>
            {
                var p = a.Bind("do_join", ["d", "attribute"], 0, "", null);
                IEnumerable<object?> items = PyOps.Iterate(v);
                if (p[1] is not null)
                {
                    var getter = AttrGetter(p[1], null);
                    items = items.Select(getter);
                }

                var sb = new StringBuilder();
                string sep = PyRepr.Str(p[0]);
                bool first = true;
                foreach (var item in items)
                {
                    if (!first)
                    {
                        sb.Append(sep);
                    }

                    first = false;
                    sb.Append(PyRepr.Str(item));
                    it.CheckString(sb.Length);
                }

                return sb.ToString();
            },
            ["list"] = Simple("list", v => PyOps.Iterate(v).ToList()),
            ["lower"] = Simple("do_lower", v => PyString.Lower(PyRepr.Str(v))),
            ["upper"] = Simple("do_upper", v => PyString.Upper(PyRepr.Str(v))),
            ["map"] = Map,
            ["max"] = (_, v, a) => MinMax(v, a, max: true),
            ["min"] = (_, v, a) => MinMax(v, a, max: false),
            ["reject"] = (it, v, a) => SelectOrReject(it, v, a, reject: true, lookupAttr: false),
            ["rejectattr"] = (it, v, a) => SelectOrReject(it, v, a, reject: true, lookupAttr: true),
            ["select"] = (it, v, a) => SelectOrReject(it, v, a, reject: false, lookupAttr: false),
            ["selectattr"] = (it, v, a) => SelectOrReject(it, v, a, reject: false, lookupAttr: true),
            ["replace"] = (it, v, a) =>
            {
                var p = a.Bind("do_replace", ["old", "new", "count"], 2, [null]);
                string result = PyString.Replace(PyRepr.Str(v), PyRepr.Str(p[0]), PyRepr.Str(p[1]), p[2] is null ? -1 : Int(p[2]));
                it.CheckString(result.Length);
                return result;
            },
            ["reverse"] = Simple("do_reverse", v => v switch
            {
                string s => PyString.Reverse(s),
                List<object?> or PyTuple or PyRange or PyDict or Undefined => new PyIterator(Reversed(v).ToList(), ReversedTypeName(v)),
                _ when PyOps.IsIterable(v) => Enumerable.Reverse(PyOps.Iterate(v).ToList()).ToList(),
                _ => throw ArgumentError("argument must be iterable"),
            }),
            ["round"] = Round,
            ["safe"] = Simple("do_mark_safe", PyRepr.Str),
            ["slice"] = (_, v, a) =>
            {
                var p = a.Bind("do_slice", ["slices", "fill_with"], 1, [null]);
                return new PyIterator(Slices(v, Int(p[0]), p[1]), "generator");
            },
            ["sort"] = Sort,
            ["string"] = Simple("soft_str", PyRepr.Str),
            ["striptags"] = Simple("do_striptags", v =>
            {
                string s = HtmlTag().Replace(HtmlComment().Replace(PyRepr.Str(v), ""), "");
                return WebUtility.HtmlDecode(string.Join(' ', PyString.Split(s, null, -1).Cast<string>()));
            }),
            ["sum"] = (_, v, a) =>
            {
                var p = a.Bind("do_sum", ["attribute", "start"], 0, null, 0L);
                IEnumerable<object?> items = PyOps.Iterate(v);
                if (p[0] is not null)
                {
                    items = items.Select(AttrGetter(p[0], null));
                }

                object? total = p[1];
                foreach (var item in items)
                {
                    total = PyOps.Add(total, item, int.MaxValue);
                }

                return total;
            },
            ["title"] = Simple("do_title", v =>
            {
                var sb = new StringBuilder();
                foreach (string item in WordBeginningSplit().Split(PyRepr.Str(v)))
                {
                    if (item.Length > 0)
                    {
                        int first = char.IsHighSurrogate(item[0]) && item.Length > 1 ? 2 : 1;
                        sb.Append(PyString.Upper(item[..first])).Append(PyString.Lower(item[first..]));
                    }
                }

                return sb.ToString();
            }),
            ["tojson"] = (it, v, a) =>
            {
                var p = a.Bind("tojson", ["ensure_ascii", "indent", "separators", "sort_keys"], 0, false, null, null, false);
                string json = PyJson.Dumps(v, PyOps.Truthy(p[0]), p[1], p[2], PyOps.Truthy(p[3]));
                it.CheckString(json.Length);
                return json;
            },
            ["trim"] = (_, v, a) =>
            {
                object? chars = a.Bind("do_trim", ["chars"], 0, [null])[0];
                return PyString.Strip(PyRepr.Str(v), chars is null ? null : chars as string ?? throw TypeError("strip arg must be None or str"));
            },
            ["truncate"] = Truncate,
            ["unique"] = (_, v, a) =>
            {
                var p = a.Bind("do_unique", ["case_sensitive", "attribute"], 0, false, null);
                var getter = AttrGetter(p[1], PyOps.Truthy(p[0]) ? null : IgnoreCase);
                return new PyIterator(Unique(v, getter), "generator");
            },
            ["wordcount"] = Simple("do_wordcount", v => (long)Word().Count(PyRepr.Str(v))),
        };
        return f;
    }

    private static long Int(object? v) =>
        PyOps.IsInt(v) ? PyOps.AsLong(v) : throw TypeError($"'{PyOps.TypeName(v)}' object cannot be interpreted as an integer");

    private static object? IgnoreCase(object? v) => v is string s ? PyString.Lower(s) : v;

    private static IEnumerable<object?> Unique(object? value, Func<object?, object?> getter)
    {
        var seen = new HashSet<PyKey>();
        foreach (var item in PyOps.Iterate(value))
        {
            if (seen.Add(PyKey.Of(getter(item))))
            {
                yield return item;
            }
        }
    }

    /// <summary>Jinja's <c>make_attrgetter</c>: a dotted path ("a.b", "0.name") looked up with the sandbox's getitem.</summary>
    internal static Func<object?, object?> AttrGetter(object? attribute, Func<object?, object?>? postprocess, object? defaultValue = null)
    {
        List<object?> parts = attribute switch
        {
            null => [],
            string s => [.. s.Split('.').Select(p => p.Length > 0 && p.All(char.IsAsciiDigit) ? (object?)long.Parse(p, CultureInfo.InvariantCulture) : p)],
            _ => [attribute],
        };
        return item =>
        {
            foreach (var part in parts)
            {
                item = PyOps.GetItem(item, part);
                if (defaultValue is not null && item is Undefined)
                {
                    item = defaultValue;
                }
            }

            return postprocess is null ? item : postprocess(item);
        };
    }

    private static object? Default(Interpreter interpreter, object? value, CallArgs args)
    {
        var p = args.Bind("do_default", ["default_value", "boolean"], 0, "", false);
        return value is Undefined || (PyOps.Truthy(p[1]) && !PyOps.Truthy(value)) ? p[0] : value;
    }

    private static List<object?> DictSort(Interpreter interpreter, object? value, CallArgs args)
    {
        var p = args.Bind("do_dictsort", ["case_sensitive", "by", "reverse"], 0, false, "key", false);
        int pos = p[1] switch
        {
            "key" => 0,
            "value" => 1,
            _ => throw ArgumentError("You can only sort by either \"key\" or \"value\""),
        };
        if (value is Undefined u)
        {
            throw u.Fail();
        }

        if (value is not PyDict d)
        {
            throw ChatTemplateException.Runtime("AttributeError", $"'{PyOps.TypeName(value)}' object has no attribute 'items'");
        }

        bool caseSensitive = PyOps.Truthy(p[0]);
        var items = d.Entries.Select(e => (object?)new PyTuple([e.Key, e.Value])).ToList();
        return SortBy(items, x =>
        {
            object? k = ((PyTuple)x!).Items[pos];
            return caseSensitive ? k : IgnoreCase(k);
        }, PyOps.Truthy(p[2]));
    }

    /// <summary>Python's stable <c>sorted(items, key=key, reverse=reverse)</c>.</summary>
    internal static List<object?> SortBy(List<object?> items, Func<object?, object?> key, bool reverse)
    {
        var keyed = items.Select(item => (Item: item, Key: key(item))).ToArray();
        var buffer = new (object? Item, object? Key)[keyed.Length];
        MergeSort(keyed, buffer, 0, keyed.Length, reverse);
        return keyed.Select(k => k.Item).ToList();
    }

    private static void MergeSort((object? Item, object? Key)[] a, (object? Item, object? Key)[] buffer, int lo, int hi, bool reverse)
    {
        if (hi - lo < 2)
        {
            return;
        }

        int mid = (lo + hi) / 2;
        MergeSort(a, buffer, lo, mid, reverse);
        MergeSort(a, buffer, mid, hi, reverse);
        int i = lo;
        int j = mid;
        int k = lo;
        while (i < mid && j < hi)
        {
            // stable: take from the right run only when it sorts strictly before the left one
            bool rightFirst = reverse ? CompareLess(a[i].Key, a[j].Key) < 0 : CompareLess(a[j].Key, a[i].Key) < 0;
            buffer[k++] = rightFirst ? a[j++] : a[i++];
        }

        while (i < mid)
        {
            buffer[k++] = a[i++];
        }

        while (j < hi)
        {
            buffer[k++] = a[j++];
        }

        Array.Copy(buffer, lo, a, lo, hi - lo);
    }

    /// <summary>Python sorts with <c>&lt;</c> only: -1 when a &lt; b, 1 when b &lt; a, else 0 (NaN and equal keys keep
    /// their order).</summary>
    private static int CompareLess(object? a, object? b) => PyOps.CompareOp("<", a, b) ? -1 : 0;

    private static List<object?> Sort(Interpreter interpreter, object? value, CallArgs args)
    {
        var p = args.Bind("do_sort", ["reverse", "case_sensitive", "attribute"], 0, false, false, null);
        var getter = MultiAttrGetter(p[2], PyOps.Truthy(p[1]) ? null : IgnoreCase);
        return SortBy(PyOps.Iterate(value).ToList(), getter, PyOps.Truthy(p[0]));
    }

    private static Func<object?, object?> MultiAttrGetter(object? attribute, Func<object?, object?>? postprocess)
    {
        List<object?> split = attribute is string s ? [.. s.Split(',')] : [attribute];
        var getters = split.Select(part => AttrGetter(part, postprocess)).ToList();
        return item => getters.Select(g => g(item)).ToList();
    }

    private static object? MinMax(object? value, CallArgs args, bool max)
    {
        var p = args.Bind(max ? "do_max" : "do_min", ["case_sensitive", "attribute"], 0, false, null);
        var getter = AttrGetter(p[1], PyOps.Truthy(p[0]) ? null : IgnoreCase);
        var items = PyOps.Iterate(value).ToList();
        if (items.Count == 0)
        {
            return Undefined.WithHint("No aggregated item, sequence was empty.");
        }

        object? best = items[0];
        object? bestKey = getter(best);
        foreach (var item in items.Skip(1))
        {
            object? key = getter(item);
            if (max ? PyOps.CompareOp(">", key, bestKey) : PyOps.CompareOp("<", key, bestKey))
            {
                best = item;
                bestKey = key;
            }
        }

        return best;
    }

    private static PyIterator Map(Interpreter interpreter, object? value, CallArgs args)
    {
        Func<object?, object?> func;
        if (args.Positional.Count == 0 && args.Keywords.Any(k => k.Key == "attribute"))
        {
            object? attribute = null;
            object? dflt = null;
            foreach (var (k, v) in args.Keywords)
            {
                switch (k)
                {
                    case "attribute": attribute = v; break;
                    case "default": dflt = v; break;
                    default: throw ArgumentError($"Unexpected keyword argument '{k}'");
                }
            }

            func = AttrGetter(attribute, null, dflt);
        }
        else
        {
            if (args.Positional.Count == 0)
            {
                throw ArgumentError("map requires a filter argument");
            }

            string name = args.Positional[0] as string ?? throw TypeError("filter name must be a string");
            var rest = new CallArgs([.. args.Positional.Skip(1)], args.Keywords);
            func = item => Call(interpreter, name, item, rest);
        }

        if (!PyOps.Truthy(value))
        {
            return new PyIterator([], "generator");
        }

        return new PyIterator(PyOps.Iterate(value).Select(func), "generator");
    }

    private static PyIterator SelectOrReject(Interpreter interpreter, object? value, CallArgs args, bool reject, bool lookupAttr)
    {
        if (!PyOps.Truthy(value))
        {
            return new PyIterator([], "generator");
        }

        Func<object?, object?> transform = x => x;
        int off = 0;
        if (lookupAttr)
        {
            if (args.Positional.Count == 0)
            {
                throw ArgumentError("Missing parameter for attribute name");
            }

            transform = AttrGetter(args.Positional[0], null);
            off = 1;
        }

        Func<object?, bool> test;
        if (args.Positional.Count > off)
        {
            string name = args.Positional[off] as string ?? throw TypeError("test name must be a string");
            var rest = new CallArgs([.. args.Positional.Skip(off + 1)], args.Keywords);
            test = x => Tests.Call(interpreter, name, x, rest);
        }
        else
        {
            test = PyOps.Truthy;
        }

        return new PyIterator(PyOps.Iterate(value).Where(item => test(transform(item)) != reject), "generator");
    }

    private static IEnumerable<object?> Batch(object? value, long count, object? fill)
    {
        var tmp = new List<object?>();
        foreach (var item in PyOps.Iterate(value))
        {
            if (tmp.Count == count)
            {
                yield return tmp;
                tmp = [];
            }

            tmp.Add(item);
        }

        if (tmp.Count > 0)
        {
            if (fill is not null)
            {
                while (tmp.Count < count)
                {
                    tmp.Add(fill);
                }
            }

            yield return tmp;
        }
    }

    private static IEnumerable<object?> Slices(object? value, long slices, object? fill)
    {
        var seq = PyOps.Iterate(value).ToList();
        if (slices <= 0)
        {
            throw ChatTemplateException.Runtime("ZeroDivisionError", "integer division or modulo by zero");
        }

        long perSlice = seq.Count / slices;
        long withExtra = seq.Count % slices;
        long offset = 0;
        for (long n = 0; n < slices; n++)
        {
            long start = offset + (n * perSlice);
            if (n < withExtra)
            {
                offset++;
            }

            long end = offset + ((n + 1) * perSlice);
            var tmp = seq.Skip((int)start).Take((int)(end - start)).ToList();
            if (fill is not null && n >= withExtra)
            {
                tmp.Add(fill);
            }

            yield return tmp;
        }
    }

    private static IEnumerable<object?> Reversed(object? value) => value switch
    {
        string s => PyString.Chars(PyString.Reverse(s)),
        List<object?> l => Enumerable.Reverse(l),
        PyTuple t => t.Items.Reverse(),
        PyRange r => r.Values().Reverse(),
        PyDict d => d.Keys.Reverse(),
        PyDictView dv => dv.Values().Reverse(),
        Undefined => [],
        _ => throw TypeError($"'{PyOps.TypeName(value)}' object is not reversible"),
    };

    private static string ReversedTypeName(object? value) => value switch
    {
        List<object?> => "list_reverseiterator",
        PyRange => "range_iterator",
        PyDict => "dict_reversekeyiterator",
        _ => "reversed",
    };

    private static string Escape(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace("'", "&#39;", StringComparison.Ordinal)
        .Replace("\"", "&#34;", StringComparison.Ordinal);

    private static object? ToFloat(object? value, object? dflt) => value switch
    {
        double d => d,
        long or bool => PyOps.AsDouble(value),
        string s => Methods.TryParseFloat(s, out double d) ? d : dflt,
        Undefined u => throw u.Fail(),
        _ => dflt,
    };

    private static object? ToInt(object? value, object? dflt, long radix)
    {
        switch (value)
        {
            case long l:
                return l;
            case bool b:
                return b ? 1L : 0L;
            case double d:
                return double.IsNaN(d) || double.IsInfinity(d) || Math.Abs(d) >= 9.2e18 ? dflt : (long)Math.Truncate(d);
            case string s:
                if (Methods.TryParseInt(s, radix, out long n))
                {
                    return n;
                }

                return Methods.TryParseFloat(s, out double f) && !double.IsNaN(f) && !double.IsInfinity(f) && Math.Abs(f) < 9.2e18
                    ? (long)Math.Truncate(f)
                    : dflt;
            case Undefined u:
                throw u.Fail();
            default:
                return dflt;
        }
    }

    private static List<object?> GroupBy(Interpreter interpreter, object? value, CallArgs args)
    {
        var p = args.Bind("do_groupby", ["attribute", "default", "case_sensitive"], 1, null, false);
        bool caseSensitive = PyOps.Truthy(p[2]);
        var key = AttrGetter(p[0], caseSensitive ? null : IgnoreCase, p[1]);
        var sorted = SortBy(PyOps.Iterate(value).ToList(), key, reverse: false);
        var groups = new List<object?>();
        List<object?>? current = null;
        object? currentKey = null;
        foreach (var item in sorted)
        {
            object? k = key(item);
            if (current is null || !PyOps.Eq(k, currentKey))
            {
                current = [];
                currentKey = k;
                groups.Add(new PyTuple([k, current], ["grouper", "list"]));
            }

            current.Add(item);
        }

        if (!caseSensitive)
        {
            var output = AttrGetter(p[0], null, p[1]);
            groups = groups.Select(g =>
            {
                var list = (List<object?>)((PyTuple)g!).Items[1]!;
                return (object?)new PyTuple([output(list[0]), list], ["grouper", "list"]);
            }).ToList();
        }

        return groups;
    }

    private static string Indent(Interpreter interpreter, object? value, CallArgs args)
    {
        var p = args.Bind("do_indent", ["width", "first", "blank"], 0, 4L, false, false);
        string indention = p[0] is string w ? w : new string(' ', (int)Math.Max(0, Int(p[0])));
        string s = value switch
        {
            string x => x,
            Undefined u => throw u.Fail(),
            List<object?> => throw ChatTemplateException.Runtime("AttributeError", "'list' object has no attribute 'splitlines'"),
            PyTuple => throw TypeError("can only concatenate tuple (not \"str\") to tuple"),
            _ => throw TypeError($"unsupported operand type(s) for +=: '{PyOps.TypeName(value)}' and 'str'"),
        };
        s += "\n";
        string rv;
        if (PyOps.Truthy(p[2]))
        {
            rv = string.Join("\n" + indention, PyString.SplitLines(s).Cast<string>());
        }
        else
        {
            var lines = PyString.SplitLines(s).Cast<string>().ToList();
            rv = lines[0];
            if (lines.Count > 1)
            {
                rv += "\n" + string.Join("\n", lines.Skip(1).Select(line => line.Length > 0 ? indention + line : line));
            }
        }

        if (PyOps.Truthy(p[1]))
        {
            rv = indention + rv;
        }

        interpreter.CheckString(rv.Length);
        return rv;
    }

    private static object? Round(Interpreter interpreter, object? value, CallArgs args)
    {
        var p = args.Bind("do_round", ["precision", "method"], 0, 0L, "common");
        if (p[1] is not ("common" or "ceil" or "floor"))
        {
            throw ArgumentError("method must be common, ceil or floor");
        }

        long precision = Int(p[0]);
        if (!PyOps.IsNumber(value))
        {
            throw TypeError($"type {PyOps.TypeName(value)} doesn't define __round__ method");
        }

        if ((string)p[1]! == "common")
        {
            if (PyOps.IsInt(value))
            {
                long n = PyOps.AsLong(value);
                if (precision >= 0)
                {
                    return n;
                }

                if (precision < -18)
                {
                    return 0L;
                }

                long unit = (long)Math.Pow(10, -precision);
                long q = Math.DivRem(n, unit, out long r);
                if (r < 0)
                {
                    q--;
                    r += unit;
                }

                if ((r * 2) > unit || ((r * 2) == unit && (q & 1) != 0))
                {
                    q++;
                }

                return q * unit;
            }

            return PyFormat.Round(PyOps.AsDouble(value), precision);
        }

        double scale = Math.Pow(10, precision);
        double x = PyOps.AsDouble(value) * scale;
        double rounded = (string)p[1]! == "ceil" ? Math.Ceiling(x) : Math.Floor(x);
        return rounded / scale;
    }

    private static object? Truncate(Interpreter interpreter, object? value, CallArgs args)
    {
        var p = args.Bind("do_truncate", ["length", "killwords", "end", "leeway"], 0, 255L, false, "...", null);
        long length = Int(p[0]);
        string end = p[2] as string ?? PyRepr.Str(p[2]);
        long leeway = p[3] is null ? 5 : Int(p[3]);
        if (length < PyString.Length(end))
        {
            throw ChatTemplateException.Runtime("AssertionError", $"expected length >= {PyString.Length(end)}, got {length}");
        }

        if (PyOps.Length(value) <= length + leeway)
        {
            return value;
        }

        if (value is not string s)
        {
            object? cut = PyOps.GetSlice(value, new PySlice(null, length - PyString.Length(end), null));
            return PyOps.Truthy(p[1])
                ? PyOps.Add(cut, p[2], interpreter.MaxStringLength)
                : throw ChatTemplateException.Runtime("AttributeError", $"'{PyOps.TypeName(value)}' object has no attribute 'rsplit'");
        }

        string head = PyString.Slice(s, new PySlice(null, length - PyString.Length(end), null));
        if (PyOps.Truthy(p[1]))
        {
            return head + end;
        }

        int space = head.LastIndexOf(' ');
        return (space >= 0 ? head[..space] : head) + end;
    }
}
