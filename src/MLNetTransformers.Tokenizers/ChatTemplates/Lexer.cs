using System.Globalization;
using System.Text;

namespace MLNetTransformers.Tokenizers.ChatTemplates;

internal enum TokenKind
{
    Data,
    VariableBegin,
    VariableEnd,
    BlockBegin,
    BlockEnd,
    Name,
    String,
    Integer,
    Float,
    Operator,
    Eof,
}

/// <summary>One token; <see cref="Text"/> is the operator, name or data text, <see cref="Value"/> the literal's value.</summary>
internal readonly record struct Token(TokenKind Kind, string Text, object? Value, int Line, int Column)
{
    public bool IsName(string name) => Kind == TokenKind.Name && Text == name;

    public bool IsOperator(string op) => Kind == TokenKind.Operator && Text == op;

    /// <summary>Jinja's <c>describe_token</c>.</summary>
    public string Describe() => Kind switch
    {
        TokenKind.Name => Text,
        TokenKind.Operator => Text,
        _ => DescribeKind(Kind),
    };

    public static string DescribeKind(TokenKind kind) => kind switch
    {
        TokenKind.Data => "template data / text",
        TokenKind.VariableBegin => "begin of print statement",
        TokenKind.VariableEnd => "end of print statement",
        TokenKind.BlockBegin => "begin of statement block",
        TokenKind.BlockEnd => "end of statement block",
        TokenKind.Name => "name",
        TokenKind.String => "string",
        TokenKind.Integer => "integer",
        TokenKind.Float => "float",
        TokenKind.Eof => "end of template",
        _ => "operator",
    };
}

/// <summary>
/// Jinja2's lexer with Hugging Face's settings (<c>trim_blocks=True</c>, <c>lstrip_blocks=True</c>, newlines normalized to
/// <c>\n</c>, one trailing newline dropped): text, <c>{{ }}</c>, <c>{% %}</c>, <c>{# #}</c>, <c>{% raw %}</c>, and the
/// whitespace controls <c>-</c> and <c>+</c>.
/// </summary>
internal sealed class Lexer
{
    private static readonly string[] Operators =
    [
        "//", "**", "==", "!=", ">=", "<=",
        "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";",
    ];

    private readonly string _src;
    private readonly List<int> _lineStarts = [0];
    private readonly List<Token> _tokens = [];
    private readonly Stack<char> _balance = new();
    private int _pos;
    private bool _lineStarting = true;

    private Lexer(string source)
    {
        _src = Normalize(source);
        for (int i = 0; i < _src.Length; i++)
        {
            if (_src[i] == '\n')
            {
                _lineStarts.Add(i + 1);
            }
        }
    }

    public static List<Token> Tokenize(string source)
    {
        var lexer = new Lexer(source);
        lexer.Run();
        lexer.Add(TokenKind.Eof, "", null, lexer._src.Length);
        return lexer._tokens;
    }

    /// <summary>Every <c>\r\n</c>, <c>\r</c> and <c>\n</c> becomes <c>\n</c>; one trailing newline is dropped.</summary>
    internal static string Normalize(string source)
    {
        string s = source.Contains('\r', StringComparison.Ordinal)
            ? source.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n')
            : source;
        return s.EndsWith('\n') ? s[..^1] : s;
    }

    private (int Line, int Column) Position(int pos)
    {
        int index = _lineStarts.BinarySearch(pos);
        if (index < 0)
        {
            index = ~index - 1;
        }

        return (index + 1, pos - _lineStarts[index] + 1);
    }

    private ChatTemplateException Error(string message, int pos)
    {
        var (line, column) = Position(pos);
        return ChatTemplateException.Syntax(message, line, column);
    }

    private void Add(TokenKind kind, string text, object? value, int pos)
    {
        var (line, column) = Position(pos);
        _tokens.Add(new Token(kind, text, value, line, column));
    }

    private void Run()
    {
        while (_pos < _src.Length)
        {
            int tag = FindTagStart(_pos);
            if (tag < 0)
            {
                Add(TokenKind.Data, _src[_pos..], null, _pos);
                _pos = _src.Length;
                break;
            }

            char kind = _src[tag + 1];
            int after = tag + 2;
            char sign = after < _src.Length && (_src[after] == '-' || _src[after] == '+') ? _src[after] : '\0';
            int bodyStart = sign == '\0' ? after : after + 1;
            string text = _src[_pos..tag];
            int rawEnd = kind == '%' ? MatchRawBegin(bodyStart) : -1;

            text = StripText(text, sign, kind != '{');
            if (text.Length > 0)
            {
                Add(TokenKind.Data, text, null, _pos);
            }

            if (rawEnd >= 0)
            {
                _lineStarting = _src[rawEnd - 1] == '\n';
                _pos = rawEnd;
                LexRaw(tag);
                continue;
            }

            _lineStarting = false;
            switch (kind)
            {
                case '#':
                    _pos = bodyStart;
                    LexComment(tag);
                    break;
                case '{':
                    Add(TokenKind.VariableBegin, "{{", null, tag);
                    _pos = bodyStart;
                    LexTag(variable: true, tag);
                    break;
                default:
                    Add(TokenKind.BlockBegin, "{%", null, tag);
                    _pos = bodyStart;
                    LexTag(variable: false, tag);
                    break;
            }
        }
    }

    private int FindTagStart(int from)
    {
        for (int i = _src.IndexOf('{', from); i >= 0 && i + 1 < _src.Length; i = _src.IndexOf('{', i + 1))
        {
            char c = _src[i + 1];
            if (c == '{' || c == '%' || c == '#')
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Jinja's OptionalLStrip: <c>-</c> strips all whitespace before the tag; otherwise lstrip_blocks removes the
    /// spaces and tabs that start the tag's line.</summary>
    private string StripText(string text, char sign, bool lstripApplies)
    {
        if (sign == '-')
        {
            return PyString.RStrip(text);
        }

        if (sign != '+' && lstripApplies)
        {
            int lpos = text.LastIndexOf('\n') + 1;
            if ((lpos > 0 || _lineStarting) && lpos < text.Length && IsAllSpace(text, lpos))
            {
                return text[..lpos];
            }
        }

        return text;
    }

    private static bool IsAllSpace(string text, int from)
    {
        for (int i = from; i < text.Length; i++)
        {
            if (!PyString.IsSpace(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    private int SkipSpace(int p)
    {
        while (p < _src.Length && PyString.IsSpace(_src[p]))
        {
            p++;
        }

        return p;
    }

    /// <summary><c>\s*raw\s*(-%}\s*|%})</c> after <c>{%</c> and its sign; the end position or -1.</summary>
    private int MatchRawBegin(int p) => MatchKeywordTag(p, "raw", trimNewline: false, allowPlus: false);

    private int MatchKeywordTag(int p, string keyword, bool trimNewline, bool allowPlus)
    {
        p = SkipSpace(p);
        if (string.CompareOrdinal(_src, p, keyword, 0, keyword.Length) != 0)
        {
            return -1;
        }

        p = SkipSpace(p + keyword.Length);
        return MatchBlockEnd(p, trimNewline, allowPlus);
    }

    /// <summary><c>+%}</c> | <c>-%}\s*</c> | <c>%}\n?</c> at p; the end position or -1.</summary>
    private int MatchBlockEnd(int p, bool trimNewline, bool allowPlus)
    {
        if (allowPlus && Starts(p, "+%}"))
        {
            return p + 3;
        }

        if (Starts(p, "-%}"))
        {
            return SkipSpace(p + 3);
        }

        if (Starts(p, "%}"))
        {
            p += 2;
            return trimNewline && p < _src.Length && _src[p] == '\n' ? p + 1 : p;
        }

        return -1;
    }

    private bool Starts(int p, string s) => p + s.Length <= _src.Length && string.CompareOrdinal(_src, p, s, 0, s.Length) == 0;

    private void LexComment(int tagStart)
    {
        for (int p = _pos; p < _src.Length; p++)
        {
            int end = -1;
            if (Starts(p, "+#}"))
            {
                end = p + 3;
            }
            else if (Starts(p, "-#}"))
            {
                end = SkipSpace(p + 3);
            }
            else if (Starts(p, "#}"))
            {
                end = p + 2 < _src.Length && _src[p + 2] == '\n' ? p + 3 : p + 2;
            }

            if (end >= 0)
            {
                _lineStarting = _src[end - 1] == '\n';
                _pos = end;
                return;
            }
        }

        throw Error("Missing end of comment tag", tagStart);
    }

    private void LexRaw(int tagStart)
    {
        for (int p = _src.IndexOf("{%", _pos, StringComparison.Ordinal); p >= 0; p = _src.IndexOf("{%", p + 1, StringComparison.Ordinal))
        {
            int q = p + 2;
            char sign = q < _src.Length && (_src[q] == '-' || _src[q] == '+') ? _src[q] : '\0';
            int end = MatchKeywordTag(sign == '\0' ? q : q + 1, "endraw", trimNewline: true, allowPlus: true);
            if (end < 0)
            {
                continue;
            }

            string text = StripText(_src[_pos..p], sign, lstripApplies: true);
            if (text.Length > 0)
            {
                Add(TokenKind.Data, text, null, _pos);
            }

            _lineStarting = _src[end - 1] == '\n';
            _pos = end;
            return;
        }

        throw Error("Missing end of raw directive", tagStart);
    }

    private void LexTag(bool variable, int tagStart)
    {
        _balance.Clear();
        while (true)
        {
            if (_pos >= _src.Length)
            {
                return; // the parser reports the missing end tag
            }

            if (_balance.Count == 0)
            {
                int end = -1;
                if (variable)
                {
                    if (Starts(_pos, "-}}"))
                    {
                        end = SkipSpace(_pos + 3);
                    }
                    else if (Starts(_pos, "}}"))
                    {
                        end = _pos + 2;
                    }
                }
                else
                {
                    end = MatchBlockEnd(_pos, trimNewline: true, allowPlus: true);
                }

                if (end >= 0)
                {
                    Add(variable ? TokenKind.VariableEnd : TokenKind.BlockEnd, variable ? "}}" : "%}", null, _pos);
                    _lineStarting = _src[end - 1] == '\n';
                    _pos = end;
                    return;
                }
            }

            char c = _src[_pos];
            if (PyString.IsSpace(c))
            {
                _pos = SkipSpace(_pos);
                continue;
            }

            if (TryNumber())
            {
                continue;
            }

            if (c == '_' || char.IsLetter(c))
            {
                int start = _pos;
                while (_pos < _src.Length && (_src[_pos] == '_' || char.IsLetterOrDigit(_src[_pos])))
                {
                    _pos++;
                }

                Add(TokenKind.Name, _src[start.._pos], null, start);
                continue;
            }

            if (c == '\'' || c == '"')
            {
                LexString(c);
                continue;
            }

            string? op = null;
            foreach (string candidate in Operators)
            {
                if (Starts(_pos, candidate))
                {
                    op = candidate;
                    break;
                }
            }

            if (op is null)
            {
                throw Error($"unexpected char {PyRepr.Quote(c.ToString())} at {_pos}", _pos);
            }

            Balance(op);
            Add(TokenKind.Operator, op, null, _pos);
            _pos += op.Length;
        }
    }

    private void Balance(string op)
    {
        switch (op)
        {
            case "{":
                _balance.Push('}');
                break;
            case "(":
                _balance.Push(')');
                break;
            case "[":
                _balance.Push(']');
                break;
            case "}" or ")" or "]":
                if (_balance.Count == 0)
                {
                    throw Error($"unexpected '{op}'", _pos);
                }

                char expected = _balance.Pop();
                if (expected != op[0])
                {
                    throw Error($"unexpected '{op}', expected '{expected}'", _pos);
                }

                break;
        }
    }

    private bool IsDigitAt(int p) => p < _src.Length && _src[p] >= '0' && _src[p] <= '9';

    /// <summary>Digits possibly separated by single underscores (<c>(\d+_)*\d+</c>); the end or -1.</summary>
    private int Digits(int p)
    {
        if (!IsDigitAt(p))
        {
            return -1;
        }

        while (true)
        {
            while (IsDigitAt(p))
            {
                p++;
            }

            if (p < _src.Length && _src[p] == '_' && IsDigitAt(p + 1))
            {
                p++;
                continue;
            }

            return p;
        }
    }

    private bool TryNumber()
    {
        int start = _pos;
        if (!IsDigitAt(start))
        {
            return false;
        }

        // float: (?<!\.)(\d+_)*\d+((\.(\d+_)*\d+)?e[+\-]?(\d+_)*\d+|\.(\d+_)*\d+)
        if (start == 0 || _src[start - 1] != '.')
        {
            int intEnd = Digits(start);
            int p = intEnd;
            int fracEnd = -1;
            if (p < _src.Length && _src[p] == '.')
            {
                fracEnd = Digits(p + 1);
            }

            int afterFrac = fracEnd >= 0 ? fracEnd : intEnd;
            int expEnd = -1;
            if (afterFrac < _src.Length && (_src[afterFrac] == 'e' || _src[afterFrac] == 'E'))
            {
                int q = afterFrac + 1;
                if (q < _src.Length && (_src[q] == '+' || _src[q] == '-'))
                {
                    q++;
                }

                expEnd = Digits(q);
            }

            int floatEnd = expEnd >= 0 ? expEnd : fracEnd;

            if (floatEnd >= 0)
            {
                string text = _src[start..floatEnd];
                double value = double.Parse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture);
                Add(TokenKind.Float, text, value, start);
                _pos = floatEnd;
                return true;
            }
        }

        // integer: 0b.. | 0o.. | 0x.. | [1-9](_?\d)* | 0(_?0)*
        if (_src[start] == '0' && start + 1 < _src.Length && "bBoOxX".Contains(_src[start + 1], StringComparison.Ordinal))
        {
            int radix = char.ToLowerInvariant(_src[start + 1]) switch { 'b' => 2, 'o' => 8, _ => 16 };
            int p = start + 2;
            var digits = new StringBuilder();
            while (p < _src.Length)
            {
                int q = _src[p] == '_' ? p + 1 : p;
                if (q < _src.Length && DigitValue(_src[q]) is int d && d < radix)
                {
                    digits.Append(_src[q]);
                    p = q + 1;
                }
                else
                {
                    break;
                }
            }

            if (digits.Length > 0)
            {
                long value = 0;
                foreach (char ch in digits.ToString())
                {
                    value = checked((value * radix) + DigitValue(ch)!.Value);
                }

                Add(TokenKind.Integer, _src[start..p], value, start);
                _pos = p;
                return true;
            }
        }

        int end;
        if (_src[start] == '0')
        {
            end = start + 1;
            while (true)
            {
                int q = end < _src.Length && _src[end] == '_' ? end + 1 : end;
                if (q < _src.Length && _src[q] == '0')
                {
                    end = q + 1;
                }
                else
                {
                    break;
                }
            }
        }
        else
        {
            end = start + 1;
            while (true)
            {
                int q = end < _src.Length && _src[end] == '_' ? end + 1 : end;
                if (IsDigitAt(q))
                {
                    end = q + 1;
                }
                else
                {
                    break;
                }
            }
        }

        string intText = _src[start..end];
        if (!long.TryParse(intText.Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out long intValue))
        {
            throw Error($"integer literal {intText} is too large", start);
        }

        Add(TokenKind.Integer, intText, intValue, start);
        _pos = end;
        return true;
    }

    private static int? DigitValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => null,
    };

    private void LexString(char quote)
    {
        int start = _pos;
        int p = start + 1;
        while (p < _src.Length && _src[p] != quote)
        {
            p += _src[p] == '\\' && p + 1 < _src.Length ? 2 : 1;
        }

        if (p >= _src.Length)
        {
            throw Error($"unexpected char {PyRepr.Quote(quote.ToString())} at {start}", start);
        }

        string raw = _src[(start + 1)..p];
        string value = Unescape(raw, start);
        Add(TokenKind.String, _src[start..(p + 1)], value, start);
        _pos = p + 1;
    }

    /// <summary>Python's <c>unicode-escape</c> decoding, as Jinja applies it to string literals.</summary>
    private string Unescape(string raw, int pos)
    {
        if (!raw.Contains('\\', StringComparison.Ordinal))
        {
            return raw;
        }

        var sb = new StringBuilder(raw.Length);
        for (int i = 0; i < raw.Length; i++)
        {
            char c = raw[i];
            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }

            if (i + 1 >= raw.Length)
            {
                throw Error("\\ at end of string", pos);
            }

            char e = raw[++i];
            switch (e)
            {
                case '\n': break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'v': sb.Append('\v'); break;
                case >= '0' and <= '7':
                    {
                        int value = e - '0';
                        int n = 1;
                        while (n < 3 && i + 1 < raw.Length && raw[i + 1] >= '0' && raw[i + 1] <= '7')
                        {
                            value = (value * 8) + (raw[++i] - '0');
                            n++;
                        }

                        sb.Append((char)value);
                        break;
                    }

                case 'x' or 'u' or 'U':
                    {
                        int count = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                        int value = 0;
                        for (int k = 1; k <= count; k++)
                        {
                            if (i + k >= raw.Length || DigitValue(raw[i + k]) is not int d)
                            {
                                throw Error($"truncated \\{e}{new string('X', count)} escape", pos);
                            }

                            value = (value * 16) + d;
                        }

                        if (value > 0x10FFFF)
                        {
                            throw Error("illegal Unicode character", pos);
                        }

                        i += count;
                        if (value < 0x10000)
                        {
                            sb.Append((char)value);
                        }
                        else
                        {
                            sb.Append(char.ConvertFromUtf32(value));
                        }

                        break;
                    }

                default:
                    sb.Append('\\').Append(e);
                    break;
            }
        }

        return sb.ToString();
    }
}
