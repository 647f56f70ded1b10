using System.Globalization;
using System.Text;

namespace MLNetTransformers.Tokenizers.ChatTemplates;

/// <summary>The global functions: Jinja's <c>range</c>, <c>dict</c>, <c>namespace</c>, <c>joiner</c>, and transformers'
/// <c>raise_exception</c> and <c>strftime_now</c>.</summary>
internal static class Globals
{
    private static readonly Dictionary<string, BuiltinFunction> Functions = new(StringComparer.Ordinal)
    {
        ["range"] = new("range", static (_, a) => Range(a)),
        ["dict"] = new("dict", static (_, a) => Dict(a, "dict")),
        ["namespace"] = new("namespace", static (_, a) =>
        {
            var ns = new PyNamespace();
            foreach (var (k, v) in Dict(a, "Namespace").Entries)
            {
                ns.Attributes.Set(k, v);
            }

            return ns;
        }),
        ["joiner"] = new("joiner", static (_, a) =>
        {
            string sep = PyRepr.Str(a.Bind("joiner", ["sep"], 0, ", ")[0]);
            bool used = false;
            return new BuiltinFunction("joiner", (_, _) =>
            {
                if (!used)
                {
                    used = true;
                    return "";
                }

                return sep;
            });
        }),
        ["raise_exception"] = new("raise_exception", static (_, a) =>
            throw ChatTemplateException.Raised(PyRepr.Str(a.Bind("raise_exception", ["message"], 1)[0]), 0, 0)),
        ["strftime_now"] = new("strftime_now", static (it, a) =>
        {
            object? format = a.Bind("strftime_now", ["format"], 1)[0];
            return Strftime(it.Clock(), format as string ?? throw ChatTemplateException.Runtime("TypeError", $"strftime() argument 1 must be str, not {PyOps.TypeName(format)}"));
        }),
    };

    public static Scope CreateRoot()
    {
        var scope = new Scope(null);
        foreach (var (name, f) in Functions)
        {
            scope.Set(name, f);
        }

        return scope;
    }

    private static long Int(object? v) =>
        PyOps.IsInt(v) ? PyOps.AsLong(v) : throw ChatTemplateException.Runtime("TypeError", $"'{PyOps.TypeName(v)}' object cannot be interpreted as an integer");

    private static PyRange Range(CallArgs a)
    {
        if (a.Keywords.Count > 0)
        {
            throw ChatTemplateException.Runtime("TypeError", "range() takes no keyword arguments");
        }

        var p = a.Positional;
        PyRange r = p.Count switch
        {
            1 => new PyRange(0, Int(p[0]), 1),
            2 => new PyRange(Int(p[0]), Int(p[1]), 1),
            3 => new PyRange(Int(p[0]), Int(p[1]), Int(p[2]) is long step && step != 0 ? step : throw ChatTemplateException.Runtime("ValueError", "range() arg 3 must not be zero")),
            0 => throw ChatTemplateException.Runtime("TypeError", "range expected at least 1 argument, got 0"),
            _ => throw ChatTemplateException.Runtime("TypeError", $"range expected at most 3 arguments, got {p.Count}"),
        };
        if (r.Length > ChatTemplateLimits.MaxRange)
        {
            throw ChatTemplateException.Runtime("OverflowError", $"Range too big. The sandbox blocks ranges larger than MAX_RANGE ({ChatTemplateLimits.MaxRange}).");
        }

        return r;
    }

    private static PyDict Dict(CallArgs a, string name)
    {
        if (a.Positional.Count > 1)
        {
            throw ChatTemplateException.Runtime("TypeError", $"{name} expected at most 1 argument, got {a.Positional.Count}");
        }

        var d = new PyDict();
        if (a.Positional.Count == 1)
        {
            if (a.Positional[0] is PyDict source)
            {
                foreach (var (k, v) in source.Entries)
                {
                    d.Set(k, v);
                }
            }
            else
            {
                foreach (var pair in PyOps.Iterate(a.Positional[0]))
                {
                    var kv = PyOps.Iterate(pair).ToList();
                    if (kv.Count != 2)
                    {
                        throw ChatTemplateException.Runtime("ValueError", $"dictionary update sequence element has length {kv.Count}; 2 is required");
                    }

                    d.Set(kv[0], kv[1]);
                }
            }
        }

        foreach (var (k, v) in a.Keywords)
        {
            d.Set(k, v);
        }

        return d;
    }

    private static readonly string[] DayAbbr = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    private static readonly string[] DayFull = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
    private static readonly string[] MonthAbbr = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    private static readonly string[] MonthFull = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    /// <summary>Python's <c>datetime.strftime</c> (glibc's directives, C locale; a naive local time, so %z and %Z are empty).</summary>
    internal static string Strftime(DateTime t, string format)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c != '%' || i + 1 >= format.Length)
            {
                sb.Append(c);
                continue;
            }

            int start = i;
            char flag = '\0';
            char d = format[++i];
            if (d is '-' or '_' or '0' or '^' or '#')
            {
                if (i + 1 >= format.Length)
                {
                    sb.Append(format, start, format.Length - start);
                    break;
                }

                flag = d;
                d = format[++i];
            }

            string Num(int value, int width, char pad = '0')
            {
                string s = value.ToString(CultureInfo.InvariantCulture);
                return flag switch
                {
                    '-' => s,
                    '_' => s.PadLeft(width, ' '),
                    '0' => s.PadLeft(width, '0'),
                    _ => s.PadLeft(width, pad),
                };
            }

            string Text(string s) => flag == '^' ? s.ToUpperInvariant() : s;

            int hour12 = t.Hour % 12 == 0 ? 12 : t.Hour % 12;
            string? piece = d switch
            {
                'a' => Text(DayAbbr[(int)t.DayOfWeek]),
                'A' => Text(DayFull[(int)t.DayOfWeek]),
                'w' => Num((int)t.DayOfWeek, 1),
                'u' => Num(t.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)t.DayOfWeek, 1),
                'd' => Num(t.Day, 2),
                'e' => Num(t.Day, 2, ' '),
                'b' or 'h' => Text(MonthAbbr[t.Month - 1]),
                'B' => Text(MonthFull[t.Month - 1]),
                'm' => Num(t.Month, 2),
                'y' => Num(t.Year % 100, 2),
                'Y' => Num(t.Year, 1),
                'C' => Num(t.Year / 100, 2),
                'H' => Num(t.Hour, 2),
                'k' => Num(t.Hour, 2, ' '),
                'I' => Num(hour12, 2),
                'l' => Num(hour12, 2, ' '),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'P' => t.Hour < 12 ? "am" : "pm",
                'M' => Num(t.Minute, 2),
                'S' => Num(t.Second, 2),
                'f' => ((t.Ticks % TimeSpan.TicksPerSecond) / 10).ToString("000000", CultureInfo.InvariantCulture),
                'j' => Num(t.DayOfYear, 3),
                'U' => Num((t.DayOfYear + 6 - (int)t.DayOfWeek) / 7, 2),
                'W' => Num((t.DayOfYear + 6 - (((int)t.DayOfWeek + 6) % 7)) / 7, 2),
                'G' => Num(ISOWeek.GetYear(t), 1),
                'g' => Num(ISOWeek.GetYear(t) % 100, 2),
                'V' => Num(ISOWeek.GetWeekOfYear(t), 2),
                'z' or 'Z' => "",
                's' => ((long)(t - DateTime.UnixEpoch).TotalSeconds).ToString(CultureInfo.InvariantCulture),
                'c' => Strftime(t, "%a %b %e %H:%M:%S %Y"),
                'x' or 'D' => Strftime(t, "%m/%d/%y"),
                'X' or 'T' => Strftime(t, "%H:%M:%S"),
                'F' => Strftime(t, "%Y-%m-%d"),
                'R' => Strftime(t, "%H:%M"),
                'r' => Strftime(t, "%I:%M:%S %p"),
                'n' => "\n",
                't' => "\t",
                '%' => "%",
                _ => null,
            };
            sb.Append(piece ?? format[start..(i + 1)]);
        }

        return sb.ToString();
    }
}
