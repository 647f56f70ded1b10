using System.Globalization;
using System.Numerics;
using System.Text;

namespace MLNetTransformers.Tokenizers.ChatTemplates;

/// <summary>Python's number formatting (exact, round-half-even like CPython), <c>str % args</c> and <c>str.format</c>.</summary>
internal static class PyFormat
{
    private static ChatTemplateException TypeError(string message) => ChatTemplateException.Runtime("TypeError", message);

    private static ChatTemplateException ValueError(string message) => ChatTemplateException.Runtime("ValueError", message);

    /// <summary>round_half_even(|value| × 10^pow10), exactly.</summary>
    public static BigInteger RoundScaled(double value, int pow10)
    {
        long bits = BitConverter.DoubleToInt64Bits(Math.Abs(value));
        int exponent = (int)((bits >> 52) & 0x7FF);
        long mantissa = bits & 0xFFFFFFFFFFFFFL;
        if (exponent == 0)
        {
            exponent = 1;
        }
        else
        {
            mantissa |= 1L << 52;
        }

        int exp2 = exponent - 1075;
        BigInteger num = mantissa;
        BigInteger den = BigInteger.One;
        if (exp2 > 0)
        {
            num <<= exp2;
        }
        else
        {
            den <<= -exp2;
        }

        if (pow10 > 0)
        {
            num *= BigInteger.Pow(10, pow10);
        }
        else if (pow10 < 0)
        {
            den *= BigInteger.Pow(10, -pow10);
        }

        BigInteger q = BigInteger.DivRem(num, den, out BigInteger r);
        int c = (r * 2).CompareTo(den);
        if (c > 0 || (c == 0 && !q.IsEven))
        {
            q += 1;
        }

        return q;
    }

    /// <summary>Python's <c>round(value, ndigits)</c> for a float.</summary>
    public static double Round(double value, long ndigits)
    {
        if (double.IsNaN(value) || double.IsInfinity(value) || value == 0)
        {
            return value;
        }

        if (ndigits > 400)
        {
            return value;
        }

        if (ndigits < -400)
        {
            return Math.CopySign(0.0, value);
        }

        int n = (int)ndigits;
        BigInteger q = RoundScaled(value, n);
        string digits = q.ToString(CultureInfo.InvariantCulture);
        string text = n >= 0 ? digits + "e-" + n.ToString(CultureInfo.InvariantCulture) : digits + "e" + (-n).ToString(CultureInfo.InvariantCulture);
        double result = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        return value < 0 ? -result : result;
    }

    /// <summary><c>'%.{precision}f'</c> of |value| (no sign).</summary>
    public static string Fixed(double value, int precision)
    {
        string digits = RoundScaled(value, precision).ToString(CultureInfo.InvariantCulture);
        if (precision == 0)
        {
            return digits;
        }

        if (digits.Length <= precision)
        {
            digits = new string('0', precision - digits.Length + 1) + digits;
        }

        return digits[..^precision] + "." + digits[^precision..];
    }

    /// <summary>The digits (precision + 1 of them) and decimal exponent of |value| in scientific notation.</summary>
    private static (string Digits, int Exponent) Scientific(double value, int precision)
    {
        if (value == 0)
        {
            return (new string('0', precision + 1), 0);
        }

        int e = (int)Math.Floor(Math.Log10(Math.Abs(value)));
        for (int attempt = 0; attempt < 3; attempt++)
        {
            string digits = RoundScaled(value, precision - e).ToString(CultureInfo.InvariantCulture);
            if (digits.Length == precision + 1)
            {
                return (digits, e);
            }

            e += digits.Length > precision + 1 ? 1 : -1;
        }

        string last = RoundScaled(value, precision - e).ToString(CultureInfo.InvariantCulture);
        return (last[..(precision + 1)], e);
    }

    private static string Exp(double value, int precision, bool upper, bool alternate)
    {
        var (digits, e) = Scientific(value, precision);
        var sb = new StringBuilder();
        sb.Append(digits[0]);
        if (precision > 0 || alternate)
        {
            sb.Append('.').Append(digits, 1, digits.Length - 1);
        }

        sb.Append(upper ? 'E' : 'e').Append(e < 0 ? '-' : '+').Append(Math.Abs(e).ToString("00", CultureInfo.InvariantCulture));
        return sb.ToString();
    }

    private static string General(double value, int precision, bool upper, bool alternate)
    {
        if (precision == 0)
        {
            precision = 1;
        }

        var (_, e) = Scientific(value, precision - 1);
        string result = e >= -4 && e < precision ? Fixed(value, precision - 1 - e) : Exp(value, precision - 1, upper, alternate);
        if (!alternate)
        {
            int ePos = result.IndexOfAny(['e', 'E']);
            string mantissa = ePos >= 0 ? result[..ePos] : result;
            string suffix = ePos >= 0 ? result[ePos..] : "";
            if (mantissa.Contains('.', StringComparison.Ordinal))
            {
                mantissa = mantissa.TrimEnd('0').TrimEnd('.');
            }

            result = mantissa + suffix;
        }

        return result;
    }

    /// <summary>Formats |value| (no sign) for the float presentation types e, E, f, F, g, G, %.</summary>
    private static string FloatBody(double value, char type, int? precision, bool alternate)
    {
        if (double.IsNaN(value))
        {
            return char.IsUpper(type) ? "NAN" : "nan";
        }

        if (double.IsInfinity(value))
        {
            return char.IsUpper(type) ? "INF" : "inf";
        }

        int p = precision ?? 6;
        string body = type switch
        {
            'e' or 'E' => Exp(value, p, type == 'E', alternate),
            'f' or 'F' => Fixed(value, p),
            '%' => Fixed(value * 100, p),
            _ => General(value, p, type == 'G', alternate),
        };
        if (alternate && type is 'f' or 'F' or '%' && p == 0)
        {
            body += ".";
        }

        return body;
    }

    private static string IntBody(BigInteger magnitude, char type, bool alternate) => type switch
    {
        'x' => (alternate ? "0x" : "") + ToRadix(magnitude, 16, false),
        'X' => (alternate ? "0X" : "") + ToRadix(magnitude, 16, true),
        'o' => (alternate ? "0o" : "") + ToRadix(magnitude, 8, false),
        'b' => (alternate ? "0b" : "") + ToRadix(magnitude, 2, false),
        _ => magnitude.ToString(CultureInfo.InvariantCulture),
    };

    private static string ToRadix(BigInteger value, int radix, bool upper)
    {
        if (value.IsZero)
        {
            return "0";
        }

        var sb = new StringBuilder();
        string alphabet = upper ? "0123456789ABCDEF" : "0123456789abcdef";
        while (!value.IsZero)
        {
            sb.Insert(0, alphabet[(int)(value % radix)]);
            value /= radix;
        }

        return sb.ToString();
    }

    /// <summary>Python's <c>format % args</c>.</summary>
    public static string Percent(string format, object? args)
    {
        if (args is Undefined u && format.Contains("%(", StringComparison.Ordinal))
        {
            throw u.Fail();
        }

        List<object?> values = args is PyTuple t ? [.. t.Items] : [args];
        PyDict? mapping = args as PyDict;
        int next = 0;
        bool usedMapping = false;
        var sb = new StringBuilder();

        object? NextArg()
        {
            if (next >= values.Count)
            {
                throw TypeError("not enough arguments for format string");
            }

            return values[next++];
        }

        int i = 0;
        while (i < format.Length)
        {
            char c = format[i++];
            if (c != '%')
            {
                sb.Append(c);
                continue;
            }

            if (i >= format.Length)
            {
                throw ValueError("incomplete format");
            }

            object? value = null;
            bool haveValue = false;
            if (format[i] == '(')
            {
                if (mapping is null)
                {
                    throw TypeError("format requires a mapping");
                }

                int depth = 1;
                int start = ++i;
                while (i < format.Length && depth > 0)
                {
                    if (format[i] == '(')
                    {
                        depth++;
                    }
                    else if (format[i] == ')')
                    {
                        depth--;
                    }

                    i++;
                }

                string key = format[start..(i - 1)];
                if (!mapping.TryGetValue(key, out value))
                {
                    throw ChatTemplateException.Runtime("KeyError", PyRepr.Quote(key));
                }

                haveValue = true;
                usedMapping = true;
            }

            string flags = "";
            while (i < format.Length && "-+ #0".Contains(format[i], StringComparison.Ordinal))
            {
                flags += format[i++];
            }

            int? width = null;
            if (i < format.Length && format[i] == '*')
            {
                i++;
                width = (int)PyOps.AsLong(NextArg());
            }
            else
            {
                int start = i;
                while (i < format.Length && char.IsAsciiDigit(format[i]))
                {
                    i++;
                }

                if (i > start)
                {
                    width = int.Parse(format[start..i], CultureInfo.InvariantCulture);
                }
            }

            int? precision = null;
            if (i < format.Length && format[i] == '.')
            {
                i++;
                if (i < format.Length && format[i] == '*')
                {
                    i++;
                    precision = (int)PyOps.AsLong(NextArg());
                }
                else
                {
                    int start = i;
                    while (i < format.Length && char.IsAsciiDigit(format[i]))
                    {
                        i++;
                    }

                    precision = i > start ? int.Parse(format[start..i], CultureInfo.InvariantCulture) : 0;
                }
            }

            while (i < format.Length && format[i] is 'h' or 'l' or 'L')
            {
                i++;
            }

            if (i >= format.Length)
            {
                throw ValueError("incomplete format");
            }

            char type = format[i++];
            if (type == '%')
            {
                sb.Append('%');
                continue;
            }

            if (!haveValue)
            {
                value = NextArg();
            }

            bool left = flags.Contains('-', StringComparison.Ordinal);
            bool zero = flags.Contains('0', StringComparison.Ordinal) && !left;
            bool alternate = flags.Contains('#', StringComparison.Ordinal);
            string sign = flags.Contains('+', StringComparison.Ordinal) ? "+" : flags.Contains(' ', StringComparison.Ordinal) ? " " : "";
            string text;
            string prefixSign = "";
            bool numeric = true;
            switch (type)
            {
                case 's' or 'r' or 'a':
                    numeric = false;
                    text = type == 's' ? PyRepr.Str(value) : PyRepr.Repr(value);
                    if (precision is int p && p < PyString.Length(text))
                    {
                        text = PyString.Slice(text, new PySlice(0L, (long)p, null));
                    }

                    break;
                case 'd' or 'i' or 'u' or 'x' or 'X' or 'o':
                    {
                        BigInteger n = value switch
                        {
                            long l => l,
                            bool b => b ? 1 : 0,
                            double d when type is 'd' or 'i' or 'u' && !double.IsNaN(d) && !double.IsInfinity(d) => new BigInteger(Math.Truncate(d)),
                            _ => throw TypeError($"%{type} format: {(type is 'd' or 'i' or 'u' ? "a real number" : "an integer")} is required, not {PyOps.TypeName(value)}"),
                        };
                        prefixSign = n.Sign < 0 ? "-" : sign;
                        text = IntBody(BigInteger.Abs(n), type == 'u' || type == 'i' ? 'd' : type, alternate);
                        if (precision is int minDigits && text.Length < minDigits)
                        {
                            text = new string('0', minDigits - text.Length) + text;
                        }

                        break;
                    }

                case 'e' or 'E' or 'f' or 'F' or 'g' or 'G':
                    {
                        if (!PyOps.IsNumber(value))
                        {
                            throw TypeError($"must be real number, not {PyOps.TypeName(value)}");
                        }

                        double d = PyOps.AsDouble(value);
                        prefixSign = double.IsNegative(d) && !double.IsNaN(d) ? "-" : sign;
                        text = FloatBody(Math.Abs(d), type, precision, alternate);
                        break;
                    }

                case 'c':
                    numeric = false;
                    text = value switch
                    {
                        long l when l >= 0 && l <= 0x10FFFF => PyString.CodePointToString((int)l),
                        string s when PyString.Length(s) == 1 => s,
                        _ => throw TypeError("%c requires int or char"),
                    };
                    break;
                default:
                    throw ValueError($"unsupported format character '{type}' (0x{(int)type:x}) at index {i - 1}");
            }

            int w = width ?? 0;
            if (w < 0)
            {
                left = true;
                w = -w;
            }

            int length = PyString.Length(text) + prefixSign.Length;
            if (length >= w)
            {
                sb.Append(prefixSign).Append(text);
            }
            else if (left)
            {
                sb.Append(prefixSign).Append(text).Append(' ', w - length);
            }
            else if (zero && numeric)
            {
                sb.Append(prefixSign).Append('0', w - length).Append(text);
            }
            else
            {
                sb.Append(' ', w - length).Append(prefixSign).Append(text);
            }
        }

        // CPython treats any non-tuple, non-str argument with __getitem__ (dict, list, range) as a mapping: no leftover check
        bool mappingLike = args is PyDict or List<object?> or PyRange or Undefined;
        if (!usedMapping && !mappingLike && next < values.Count)
        {
            throw TypeError("not all arguments converted during string formatting");
        }

        return sb.ToString();
    }

    /// <summary>Python's <c>str.format(*args, **kwargs)</c> (the sandbox's formatter: attribute and item lookups in fields go
    /// through the sandbox).</summary>
    public static string Format(string format, CallArgs args)
    {
        var sb = new StringBuilder();
        int auto = 0;
        int i = 0;
        while (i < format.Length)
        {
            char c = format[i];
            if (c == '}')
            {
                if (i + 1 < format.Length && format[i + 1] == '}')
                {
                    sb.Append('}');
                    i += 2;
                    continue;
                }

                throw ValueError("Single '}' encountered in format string");
            }

            if (c != '{')
            {
                sb.Append(c);
                i++;
                continue;
            }

            if (i + 1 < format.Length && format[i + 1] == '{')
            {
                sb.Append('{');
                i += 2;
                continue;
            }

            int depth = 1;
            int start = ++i;
            while (i < format.Length && depth > 0)
            {
                if (format[i] == '{')
                {
                    depth++;
                }
                else if (format[i] == '}')
                {
                    depth--;
                }

                i++;
            }

            if (depth > 0)
            {
                throw ValueError("expected '}' before end of string");
            }

            string field = format[start..(i - 1)];
            string spec = "";
            char conversion = '\0';
            int colon = IndexOutsideBrackets(field, ':');
            if (colon >= 0)
            {
                spec = field[(colon + 1)..];
                field = field[..colon];
            }

            int bang = IndexOutsideBrackets(field, '!');
            if (bang >= 0)
            {
                conversion = bang + 1 < field.Length ? field[bang + 1] : '\0';
                field = field[..bang];
            }

            if (spec.Contains('{', StringComparison.Ordinal))
            {
                spec = Format(spec, args);
            }

            object? value = ResolveField(field, args, ref auto);
            value = conversion switch
            {
                'r' or 'a' => PyRepr.Repr(value),
                's' => PyRepr.Str(value),
                '\0' => value,
                _ => throw ValueError($"Unknown conversion specifier {conversion}"),
            };
            sb.Append(FormatValue(value, spec));
        }

        return sb.ToString();
    }

    private static int IndexOutsideBrackets(string s, char c)
    {
        bool inBracket = false;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '[')
            {
                inBracket = true;
            }
            else if (s[i] == ']')
            {
                inBracket = false;
            }
            else if (s[i] == c && !inBracket)
            {
                return i;
            }
        }

        return -1;
    }

    private static object? ResolveField(string field, CallArgs args, ref int auto)
    {
        int end = 0;
        while (end < field.Length && field[end] != '.' && field[end] != '[')
        {
            end++;
        }

        string first = field[..end];
        object? value;
        if (first.Length == 0)
        {
            if (auto < 0)
            {
                throw ValueError("cannot switch from manual field specification to automatic field numbering");
            }

            value = auto < args.Positional.Count ? args.Positional[auto] : throw ChatTemplateException.Runtime("IndexError", $"Replacement index {auto} out of range for positional args tuple");
            auto++;
        }
        else if (int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
        {
            if (auto > 0)
            {
                throw ValueError("cannot switch from automatic field numbering to manual field specification");
            }

            auto = -1;
            value = index < args.Positional.Count ? args.Positional[index] : throw ChatTemplateException.Runtime("IndexError", $"Replacement index {index} out of range for positional args tuple");
        }
        else
        {
            var kw = args.Keywords.FindLast(k => k.Key == first);
            value = kw.Key is null ? throw ChatTemplateException.Runtime("KeyError", PyRepr.Quote(first)) : kw.Value;
        }

        int pos = end;
        while (pos < field.Length)
        {
            if (field[pos] == '.')
            {
                int s = ++pos;
                while (pos < field.Length && field[pos] != '.' && field[pos] != '[')
                {
                    pos++;
                }

                value = PyOps.GetAttr(value, field[s..pos]);
            }
            else
            {
                int close = field.IndexOf(']', pos);
                if (close < 0)
                {
                    throw ValueError("Missing ']' in format string");
                }

                string key = field[(pos + 1)..close];
                object? k = long.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : key;
                value = PyOps.GetItem(value, k);
                pos = close + 1;
            }
        }

        return value;
    }

    /// <summary>Python's <c>format(value, spec)</c> for str, int, float, bool and None.</summary>
    public static string FormatValue(object? value, string spec)
    {
        if (spec.Length == 0)
        {
            return PyRepr.Str(value);
        }

        // [[fill]align][sign][z][#][0][width][grouping][.precision][type]
        int i = 0;
        char fill = ' ';
        char align = '\0';
        if (spec.Length >= 2 && spec[1] is '<' or '>' or '^' or '=')
        {
            fill = spec[0];
            align = spec[1];
            i = 2;
        }
        else if (spec[0] is '<' or '>' or '^' or '=')
        {
            align = spec[0];
            i = 1;
        }

        char sign = '-';
        if (i < spec.Length && spec[i] is '+' or '-' or ' ')
        {
            sign = spec[i++];
        }

        if (i < spec.Length && spec[i] == 'z')
        {
            i++;
        }

        bool alternate = false;
        if (i < spec.Length && spec[i] == '#')
        {
            alternate = true;
            i++;
        }

        if (i < spec.Length && spec[i] == '0')
        {
            if (align == '\0')
            {
                fill = '0';
                align = '=';
            }

            i++;
        }

        int width = 0;
        while (i < spec.Length && char.IsAsciiDigit(spec[i]))
        {
            width = checked((width * 10) + (spec[i++] - '0'));
        }

        char grouping = '\0';
        if (i < spec.Length && spec[i] is ',' or '_')
        {
            grouping = spec[i++];
        }

        int? precision = null;
        if (i < spec.Length && spec[i] == '.')
        {
            i++;
            int p = 0;
            while (i < spec.Length && char.IsAsciiDigit(spec[i]))
            {
                p = (p * 10) + (spec[i++] - '0');
            }

            precision = p;
        }

        char type = i < spec.Length ? spec[i++] : '\0';
        if (i < spec.Length)
        {
            throw ValueError("Invalid format specifier");
        }

        string body;
        string signText = "";
        bool numeric = true;
        if (value is string s)
        {
            if (type is not ('\0' or 's'))
            {
                throw ValueError($"Unknown format code '{type}' for object of type 'str'");
            }

            numeric = false;
            body = precision is int p && p < PyString.Length(s) ? PyString.Slice(s, new PySlice(0L, (long)p, null)) : s;
            if (align == '\0')
            {
                align = '<';
            }
        }
        else if (PyOps.IsInt(value) && type is '\0' or 'd' or 'n' or 'x' or 'X' or 'o' or 'b' or 'c')
        {
            if (value is bool && type == '\0')
            {
                return FormatValue(PyRepr.Str(value), spec);
            }

            long n = PyOps.AsLong(value);
            if (type == 'c')
            {
                body = PyString.CodePointToString((int)n);
            }
            else
            {
                body = IntBody(BigInteger.Abs(n), type is '\0' or 'n' ? 'd' : type, alternate);
                body = Group(body, grouping, type is 'x' or 'X' or 'o' or 'b' ? 4 : 3, alternate && type is not ('\0' or 'd' or 'n') ? 2 : 0);
            }

            signText = n < 0 ? "-" : sign == '-' ? "" : sign.ToString();
        }
        else if (PyOps.IsNumber(value))
        {
            double d = PyOps.AsDouble(value);
            char t = type;
            if (t == '\0')
            {
                body = precision is null ? PyRepr.Float(Math.Abs(d)) : FloatBody(Math.Abs(d), 'g', precision, alternate);
                if (precision is not null && !body.Contains('.', StringComparison.Ordinal) && !body.Contains('e', StringComparison.Ordinal) && !double.IsNaN(d) && !double.IsInfinity(d))
                {
                    body += ".0";
                }
            }
            else if (t is 'e' or 'E' or 'f' or 'F' or 'g' or 'G' or '%' or 'n')
            {
                body = FloatBody(Math.Abs(d), t == 'n' ? 'g' : t, precision, alternate);
                if (t == '%')
                {
                    body += "%";
                }
            }
            else
            {
                throw ValueError($"Unknown format code '{type}' for object of type '{PyOps.TypeName(value)}'");
            }

            int dot = body.IndexOfAny(['.', 'e', 'E', '%']);
            string intPart = dot >= 0 ? body[..dot] : body;
            if (grouping != '\0' && intPart.All(char.IsAsciiDigit))
            {
                body = Group(intPart, grouping, 3, 0) + (dot >= 0 ? body[dot..] : "");
            }

            signText = double.IsNegative(d) && !double.IsNaN(d) ? "-" : sign == '-' ? "" : sign.ToString();
        }
        else
        {
            if (type != '\0' && type != 's')
            {
                throw TypeError($"unsupported format string passed to {PyOps.TypeName(value)}.__format__");
            }

            return FormatValue(PyRepr.Str(value), spec);
        }

        if (align == '\0')
        {
            align = numeric ? '>' : '<';
        }

        int length = PyString.Length(body) + signText.Length;
        if (length >= width)
        {
            return signText + body;
        }

        int pad = width - length;
        string f = fill.ToString();
        return align switch
        {
            '<' => signText + body + PyString.Repeat(f, pad),
            '>' => PyString.Repeat(f, pad) + signText + body,
            '^' => PyString.Repeat(f, pad / 2) + signText + body + PyString.Repeat(f, pad - (pad / 2)),
            _ => signText + PyString.Repeat(f, pad) + body,
        };
    }

    private static string Group(string digits, char separator, int size, int prefixLength)
    {
        if (separator == '\0')
        {
            return digits;
        }

        string prefix = digits[..prefixLength];
        string rest = digits[prefixLength..];
        var sb = new StringBuilder();
        for (int i = 0; i < rest.Length; i++)
        {
            if (i > 0 && (rest.Length - i) % size == 0)
            {
                sb.Append(separator);
            }

            sb.Append(rest[i]);
        }

        return prefix + sb;
    }
}
