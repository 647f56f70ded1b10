using System.Globalization;

namespace MLNetTransformers.Tokenizers.ChatTemplates;

/// <summary>The Python methods templates call on str, dict, list, tuple and range. Methods that modify a list or dict are
/// refused as in transformers' <c>ImmutableSandboxedEnvironment</c>.</summary>
internal static class Methods
{
    private static readonly HashSet<string> UnsafeDict = new(StringComparer.Ordinal) { "clear", "pop", "popitem", "setdefault", "update" };

    private static readonly HashSet<string> UnsafeList = new(StringComparer.Ordinal)
    {
        "append", "clear", "pop", "reverse", "insert", "sort", "extend", "remove",
    };

    private static ChatTemplateException TypeError(string message) => ChatTemplateException.Runtime("TypeError", message);

    /// <summary>The bound method <paramref name="name"/> of obj; an unsafe Undefined for a mutating method; null if none.</summary>
    public static object? Get(object? obj, string name)
    {
        switch (obj)
        {
            case string s:
                return StrMethod(s, name);
            case PyDict d:
                if (UnsafeDict.Contains(name))
                {
                    return Undefined.Unsafe(d, name);
                }

                return name switch
                {
                    "get" => Bind(d, name, static (self, a) =>
                    {
                        var v = a.Bind("get", ["key", "default"], 1, [null]);
                        return ((PyDict)self!).TryGetValue(v[0], out object? value) ? value : v[1];
                    }),
                    "items" => Bind(d, name, static (self, a) => NoArgs(a, "items", new PyDictView((PyDict)self!, DictViewKind.Items))),
                    "keys" => Bind(d, name, static (self, a) => NoArgs(a, "keys", new PyDictView((PyDict)self!, DictViewKind.Keys))),
                    "values" => Bind(d, name, static (self, a) => NoArgs(a, "values", new PyDictView((PyDict)self!, DictViewKind.Values))),
                    "copy" => Bind(d, name, static (self, a) =>
                    {
                        var copy = new PyDict();
                        foreach (var (k, v) in ((PyDict)self!).Entries)
                        {
                            copy.Set(k, v);
                        }

                        return NoArgs(a, "copy", copy);
                    }),
                    _ => null,
                };
            case List<object?> l:
                if (UnsafeList.Contains(name))
                {
                    return Undefined.Unsafe(l, name);
                }

                return name switch
                {
                    "index" => Bind(l, name, static (self, a) => IndexOf((List<object?>)self!, a)),
                    "count" => Bind(l, name, static (self, a) => (long)((List<object?>)self!).Count(x => PyOps.Eq(x, a.Bind("count", ["value"], 1)[0]))),
                    "copy" => Bind(l, name, static (self, a) => NoArgs(a, "copy", new List<object?>((List<object?>)self!))),
                    _ => null,
                };
            case PyTuple t:
                return name switch
                {
                    "index" => Bind(t, name, static (self, a) => IndexOf(((PyTuple)self!).Items, a)),
                    "count" => Bind(t, name, static (self, a) => (long)((PyTuple)self!).Items.Count(x => PyOps.Eq(x, a.Bind("count", ["value"], 1)[0]))),
                    _ => null,
                };
            case PyRange r:
                return name switch
                {
                    "index" => Bind(r, name, static (self, a) => IndexOf(((PyRange)self!).Values().ToList(), a)),
                    "count" => Bind(r, name, static (self, a) => (long)((PyRange)self!).Values().Count(x => PyOps.Eq(x, a.Bind("count", ["value"], 1)[0]))),
                    _ => null,
                };
            default:
                return null;
        }
    }

    private static BoundMethod Bind(object self, string name, Func<object?, CallArgs, object?> f) =>
        new(self, name, (_, s, args) => f(s, args));

    private static object? NoArgs(CallArgs args, string name, object? result)
    {
        args.Bind(name, [], 0);
        return result;
    }

    private static long IndexOf(IReadOnlyList<object?> items, CallArgs args)
    {
        var v = args.Bind("index", ["value", "start", "stop"], 1, 0L, (long)items.Count);
        long start = Normalize(PyOps.AsLong(v[1]), items.Count);
        long stop = Normalize(PyOps.AsLong(v[2]), items.Count);
        for (long i = start; i < stop; i++)
        {
            if (PyOps.Eq(items[(int)i], v[0]))
            {
                return i;
            }
        }

        throw ChatTemplateException.Runtime("ValueError", $"{PyRepr.Repr(v[0])} is not in list");
    }

    private static long Normalize(long i, int count)
    {
        if (i < 0)
        {
            i += count;
        }

        return Math.Clamp(i, 0, count);
    }

    private static string Str(object? v, string function, string argument = "argument") =>
        v as string ?? throw TypeError($"{function}() {argument} must be str, not {PyOps.TypeName(v)}");

    private static string? OptStr(object? v, string function) =>
        v is null ? null : v as string ?? throw TypeError(function is "split" or "rsplit"
            ? $"must be str or None, not {PyOps.TypeName(v)}"
            : $"{function} arg must be None or str");

    private static string Sub(object? v) => v as string ?? throw TypeError($"must be str, not {PyOps.TypeName(v)}");

    private static long Int(object? v, string function) =>
        PyOps.IsInt(v) ? PyOps.AsLong(v) : throw TypeError($"'{PyOps.TypeName(v)}' object cannot be interpreted as an integer");

    private static BoundMethod? StrMethod(string s, string name)
    {
        Func<string, CallArgs, object?>? f = name switch
        {
            "upper" => static (x, a) => NoArgs(a, "upper", PyString.Upper(x)),
            "lower" => static (x, a) => NoArgs(a, "lower", PyString.Lower(x)),
            "casefold" => static (x, a) => NoArgs(a, "casefold", PyString.Lower(x)),
            "title" => static (x, a) => NoArgs(a, "title", PyString.Title(x)),
            "capitalize" => static (x, a) => NoArgs(a, "capitalize", PyString.Capitalize(x)),
            "swapcase" => static (x, a) => NoArgs(a, "swapcase", string.Concat(x.Select(c => char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)))),
            "strip" => static (x, a) => PyString.Strip(x, OptStr(a.Bind("strip", ["chars"], 0, [null])[0], "strip")),
            "lstrip" => static (x, a) => PyString.LStrip(x, OptStr(a.Bind("lstrip", ["chars"], 0, [null])[0], "lstrip")),
            "rstrip" => static (x, a) => PyString.RStrip(x, OptStr(a.Bind("rstrip", ["chars"], 0, [null])[0], "rstrip")),
            "split" => static (x, a) =>
            {
                var v = a.Bind("split", ["sep", "maxsplit"], 0, null, -1L);
                return PyString.Split(x, OptStr(v[0], "split"), Int(v[1], "split"));
            },
            "rsplit" => static (x, a) =>
            {
                var v = a.Bind("rsplit", ["sep", "maxsplit"], 0, null, -1L);
                return PyString.RSplit(x, OptStr(v[0], "rsplit"), Int(v[1], "rsplit"));
            },
            "splitlines" => static (x, a) => PyString.SplitLines(x, PyOps.Truthy(a.Bind("splitlines", ["keepends"], 0, false)[0])),
            "startswith" => static (x, a) => StartsOrEnds(x, a, "startswith", ends: false),
            "endswith" => static (x, a) => StartsOrEnds(x, a, "endswith", ends: true),
            "replace" => static (x, a) =>
            {
                var v = a.Bind("replace", ["old", "new", "count"], 2, -1L);
                return PyString.Replace(x, Str(v[0], "replace", "argument 1"), Str(v[1], "replace", "argument 2"), Int(v[2], "replace"));
            },
            "find" => static (x, a) => PyString.Find(x, Sub(a.Bind("find", ["sub"], 1)[0])),
            "rfind" => static (x, a) => PyString.Find(x, Sub(a.Bind("rfind", ["sub"], 1)[0]), reverse: true),
            "index" => static (x, a) => PyString.Find(x, Sub(a.Bind("index", ["sub"], 1)[0])) is long i && i >= 0 ? i : throw ChatTemplateException.Runtime("ValueError", "substring not found"),
            "rindex" => static (x, a) => PyString.Find(x, Sub(a.Bind("rindex", ["sub"], 1)[0]), reverse: true) is long i && i >= 0 ? i : throw ChatTemplateException.Runtime("ValueError", "substring not found"),
            "count" => static (x, a) => PyString.Count(x, Sub(a.Bind("count", ["sub"], 1)[0])),
            "join" => static (x, a) =>
            {
                var items = PyOps.Iterate(a.Bind("join", ["iterable"], 1)[0]).ToList();
                for (int i = 0; i < items.Count; i++)
                {
                    if (items[i] is not string)
                    {
                        throw TypeError($"sequence item {i}: expected str instance, {PyOps.TypeName(items[i])} found");
                    }
                }

                return string.Join(x, items.Cast<string>());
            },
            "format" => static (x, a) => PyFormat.Format(x, a),
            "format_map" => static (x, a) =>
            {
                var mapping = a.Bind("format_map", ["mapping"], 1)[0] as PyDict ?? throw TypeError("format_map() argument must be a mapping");
                return PyFormat.Format(x, new CallArgs([], mapping.Entries.Select(e => new KeyValuePair<string, object?>(PyRepr.Str(e.Key), e.Value)).ToList()));
            },
            "isdigit" or "isdecimal" => static (x, a) => x.Length > 0 && x.All(char.IsDigit),
            "isnumeric" => static (x, a) => x.Length > 0 && x.All(char.IsNumber),
            "isalpha" => static (x, a) => x.Length > 0 && x.All(char.IsLetter),
            "isalnum" => static (x, a) => x.Length > 0 && x.All(c => char.IsLetterOrDigit(c) || char.IsNumber(c)),
            "isspace" => static (x, a) => x.Length > 0 && x.All(PyString.IsSpace),
            "islower" => static (x, a) => PyString.IsLowerStr(x),
            "isupper" => static (x, a) => PyString.IsUpperStr(x),
            "istitle" => static (x, a) => x.Length > 0 && PyString.Title(x) == x && x.Any(char.IsLetter),
            "center" => static (x, a) =>
            {
                var v = a.Bind("center", ["width", "fillchar"], 1, " ");
                return PyString.Center(x, Int(v[0], "center"), Str(v[1], "center"));
            },
            "ljust" => static (x, a) =>
            {
                var v = a.Bind("ljust", ["width", "fillchar"], 1, " ");
                return PyString.LJust(x, Int(v[0], "ljust"), Str(v[1], "ljust"));
            },
            "rjust" => static (x, a) =>
            {
                var v = a.Bind("rjust", ["width", "fillchar"], 1, " ");
                return PyString.RJust(x, Int(v[0], "rjust"), Str(v[1], "rjust"));
            },
            "zfill" => static (x, a) =>
            {
                long width = Int(a.Bind("zfill", ["width"], 1)[0], "zfill");
                string sign = x.Length > 0 && x[0] is '+' or '-' ? x[..1] : "";
                string rest = x[sign.Length..];
                return sign + PyString.Repeat("0", width - PyString.Length(x)) + rest;
            },
            "removeprefix" => static (x, a) =>
            {
                string p = Str(a.Bind("removeprefix", ["prefix"], 1)[0], "removeprefix");
                return x.StartsWith(p, StringComparison.Ordinal) ? x[p.Length..] : x;
            },
            "removesuffix" => static (x, a) =>
            {
                string p = Str(a.Bind("removesuffix", ["suffix"], 1)[0], "removesuffix");
                return p.Length > 0 && x.EndsWith(p, StringComparison.Ordinal) ? x[..^p.Length] : x;
            },
            "partition" => static (x, a) => Partition(x, Str(a.Bind("partition", ["sep"], 1)[0], "partition"), reverse: false),
            "rpartition" => static (x, a) => Partition(x, Str(a.Bind("rpartition", ["sep"], 1)[0], "rpartition"), reverse: true),
            "expandtabs" => static (x, a) => x.Replace("\t", new string(' ', (int)Int(a.Bind("expandtabs", ["tabsize"], 0, 8L)[0], "expandtabs")), StringComparison.Ordinal),
            _ => null,
        };
        return f is null ? null : new BoundMethod(s, name, (_, self, args) => f((string)self!, args));
    }

    private static PyTuple Partition(string s, string sep, bool reverse)
    {
        if (sep.Length == 0)
        {
            throw ChatTemplateException.Runtime("ValueError", "empty separator");
        }

        int k = reverse ? s.LastIndexOf(sep, StringComparison.Ordinal) : s.IndexOf(sep, StringComparison.Ordinal);
        if (k < 0)
        {
            return reverse ? new PyTuple(["", "", s]) : new PyTuple([s, "", ""]);
        }

        return new PyTuple([s[..k], sep, s[(k + sep.Length)..]]);
    }

    private static bool StartsOrEnds(string s, CallArgs args, string name, bool ends)
    {
        var v = args.Bind(name, ["prefix", "start", "end"], 1, null, null);
        int len = PyString.Length(s);
        if (v[1] is not null || v[2] is not null)
        {
            long start = v[1] is null ? 0 : Normalize(Int(v[1], name), len);
            long end = v[2] is null ? len : Normalize(Int(v[2], name), len);
            s = start > end ? "" : PyString.Slice(s, new PySlice(start, end, null));
        }

        IEnumerable<object?> candidates = v[0] is PyTuple t ? t.Items : [v[0]];
        foreach (var c in candidates)
        {
            if (c is not string p)
            {
                throw TypeError($"{name} first arg must be str or a tuple of str, not {PyOps.TypeName(c)}");
            }

            if (ends ? s.EndsWith(p, StringComparison.Ordinal) : s.StartsWith(p, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Python's <c>int(str, base)</c>.</summary>
    public static bool TryParseInt(string text, long radix, out long value)
    {
        value = 0;
        string s = PyString.Strip(text).Replace("_", "", StringComparison.Ordinal);
        if (s.Length == 0 || text.Contains("__", StringComparison.Ordinal))
        {
            return false;
        }

        bool negative = false;
        if (s[0] is '+' or '-')
        {
            negative = s[0] == '-';
            s = s[1..];
        }

        if (radix == 16 && s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            s = s[2..];
        }
        else if (radix == 8 && s.StartsWith("0o", StringComparison.OrdinalIgnoreCase))
        {
            s = s[2..];
        }
        else if (radix == 2 && s.StartsWith("0b", StringComparison.OrdinalIgnoreCase))
        {
            s = s[2..];
        }
        else if (radix == 0)
        {
            (radix, s) = s.Length > 1 && s[0] == '0' ? char.ToLowerInvariant(s[1]) switch
            {
                'x' => (16L, s[2..]),
                'o' => (8L, s[2..]),
                'b' => (2L, s[2..]),
                _ => (10L, s),
            } : (10L, s);
        }

        if (s.Length == 0 || radix < 2 || radix > 36)
        {
            return false;
        }

        try
        {
            foreach (char c in s)
            {
                int d = c switch
                {
                    >= '0' and <= '9' => c - '0',
                    >= 'a' and <= 'z' => c - 'a' + 10,
                    >= 'A' and <= 'Z' => c - 'A' + 10,
                    _ => 99,
                };
                if (d >= radix)
                {
                    return false;
                }

                value = checked((value * radix) + d);
            }
        }
        catch (OverflowException)
        {
            return false;
        }

        value = negative ? -value : value;
        return true;
    }

    /// <summary>Python's <c>float(str)</c>.</summary>
    public static bool TryParseFloat(string text, out double value)
    {
        string s = PyString.Strip(text);
        string lower = s.ToLowerInvariant();
        string unsigned = lower.TrimStart('+', '-');
        if (unsigned is "nan" or "inf" or "infinity")
        {
            bool negative = lower.StartsWith('-');
            value = unsigned == "nan" ? double.NaN : negative ? double.NegativeInfinity : double.PositiveInfinity;
            return lower.Length - unsigned.Length <= 1;
        }

        if (s.Contains("__", StringComparison.Ordinal) || s.StartsWith('_') || s.EndsWith('_'))
        {
            value = 0;
            return false;
        }

        return double.TryParse(s.Replace("_", "", StringComparison.Ordinal), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out value)
            && s.Length > 0 && !s.EndsWith('e') && !s.EndsWith('E');
    }
}
