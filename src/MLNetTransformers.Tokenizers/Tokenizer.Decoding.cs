using MLNetTransformers.Tokenizers.Decoders;

namespace MLNetTransformers.Tokenizers;

public sealed partial class Tokenizer
{
    /// <summary>Decodes token ids to text.</summary>
    /// <param name="ids">The ids.</param>
    /// <param name="skipSpecialTokens">Leave out special tokens (e.g. <c>&lt;s&gt;</c>, <c>[CLS]</c>, padding).</param>
    /// <param name="cleanUpTokenizationSpaces">Remove spaces before punctuation and contractions; default: the config's
    /// <c>clean_up_tokenization_spaces</c>.</param>
    /// <returns>The text.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in the vocabulary (the message names it).</exception>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false, bool? cleanUpTokenizationSpaces = null)
    {
        var tokens = new List<string>(ids.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            if (skipSpecialTokens && IsSpecialToken(id))
            {
                continue;
            }

            tokens.Add(IdToToken(id) ?? throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} (at index {i}) is not in the vocabulary of {VocabularySize} tokens."));
        }

        string text = _decoder is null ? string.Join(' ', tokens) : _decoder.Decode(tokens);
        return cleanUpTokenizationSpaces ?? Config.CleanUpTokenizationSpaces ? TokenDecoder.CleanUpTokenization(text) : text;
    }

    /// <summary>Decodes token ids to text.</summary>
    /// <param name="ids">The ids.</param>
    /// <param name="skipSpecialTokens">Leave out special tokens.</param>
    /// <returns>The text.</returns>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return Decode(ids.ToArray(), skipSpecialTokens);
    }

    /// <summary>Creates a decoder for streaming generation (see <see cref="IncrementalDecoder"/>).</summary>
    /// <param name="skipSpecialTokens">Leave out special tokens.</param>
    /// <param name="prefixIds">Ids already shown (e.g. the prompt), which give the context for the first new token's spacing.</param>
    /// <returns>The decoder.</returns>
    public IncrementalDecoder CreateIncrementalDecoder(bool skipSpecialTokens = true, IEnumerable<int>? prefixIds = null) =>
        new(this, skipSpecialTokens, prefixIds);
}

/// <summary>
/// Decodes tokens one at a time for streaming: each <see cref="Add"/> returns the text the new token completes, never half a
/// UTF-8 character or half a byte-fallback sequence (such text waits until the tokens that complete it arrive), and the
/// concatenated pieces equal the decoding of all tokens. Not thread-safe: one per stream.
/// </summary>
public sealed class IncrementalDecoder
{
    private readonly Tokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private readonly List<int> _ids = [];
    private int _prefixOffset;
    private int _readOffset;

    internal IncrementalDecoder(Tokenizer tokenizer, bool skipSpecialTokens, IEnumerable<int>? prefixIds)
    {
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
        if (prefixIds is not null)
        {
            _ids.AddRange(prefixIds);
            // Keep a few prefix tokens as context so the first new token's leading space is decided correctly.
            _readOffset = _ids.Count;
            _prefixOffset = Math.Max(0, _ids.Count - 4);
        }
    }

    /// <summary>All ids added so far (after the prefix).</summary>
    public IReadOnlyList<int> Ids => _ids;

    /// <summary>Adds a token and returns the newly completed text (possibly empty).</summary>
    /// <param name="id">The token id.</param>
    /// <returns>The text to show now.</returns>
    public string Add(int id)
    {
        _ids.Add(id);
        return Emit(final: false);
    }

    /// <summary>Returns any text still held back (e.g. an incomplete byte sequence at the end of the stream).</summary>
    /// <returns>The remaining text.</returns>
    public string Flush() => Emit(final: true);

    private string Emit(bool final)
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_ids);
        string prefixText = _tokenizer.Decode(span[_prefixOffset.._readOffset], _skipSpecialTokens, cleanUpTokenizationSpaces: false);
        string newText = _tokenizer.Decode(span[_prefixOffset..], _skipSpecialTokens, cleanUpTokenizationSpaces: false);
        if (newText.Length <= prefixText.Length || (!final && EndsIncomplete(newText)))
        {
            return string.Empty;
        }

        string delta = newText.StartsWith(prefixText, StringComparison.Ordinal) ? newText[prefixText.Length..] : newText[Math.Min(prefixText.Length, newText.Length)..];
        _prefixOffset = _readOffset;
        _readOffset = _ids.Count;
        return delta;
    }

    private static bool EndsIncomplete(string text) => text.EndsWith('\uFFFD') || char.IsHighSurrogate(text[^1]);
}
