namespace MLNetTransformers.Tokenizers;

/// <summary>
/// The result of encoding one text (or text pair): token ids, their vocabulary strings, offsets into the input (UTF-16 ranges;
/// special tokens added by the post-processor have the empty range (0, 0)), type ids, the special-token mask and the attention
/// mask (0 for padding). Immutable.
/// </summary>
public sealed class TokenEncoding
{
    private readonly Func<int, string?> _idToToken;
    private string[]? _tokens;

    internal TokenEncoding(int[] ids, (int Start, int End)[] offsets, int[] typeIds, int[] specialTokensMask, int[] attentionMask, Func<int, string?> idToToken)
    {
        Ids = ids;
        Offsets = offsets;
        TypeIds = typeIds;
        SpecialTokensMask = specialTokensMask;
        AttentionMask = attentionMask;
        _idToToken = idToToken;
    }

    /// <summary>The token ids.</summary>
    public IReadOnlyList<int> Ids { get; }

    /// <summary>The token strings as they are in the vocabulary (e.g. <c>Ġworld</c>, <c>##ing</c>, <c>▁the</c>).</summary>
    public IReadOnlyList<string> Tokens => _tokens ??= Ids.Select(id => _idToToken(id) ?? string.Empty).ToArray();

    /// <summary>Each token's range in the input text: (start, end) in UTF-16 code units of the string that was encoded (of the
    /// pair's own string for tokens of the pair).</summary>
    public IReadOnlyList<(int Start, int End)> Offsets { get; }

    /// <summary>Type (segment) ids: 0 for the first sequence, 1 for the pair where the post-processor says so.</summary>
    public IReadOnlyList<int> TypeIds { get; }

    /// <summary>1 for special tokens (added by the post-processor, or special added tokens found in the text), else 0.</summary>
    public IReadOnlyList<int> SpecialTokensMask { get; }

    /// <summary>1 for real tokens, 0 for padding.</summary>
    public IReadOnlyList<int> AttentionMask { get; }

    /// <summary>The number of tokens (including padding).</summary>
    public int Count => Ids.Count;
}
