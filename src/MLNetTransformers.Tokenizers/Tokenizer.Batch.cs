namespace MLNetTransformers.Tokenizers;

public sealed partial class Tokenizer
{
    /// <summary>
    /// Encodes a batch: every text is encoded (with truncation), then all are padded together as <see cref="EncodeOptions.Padding"/>
    /// says (default: to the longest, on the tokenizer's padding side). Write the result into tensors with
    /// <see cref="TokenizedBatch.WriteInputIds"/> and friends.
    /// </summary>
    /// <param name="texts">The texts.</param>
    /// <param name="options">Special tokens, truncation, padding; <see langword="null"/> pads to the longest.</param>
    /// <returns>The padded batch.</returns>
    public TokenizedBatch EncodeBatch(IReadOnlyList<string> texts, EncodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return EncodeBatch(texts, pairs: null, options);
    }

    /// <summary>Encodes a batch of text pairs (see <see cref="EncodeBatch(IReadOnlyList{string}, EncodeOptions?)"/>).</summary>
    /// <param name="texts">The first sequences.</param>
    /// <param name="pairs">The second sequences, one per text, or <see langword="null"/>.</param>
    /// <param name="options">Special tokens, truncation, padding.</param>
    /// <returns>The padded batch.</returns>
    public TokenizedBatch EncodeBatch(IReadOnlyList<string> texts, IReadOnlyList<string>? pairs, EncodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (pairs is not null && pairs.Count != texts.Count)
        {
            throw new ArgumentException($"{texts.Count} texts but {pairs.Count} pairs.", nameof(pairs));
        }

        options ??= new EncodeOptions { Padding = new PaddingOptions() };
        var unpadded = new EncodeOptions { AddSpecialTokens = options.AddSpecialTokens, Truncation = options.Truncation };
        var encodings = new TokenEncoding[texts.Count];
        int longest = 0;
        for (int i = 0; i < texts.Count; i++)
        {
            encodings[i] = EncodeCore(texts[i] ?? throw new ArgumentException($"Text {i} is null.", nameof(texts)), pairs?[i], unpadded);
            longest = Math.Max(longest, encodings[i].Count);
        }

        if (options.Padding is { Strategy: not PaddingStrategy.None } padding)
        {
            for (int i = 0; i < encodings.Length; i++)
            {
                encodings[i] = Pad(encodings[i], padding, longest);
            }
        }

        return new TokenizedBatch(encodings);
    }

    private TokenEncoding Pad(TokenEncoding encoding, PaddingOptions padding, int longest)
    {
        var tokens = new Core.TokenList(encoding.Count);
        for (int i = 0; i < encoding.Count; i++)
        {
            tokens.Add(encoding.Ids[i], encoding.Offsets[i].Start, encoding.Offsets[i].End, encoding.TypeIds[i], encoding.SpecialTokensMask[i] == 1);
        }

        return ToEncoding(tokens, padding, longest);
    }
}

/// <summary>
/// A padded batch of encodings, all of <see cref="SequenceLength"/> tokens, ready to be written row-major into model inputs
/// (<c>[batch, sequence]</c> tensors) without per-token allocation.
/// </summary>
public sealed class TokenizedBatch
{
    internal TokenizedBatch(TokenEncoding[] encodings)
    {
        Encodings = encodings;
        SequenceLength = encodings.Length == 0 ? 0 : encodings.Max(e => e.Count);
        if (encodings.Any(e => e.Count != SequenceLength))
        {
            IsRagged = true;
        }
    }

    /// <summary>The encodings, one per text.</summary>
    public IReadOnlyList<TokenEncoding> Encodings { get; }

    /// <summary>The number of texts.</summary>
    public int Count => Encodings.Count;

    /// <summary>The (padded) length of every sequence.</summary>
    public int SequenceLength { get; }

    /// <summary>Whether the sequences have different lengths (the batch was encoded without padding).</summary>
    public bool IsRagged { get; }

    /// <summary>Writes the ids, row-major <c>[Count, SequenceLength]</c>.</summary>
    /// <param name="destination">At least <c>Count * SequenceLength</c> elements.</param>
    public void WriteInputIds(Span<long> destination) => Write(destination, e => e.Ids);

    /// <summary>Writes the attention mask (1 for tokens, 0 for padding), row-major.</summary>
    /// <param name="destination">At least <c>Count * SequenceLength</c> elements.</param>
    public void WriteAttentionMask(Span<long> destination) => Write(destination, e => e.AttentionMask);

    /// <summary>Writes the token type ids, row-major.</summary>
    /// <param name="destination">At least <c>Count * SequenceLength</c> elements.</param>
    public void WriteTokenTypeIds(Span<long> destination) => Write(destination, e => e.TypeIds);

    /// <summary>The ids as a new row-major array.</summary>
    /// <returns>The array.</returns>
    public long[] GetInputIds()
    {
        var result = new long[Count * SequenceLength];
        WriteInputIds(result);
        return result;
    }

    /// <summary>The attention mask as a new row-major array.</summary>
    /// <returns>The array.</returns>
    public long[] GetAttentionMask()
    {
        var result = new long[Count * SequenceLength];
        WriteAttentionMask(result);
        return result;
    }

    /// <summary>The token type ids as a new row-major array.</summary>
    /// <returns>The array.</returns>
    public long[] GetTokenTypeIds()
    {
        var result = new long[Count * SequenceLength];
        WriteTokenTypeIds(result);
        return result;
    }

    private void Write(Span<long> destination, Func<TokenEncoding, IReadOnlyList<int>> column)
    {
        if (IsRagged)
        {
            throw new InvalidOperationException("The batch was encoded without padding: its sequences have different lengths.");
        }

        if (destination.Length < Count * SequenceLength)
        {
            throw new ArgumentException($"The destination holds {destination.Length} elements; the batch needs {Count} x {SequenceLength} = {Count * SequenceLength}.", nameof(destination));
        }

        int at = 0;
        foreach (TokenEncoding encoding in Encodings)
        {
            IReadOnlyList<int> values = column(encoding);
            for (int i = 0; i < values.Count; i++)
            {
                destination[at++] = values[i];
            }
        }
    }
}
