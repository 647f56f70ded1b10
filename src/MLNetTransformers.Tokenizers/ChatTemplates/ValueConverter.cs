using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MLNetTransformers.Tokenizers.ChatTemplates;

/// <summary>Converts .NET values (and JSON) into the template's Python values.</summary>
internal static class ValueConverter
{
    public static PyDict Message(ChatMessage message, int depth = 0)
    {
        var d = new PyDict();
        d.Set("role", message.Role);
        d.Set("content", message.Content);
        foreach (var (key, value) in message.AdditionalProperties)
        {
            d.Set(key, ToPy(value, depth + 1));
        }

        return d;
    }

    public static object? ToPy(object? value, int depth = 0)
    {
        if (depth > ChatTemplateLimits.MaxInputDepth)
        {
            throw new ArgumentException($"A template variable is nested more than {ChatTemplateLimits.MaxInputDepth} levels deep (a cycle?).");
        }

        switch (value)
        {
            case null:
                return null;
            case string s:
                return s;
            case bool b:
                return b;
            case char c:
                return c.ToString();
            case int or long or short or sbyte or byte or ushort or uint:
                return Convert.ToInt64(value, CultureInfo.InvariantCulture);
            case ulong u:
                return u <= long.MaxValue ? (long)u : (double)u;
            case nint n:
                return (long)n;
            case nuint n:
                return n <= long.MaxValue ? (long)n : (double)n;
            case double d:
                return d;
            case float f:
                return (double)f;
            case Half h:
                return (double)h;
            case decimal m:
                return decimal.Truncate(m) == m && m >= long.MinValue && m <= long.MaxValue && m.Scale == 0 ? (long)m : (double)m;
            case BigInteger big:
                return big >= long.MinValue && big <= long.MaxValue ? (long)big : (double)big;
            case Enum e:
                return e.ToString();
            case ChatMessage message:
                return Message(message, depth);
            case JsonElement element:
                return FromJson(element, depth);
            case JsonNode node:
                return FromJsonNode(node, depth);
            case DateTime dt:
                return dt.ToString(dt.Ticks % TimeSpan.TicksPerSecond == 0 ? "yyyy-MM-dd HH:mm:ss" : "yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture);
            case DateTimeOffset dto:
                return dto.ToString(dto.Ticks % TimeSpan.TicksPerSecond == 0 ? "yyyy-MM-dd HH:mm:sszzz" : "yyyy-MM-dd HH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture);
            case IDictionary<string, object?> dict:
                {
                    var d = new PyDict();
                    foreach (var (k, v) in dict)
                    {
                        d.Set(k, ToPy(v, depth + 1));
                    }

                    return d;
                }

            case IReadOnlyDictionary<string, object?> dict:
                {
                    var d = new PyDict();
                    foreach (var (k, v) in dict)
                    {
                        d.Set(k, ToPy(v, depth + 1));
                    }

                    return d;
                }

            case IDictionary dict:
                {
                    var d = new PyDict();
                    foreach (DictionaryEntry entry in dict)
                    {
                        d.Set(ToPy(entry.Key, depth + 1), ToPy(entry.Value, depth + 1));
                    }

                    return d;
                }

            case ITuple tuple:
                {
                    var items = new object?[tuple.Length];
                    for (int i = 0; i < tuple.Length; i++)
                    {
                        items[i] = ToPy(tuple[i], depth + 1);
                    }

                    return new PyTuple(items);
                }

            case IEnumerable enumerable:
                {
                    var list = new List<object?>();
                    foreach (object? item in enumerable)
                    {
                        list.Add(ToPy(item, depth + 1));
                    }

                    return list;
                }

            case IFormattable formattable:
                return formattable.ToString(null, CultureInfo.InvariantCulture);
            default:
                return value.ToString();
        }
    }

    private static object? Number(string raw) =>
        raw.AsSpan().IndexOfAny(".eE") < 0 && long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)
            ? (object?)l
            : double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);

    public static object? FromJson(JsonElement element, int depth = 0)
    {
        if (depth > ChatTemplateLimits.MaxInputDepth)
        {
            throw new ArgumentException($"A template variable is nested more than {ChatTemplateLimits.MaxInputDepth} levels deep.");
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                {
                    var d = new PyDict();
                    foreach (var property in element.EnumerateObject())
                    {
                        d.Set(property.Name, FromJson(property.Value, depth + 1));
                    }

                    return d;
                }

            case JsonValueKind.Array:
                return element.EnumerateArray().Select(e => FromJson(e, depth + 1)).ToList();
            case JsonValueKind.String:
                return element.GetString();
            case JsonValueKind.Number:
                return Number(element.GetRawText());
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            default:
                return null;
        }
    }

    private static object? FromJsonNode(JsonNode node, int depth)
    {
        switch (node)
        {
            case JsonObject obj:
                {
                    var d = new PyDict();
                    foreach (var (k, v) in obj)
                    {
                        d.Set(k, v is null ? null : FromJsonNode(v, depth + 1));
                    }

                    return d;
                }

            case JsonArray array:
                return array.Select(v => v is null ? null : FromJsonNode(v, depth + 1)).ToList();
            default:
                return node.GetValueKind() switch
                {
                    JsonValueKind.String => node.GetValue<string>(),
                    JsonValueKind.Number => Number(node.ToJsonString()),
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    _ => null,
                };
        }
    }
}
