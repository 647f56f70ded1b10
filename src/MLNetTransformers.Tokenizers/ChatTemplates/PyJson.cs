using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace MLNetTransformers.Tokenizers.ChatTemplates;

/// <summary>Python's <c>json.dumps(x, ensure_ascii, indent, separators, sort_keys)</c>: transformers' <c>tojson</c> filter.</summary>
internal static class PyJson
{
    private static ChatTemplateException TypeError(string message) => ChatTemplateException.Runtime("TypeError", message);

    public static string Dumps(object? value, bool ensureAscii = false, object? indent = null, object? separators = null, bool sortKeys = false)
    {
        string? indentText = indent switch
        {
            null => null,
            string s => s,
            long or bool => new string(' ', (int)Math.Clamp(PyOps.AsLong(indent), 0, 1000)),
            _ => throw TypeError($"can't multiply sequence by non-int of type '{PyOps.TypeName(indent)}'"),
        };
        string itemSep = indentText is null ? ", " : ",";
        string keySep = ": ";
        if (separators is not null)
        {
            var parts = PyOps.Iterate(separators).ToList();
            if (parts.Count != 2 || parts[0] is not string a || parts[1] is not string b)
            {
                throw ChatTemplateException.Runtime("ValueError", "separators must be a pair of strings");
            }

            (itemSep, keySep) = (a, b);
        }

        var sb = new StringBuilder();
        new Encoder(sb, indentText, itemSep, keySep, ensureAscii, sortKeys).Encode(value, 0);
        return sb.ToString();
    }

    private sealed class Encoder(StringBuilder sb, string? indent, string itemSep, string keySep, bool ensureAscii, bool sortKeys)
    {
        public void Encode(object? value, int level)
        {
            RuntimeHelpers.EnsureSufficientExecutionStack();
            if (level > ChatTemplateLimits.MaxOutputDepth)
            {
                throw ChatTemplateException.Runtime("RecursionError", "maximum recursion depth exceeded while encoding a JSON object");
            }

            switch (value)
            {
                case null:
                    sb.Append("null");
                    break;
                case bool b:
                    sb.Append(b ? "true" : "false");
                    break;
                case long l:
                    sb.Append(l.ToString(CultureInfo.InvariantCulture));
                    break;
                case double d:
                    sb.Append(FloatText(d));
                    break;
                case string s:
                    String(s);
                    break;
                case List<object?> list:
                    Array(list, level);
                    break;
                case PyTuple t:
                    Array(t.Items, level);
                    break;
                case PyDict d:
                    Object(d, level);
                    break;
                default:
                    throw TypeError($"Object of type {PyOps.TypeName(value)} is not JSON serializable");
            }
        }

        private static string FloatText(double d) =>
            double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : PyRepr.Float(d);

        private void NewLine(int level)
        {
            sb.Append('\n');
            for (int i = 0; i < level; i++)
            {
                sb.Append(indent);
            }
        }

        private void Array(IReadOnlyList<object?> items, int level)
        {
            if (items.Count == 0)
            {
                sb.Append("[]");
                return;
            }

            sb.Append('[');
            if (indent is not null)
            {
                NewLine(level + 1);
            }

            for (int i = 0; i < items.Count; i++)
            {
                if (i > 0)
                {
                    sb.Append(itemSep);
                    if (indent is not null)
                    {
                        NewLine(level + 1);
                    }
                }

                Encode(items[i], level + 1);
            }

            if (indent is not null)
            {
                NewLine(level);
            }

            sb.Append(']');
        }

        private void Object(PyDict dict, int level)
        {
            if (dict.Count == 0)
            {
                sb.Append("{}");
                return;
            }

            IEnumerable<KeyValuePair<object?, object?>> entries = dict.Entries;
            if (sortKeys)
            {
                entries = entries.OrderBy(e => e.Key, Comparer<object?>.Create((a, b) => PyOps.Compare(a, b))).ToList();
            }

            sb.Append('{');
            if (indent is not null)
            {
                NewLine(level + 1);
            }

            bool first = true;
            foreach (var (key, value) in entries)
            {
                if (!first)
                {
                    sb.Append(itemSep);
                    if (indent is not null)
                    {
                        NewLine(level + 1);
                    }
                }

                first = false;
                string keyText = key switch
                {
                    string s => s,
                    bool b => b ? "true" : "false",
                    null => "null",
                    long l => l.ToString(CultureInfo.InvariantCulture),
                    double d => FloatText(d),
                    _ => throw TypeError($"keys must be str, int, float, bool or None, not {PyOps.TypeName(key)}"),
                };
                String(keyText);
                sb.Append(keySep);
                Encode(value, level + 1);
            }

            if (indent is not null)
            {
                NewLine(level);
            }

            sb.Append('}');
        }

        private void String(string s)
        {
            sb.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    case '\b': sb.Append("\\b"); break;
                    case '\f': sb.Append("\\f"); break;
                    default:
                        if (c < 0x20 || (ensureAscii && c > 0x7E))
                        {
                            sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        }
                        else
                        {
                            sb.Append(c);
                        }

                        break;
                }
            }

            sb.Append('"');
        }
    }
}
