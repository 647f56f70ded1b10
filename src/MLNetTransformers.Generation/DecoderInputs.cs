using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Generation;

/// <summary>
/// The feeds of one decoder run with an empty past (a prefill, or an independent window): <c>input_ids</c> <c>[batch, sequence]</c>,
/// <c>attention_mask</c> (all ones unless given), <c>position_ids</c> computed like Hugging Face from the mask, empty
/// <c>past_key_values.*</c> tensors <c>[batch, kv_heads, 0, head_dim]</c>, and <c>use_cache_branch</c> = false or zero
/// <c>token_type_ids</c> where the model has them. The values live until this object is disposed.
/// </summary>
public sealed class DecoderInputs : IDisposable
{
    private readonly Dictionary<string, OrtValue> _feeds;

    private DecoderInputs(Dictionary<string, OrtValue> feeds, int batchSize, int sequenceLength)
    {
        _feeds = feeds;
        BatchSize = batchSize;
        SequenceLength = sequenceLength;
    }

    /// <summary>The feeds by input name, for <see cref="InferenceSession.Run(IReadOnlyDictionary{string, OrtValue}, IReadOnlyList{string}?, RunOptions?, CancellationToken)"/>.</summary>
    public IReadOnlyDictionary<string, OrtValue> Feeds => _feeds;

    /// <summary>The batch size.</summary>
    public int BatchSize { get; }

    /// <summary>The sequence length (tokens per row).</summary>
    public int SequenceLength { get; }

    /// <summary>Builds the feeds for <paramref name="inputIds"/> with an empty past.</summary>
    /// <param name="signature">The decoder's signature.</param>
    /// <param name="inputIds">Token ids, <c>[batch, sequence]</c> row-major.</param>
    /// <param name="batchSize">The number of rows (≥ 1); the ids' length must be a multiple of it.</param>
    /// <param name="attentionMask">1 for real tokens, 0 for padding, the same shape as the ids; empty for all ones.</param>
    /// <returns>The feeds; dispose them after the run.</returns>
    /// <exception cref="ArgumentException">The lengths do not fit the batch size.</exception>
    public static DecoderInputs CreateWithEmptyPast(DecoderSignature signature, ReadOnlySpan<long> inputIds, int batchSize = 1, ReadOnlySpan<long> attentionMask = default)
    {
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (inputIds.IsEmpty || inputIds.Length % batchSize != 0)
        {
            throw new ArgumentException($"{inputIds.Length} input ids do not make {batchSize} non-empty rows.", nameof(inputIds));
        }

        if (!attentionMask.IsEmpty && attentionMask.Length != inputIds.Length)
        {
            throw new ArgumentException($"The attention mask has {attentionMask.Length} values for {inputIds.Length} input ids.", nameof(attentionMask));
        }

        int sequence = inputIds.Length / batchSize;
        long[] shape = [batchSize, sequence];
        long[] mask = attentionMask.IsEmpty ? Filled(inputIds.Length, 1L) : attentionMask.ToArray();
        var feeds = new Dictionary<string, OrtValue>(StringComparer.Ordinal);
        try
        {
            feeds[DecoderSignature.InputIdsName] = OrtValue.CreateTensor(inputIds.ToArray(), shape);
            if (signature.HasAttentionMask)
            {
                feeds[DecoderSignature.AttentionMaskName] = OrtValue.CreateTensor(mask, shape);
            }

            if (signature.HasPositionIds)
            {
                long[] positions = new long[inputIds.Length];
                ComputePositionIds(mask, batchSize, positions);
                feeds[DecoderSignature.PositionIdsName] = OrtValue.CreateTensor(positions, shape);
            }

            if (signature.HasTokenTypeIds)
            {
                feeds[DecoderSignature.TokenTypeIdsName] = OrtValue.CreateTensor(new long[inputIds.Length], shape);
            }

            if (signature.HasUseCacheBranch)
            {
                feeds[DecoderSignature.UseCacheBranchName] = OrtValue.CreateTensor(new bool[1], [1]);
            }

            foreach (PastKeyValueInput past in signature.PastInputs)
            {
                feeds[past.Name] = EmptyPast(past, batchSize);
            }
        }
        catch
        {
            foreach (OrtValue value in feeds.Values)
            {
                value.Dispose();
            }

            throw;
        }

        return new DecoderInputs(feeds, batchSize, sequence);
    }

    /// <summary>
    /// Position ids from an attention mask, as Hugging Face computes them: <c>cumsum(mask) - 1</c> per row, and 1 where the mask is 0
    /// (left padding). With an all-ones mask this is 0..n-1.
    /// </summary>
    /// <param name="attentionMask">The mask, <c>[batch, length]</c> row-major.</param>
    /// <param name="batchSize">The number of rows.</param>
    /// <param name="positions">Receives the positions, the mask's shape.</param>
    public static void ComputePositionIds(ReadOnlySpan<long> attentionMask, int batchSize, Span<long> positions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (positions.Length != attentionMask.Length || attentionMask.Length % batchSize != 0)
        {
            throw new ArgumentException("The mask and positions must have the same [batch, length] shape.", nameof(positions));
        }

        int length = attentionMask.Length / batchSize;
        for (int b = 0; b < batchSize; b++)
        {
            long sum = 0;
            for (int i = 0; i < length; i++)
            {
                int index = (b * length) + i;
                sum += attentionMask[index];
                positions[index] = attentionMask[index] == 0 ? 1 : sum - 1;
            }
        }
    }

    /// <summary>Disposes the feeds.</summary>
    public void Dispose()
    {
        foreach (OrtValue value in _feeds.Values)
        {
            value.Dispose();
        }

        _feeds.Clear();
    }

    private static OrtValue EmptyPast(PastKeyValueInput past, int batchSize)
    {
        long[] shape = [batchSize, past.KeyValueHeads, 0, past.HeadDim];
        return past.ElementType switch
        {
            TensorElementType.Float16 => OrtValue.CreateTensor(Array.Empty<Half>(), shape),
            TensorElementType.BFloat16 => OrtValue.CreateTensor(Array.Empty<BFloat16>(), shape),
            _ => OrtValue.CreateTensor(Array.Empty<float>(), shape),
        };
    }

    private static long[] Filled(int length, long value)
    {
        long[] values = new long[length];
        Array.Fill(values, value);
        return values;
    }
}
