using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace MLNetTransformers.Tokenizers.ChatTemplates;

/// <summary>Python's <c>str()</c> and <c>repr()</c> of template values (what <c>{{ value }}</c> prints).</summary>
internal static class PyRepr
{
    /// <summary>Python's <c>str(value)</c>; Undefined is "".</summary>
    public static string Str(object? value) => value switch
    {
        string s => s,
        Undefined => "",
        _ => Repr(value),
    };

    /// <summary>Python's <c>repr(value)</c>.</summary>
    public static string Repr(object? value)
    {
        var sb = new StringBuilder();
        AppendRepr(sb, value, 0);
        return sb.ToString();
    }

    private static void AppendRepr(StringBuilder sb, object? value, int depth)
    {
        if (depth > ChatTemplateLimits.MaxOutputDepth)
        {
            throw ChatTemplateException.Runtime("RecursionError", "maximum recursion depth exceeded while getting the repr of an object");
        }

        RuntimeHelpers.EnsureSufficientExecutionStack();

        switch (value)
        {
            case null:
                sb.Append("None");
                break;
            case bool b:
                sb.Append(b ? "True" : "False");
                break;
            case long l:
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                sb.Append(Float(d));
                break;
            case string s:
                AppendStr(sb, s);
                break;
            case List<object?> list:
                sb.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(", ");
                    }

                    AppendRepr(sb, list[i], depth + 1);
                }

                sb.Append(']');
                break;
            case PyTuple t:
                sb.Append('(');
                for (int i = 0; i < t.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(", ");
                    }

                    AppendRepr(sb, t.Items[i], depth + 1);
                }

                sb.Append(t.Count == 1 ? ",)" : ")");
                break;
            case PyDict d:
                AppendDict(sb, d, depth);
                break;
            case PyNamespace ns:
                sb.Append("<Namespace ");
                AppendDict(sb, ns.Attributes, depth);
                sb.Append('>');
                break;
            case PyRange r:
                sb.Append("range(").Append(r.Start).Append(", ").Append(r.Stop);
                if (r.Step != 1)
                {
                    sb.Append(", ").Append(r.Step);
                }

                sb.Append(')');
                break;
            case PyDictView v:
                sb.Append(v.Kind switch { DictViewKind.Keys => "dict_keys(", DictViewKind.Values => "dict_values(", _ => "dict_items(" });
                AppendRepr(sb, v.Values().ToList(), depth + 1);
                sb.Append(')');
                break;
            case Undefined:
                sb.Append("Undefined");
                break;
            case PyIterator it:
                sb.Append('<').Append(it.TypeName).Append(" object>");
                break;
            case LoopContext loop:
                sb.Append("<LoopContext ").Append(loop.Index0 + 1).Append('/').Append(loop.Length).Append('>');
                break;
            case MacroValue m:
                sb.Append("<Macro '").Append(m.Name).Append("'>");
                break;
            case BoundMethod m:
                sb.Append("<built-in method ").Append(m.Name).Append(" of ").Append(PyOps.TypeName(m.Self)).Append(" object>");
                break;
            case PyCallable c:
                sb.Append("<function ").Append(c.Name).Append('>');
                break;
            default:
                sb.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }

    private static void AppendDict(StringBuilder sb, PyDict d, int depth)
    {
        sb.Append('{');
        bool first = true;
        foreach (var (k, v) in d.Entries)
        {
            if (!first)
            {
                sb.Append(", ");
            }

            first = false;
            AppendRepr(sb, k, depth + 1);
            sb.Append(": ");
            AppendRepr(sb, v, depth + 1);
        }

        sb.Append('}');
    }

    /// <summary>Python's <c>repr(str)</c>: single quotes unless the text has a single quote and no double quote.</summary>
    public static string Quote(string s, bool forceSingle = false)
    {
        var sb = new StringBuilder(s.Length + 2);
        AppendStr(sb, s, forceSingle);
        return sb.ToString();
    }

    private static void AppendStr(StringBuilder sb, string s, bool forceSingle = false)
    {
        char quote = !forceSingle && s.Contains('\'', StringComparison.Ordinal) && !s.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        sb.Append(quote);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            int cp = c;
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                cp = char.ConvertToUtf32(c, s[i + 1]);
            }

            switch (cp)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (cp == quote)
                    {
                        sb.Append('\\').Append(quote);
                    }
                    else if (IsPrintable(cp))
                    {
                        PyString.AppendCodePoint(sb, cp);
                    }
                    else if (cp < 0x100)
                    {
                        sb.Append("\\x").Append(cp.ToString("x2", CultureInfo.InvariantCulture));
                    }
                    else if (cp < 0x10000)
                    {
                        sb.Append("\\u").Append(cp.ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append("\\U").Append(cp.ToString("x8", CultureInfo.InvariantCulture));
                    }

                    break;
            }

            if (cp > 0xFFFF)
            {
                i++;
            }
        }

        sb.Append(quote);
    }

    /// <summary>Python's <c>str.isprintable</c> for one code point.</summary>
    private static bool IsPrintable(int cp)
    {
        if (cp == ' ')
        {
            return true;
        }

        if (cp >= 0xD800 && cp <= 0xDFFF)
        {
            return false;
        }

        var cat = CharUnicodeInfo.GetUnicodeCategory(cp);
        return cat is not (UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
            or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator
            or UnicodeCategory.ParagraphSeparator or UnicodeCategory.SpaceSeparator);
    }

    /// <summary>Python's <c>repr(float)</c>: the shortest text that round-trips, exponent form below 1e-4 and from 1e16.</summary>
    public static string Float(double d)
    {
        if (double.IsNaN(d))
        {
            return "nan";
        }

        if (double.IsInfinity(d))
        {
            return d > 0 ? "inf" : "-inf";
        }

        if (d == 0)
        {
            return double.IsNegative(d) ? "-0.0" : "0.0";
        }

        var (negative, digits, decpt) = ShortestDigits(d);
        var sb = new StringBuilder();
        if (negative)
        {
            sb.Append('-');
        }

        if (decpt > -4 && decpt <= 16)
        {
            if (decpt <= 0)
            {
                sb.Append("0.").Append('0', -decpt).Append(digits);
            }
            else if (decpt >= digits.Length)
            {
                sb.Append(digits).Append('0', decpt - digits.Length).Append(".0");
            }
            else
            {
                sb.Append(digits, 0, decpt).Append('.').Append(digits, decpt, digits.Length - decpt);
            }
        }
        else
        {
            sb.Append(digits[0]);
            if (digits.Length > 1)
            {
                sb.Append('.').Append(digits, 1, digits.Length - 1);
            }

            int exp = decpt - 1;
            sb.Append('e').Append(exp < 0 ? '-' : '+').Append(Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    /// <summary>The shortest round-trip digits of |d| (no leading or trailing zeros) and the decimal point position:
    /// |d| = 0.digits × 10^decpt.</summary>
    internal static (bool Negative, string Digits, int Decpt) ShortestDigits(double d)
    {
        string r = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        int exp = 0;
        int e = r.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exp = int.Parse(r[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            r = r[..e];
        }

        int dot = r.IndexOf('.', StringComparison.Ordinal);
        string intPart = dot >= 0 ? r[..dot] : r;
        string frac = dot >= 0 ? r[(dot + 1)..] : "";
        string all = intPart + frac;
        int decpt = intPart.Length + exp;
        int lead = 0;
        while (lead < all.Length - 1 && all[lead] == '0')
        {
            lead++;
        }

        all = all[lead..];
        decpt -= lead;
        all = all.TrimEnd('0');
        if (all.Length == 0)
        {
            all = "0";
        }

        return (double.IsNegative(d), all, decpt);
    }
}
