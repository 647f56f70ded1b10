using System.Text;
using System.Text.RegularExpressions;
using MLNetTransformers.Tokenizers.Core;

namespace MLNetTransformers.Tokenizers.Decoders;

/// <summary>Turns token strings back into text (Hugging Face's <c>decoder</c>): each decoder maps a list of strings to a new list.</summary>
internal abstract class TokenDecoder
{
    public abstract List<string> DecodeChain(List<string> tokens);

    public string Decode(List<string> tokens) => string.Concat(DecodeChain(tokens));

    /// <summary>The clean-up transformers applies to tokenization artifacts such as a space before punctuation.</summary>
    internal static string CleanUpTokenization(string text) => text
        .Replace(" .", ".", StringComparison.Ordinal)
        .Replace(" ?", "?", StringComparison.Ordinal)
        .Replace(" !", "!", StringComparison.Ordinal)
        .Replace(" ,", ",", StringComparison.Ordinal)
        .Replace(" ' ", "'", StringComparison.Ordinal)
        .Replace(" n't", "n't", StringComparison.Ordinal)
        .Replace(" 'm", "'m", StringComparison.Ordinal)
        .Replace(" 's", "'s", StringComparison.Ordinal)
        .Replace(" 've", "'ve", StringComparison.Ordinal)
        .Replace(" 're", "'re", StringComparison.Ordinal);
}

internal sealed class SequenceDecoder(IReadOnlyList<TokenDecoder> decoders) : TokenDecoder
{
    public IReadOnlyList<TokenDecoder> Decoders => decoders;

    public override List<string> DecodeChain(List<string> tokens)
    {
        foreach (TokenDecoder decoder in decoders)
        {
            tokens = decoder.DecodeChain(tokens);
        }

        return tokens;
    }
}

/// <summary>Maps byte-level characters back to bytes and decodes them as UTF-8 (invalid sequences become U+FFFD).</summary>
internal sealed class ByteLevelDecoder : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var bytes = new List<byte>();
        foreach (string token in tokens)
        {
            ByteLevelAlphabet.Decode(token, bytes);
        }

        return [Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes))];
    }
}

/// <summary>WordPiece: drops the continuation prefix, puts a space before other tokens, optionally cleans up.</summary>
internal sealed class WordPieceDecoder(string prefix, bool cleanup) : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var output = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            string token = tokens[i];
            if (token.StartsWith(prefix, StringComparison.Ordinal))
            {
                token = token[prefix.Length..];
            }
            else if (i > 0)
            {
                token = " " + token;
            }

            output.Add(cleanup ? CleanUpTokenization(token) : token);
        }

        return output;
    }
}

/// <summary>SentencePiece whitespace: <c>▁</c> back to spaces, dropping the prepended one at the start.</summary>
internal sealed class MetaspaceDecoder(char replacement, bool prependScheme) : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var output = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            string token = tokens[i].Replace(replacement, ' ');
            if (i == 0 && prependScheme && token.StartsWith(' '))
            {
                token = token[1..];
            }

            output.Add(token);
        }

        return output;
    }
}

/// <summary>Original BPE: the end-of-word suffix becomes a space (nothing after the last token).</summary>
internal sealed class BpeDecoder(string suffix) : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var output = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            output.Add(tokens[i].Replace(suffix, i == tokens.Count - 1 ? string.Empty : " ", StringComparison.Ordinal));
        }

        return output;
    }
}

/// <summary>
/// Byte fallback: runs of <c>&lt;0xXX&gt;</c> tokens become the text their bytes encode; a run that is not valid UTF-8 becomes
/// one U+FFFD per byte (as Hugging Face does).
/// </summary>
internal sealed class ByteFallbackDecoder : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var output = new List<string>(tokens.Count);
        var bytes = new List<byte>();
        foreach (string token in tokens)
        {
            if (TryParseByte(token, out byte value))
            {
                bytes.Add(value);
                continue;
            }

            Flush(bytes, output);
            output.Add(token);
        }

        Flush(bytes, output);
        return output;
    }

    internal static bool TryParseByte(string token, out byte value)
    {
        value = 0;
        return token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
            && byte.TryParse(token.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out value);
    }

    private static void Flush(List<byte> bytes, List<string> output)
    {
        if (bytes.Count == 0)
        {
            return;
        }

        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes);
        output.Add(System.Text.Unicode.Utf8.IsValid(span) ? Encoding.UTF8.GetString(span) : new string('\uFFFD', bytes.Count));
        bytes.Clear();
    }
}

/// <summary>Joins all tokens into one string.</summary>
internal sealed class FuseDecoder : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
}

/// <summary>Removes up to <c>start</c> leading and <c>stop</c> trailing occurrences of a character from each token.</summary>
internal sealed class StripDecoder(char content, int start, int stop) : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var output = new List<string>(tokens.Count);
        foreach (string token in tokens)
        {
            int from = 0;
            while (from < start && from < token.Length && token[from] == content)
            {
                from++;
            }

            int to = token.Length;
            int removed = 0;
            while (removed < stop && to > from && token[to - 1] == content)
            {
                to--;
                removed++;
            }

            output.Add(token[from..to]);
        }

        return output;
    }
}

/// <summary>Replaces a string or regex pattern in each token.</summary>
internal sealed class ReplaceDecoder(Regex pattern, string content) : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens) => tokens.ConvertAll(t => pattern.Replace(t, content.Replace("$", "$$", StringComparison.Ordinal)));
}

/// <summary>CTC: collapse repeats, drop the pad token, word delimiters become spaces.</summary>
internal sealed class CtcDecoder(string padToken, string wordDelimiterToken, bool cleanup) : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var output = new List<string>(tokens.Count);
        string? previous = null;
        foreach (string token in tokens)
        {
            if (token == previous)
            {
                continue;
            }

            previous = token;
            if (token == padToken)
            {
                continue;
            }

            string text = token.Replace(wordDelimiterToken, " ", StringComparison.Ordinal);
            output.Add(cleanup ? CleanUpTokenization(text).Replace(wordDelimiterToken, " ", StringComparison.Ordinal) : text);
        }

        return output;
    }
}
