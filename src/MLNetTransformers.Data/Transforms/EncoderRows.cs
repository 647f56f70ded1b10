using MLNetTransformers.Generation.Encoding;
using MLNetTransformers.OnnxRuntime;
using MLNetTransformers.Tokenizers;

namespace MLNetTransformers.Data.Transforms;

/// <summary>Per-row tokenization and policy-batched scoring of an encoder, with per-row errors (shared by embed and classify).</summary>
internal static class EncoderRows
{
    /// <summary>Tokenizes the rows of a batch that have no error yet; a null, empty or too-long text becomes that row's error.</summary>
    /// <returns>The rows tokenized (indices into the batch) and their encodings.</returns>
    public static (int[] Rows, TokenEncoding[] Encodings) Tokenize(TextEncoder encoder, string?[] texts, BatchMappingOutput output, string column, CancellationToken cancellationToken)
    {
        var rows = new List<int>(texts.Length);
        var encodings = new List<TokenEncoding>(texts.Length);
        for (int i = 0; i < texts.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (output.HasError(i))
            {
                continue;
            }

            if (texts[i] is not string text)
            {
                output.SetError(i, $"The text column '{column}' is missing (null).");
                continue;
            }

            try
            {
                encodings.Add(encoder.Tokenize([text], cancellationToken)[0]);
                rows.Add(i);
            }
            catch (ArgumentException e)
            {
                output.SetError(i, e.Message.Replace("Text 0 ", "The text ", StringComparison.Ordinal));
            }
        }

        return (rows.ToArray(), encodings.ToArray());
    }

    /// <summary>Tokenizes texts, skipping the ones that fail (for the batch-policy measurement).</summary>
    public static TokenEncoding[] TokenizeValid(TextEncoder encoder, IEnumerable<string> texts)
    {
        var encodings = new List<TokenEncoding>();
        foreach (string text in texts)
        {
            try
            {
                encodings.Add(encoder.Tokenize([text])[0]);
            }
            catch (ArgumentException)
            {
            }
        }

        return encodings.ToArray();
    }

    /// <summary>
    /// Runs the encodings in batches as the batcher says and maps each batch row with <paramref name="select"/>; a batch whose run
    /// fails (other than out of memory, which the batcher splits) gives every row of it an error message instead.
    /// </summary>
    /// <returns>One (result, error) per encoding, in order.</returns>
    public static (T? Result, string? Error)[] Score<T>(
        TextEncoder encoder,
        PaddingAwareBatcher batcher,
        TokenEncoding[] encodings,
        string outputName,
        Func<EncoderBatchOutput, int, T> select,
        CancellationToken cancellationToken)
    {
        if (encodings.Length == 0)
        {
            return [];
        }

        int[] lengths = Array.ConvertAll(encodings, e => e.Count);
        return batcher.Run<(T?, string?)>(
            lengths,
            (rows, token) =>
            {
                EncoderBatchOutput output;
                try
                {
                    output = encoder.RunBatch(rows.Select(r => encodings[r]).ToArray(), [outputName], token);
                }
                catch (OnnxRuntimeException e) when (!PaddingAwareBatcher.IsOutOfMemory(e) && !token.IsCancellationRequested)
                {
                    return Enumerable.Repeat<(T?, string?)>((default, "The model run failed: " + e.Message), rows.Count).ToArray();
                }

                var results = new (T?, string?)[rows.Count];
                for (int b = 0; b < rows.Count; b++)
                {
                    results[b] = (select(output, b), null);
                }

                return results;
            },
            cancellationToken);
    }

    /// <summary>
    /// The options' fixed policy, else the fastest candidate measured on the first rows of <paramref name="input"/> (tokenized; rows
    /// that cannot be encoded are left out), else, without any usable row, the default padding-aware policy. What every encoder
    /// estimator's <c>Fit</c> does.
    /// </summary>
    public static BatchPolicy ChoosePolicy(TextEncoder encoder, string outputName, TextModelTransformOptions options, IDataView input, CancellationToken cancellationToken)
    {
        if (options.FixedPolicy() is { } fixedPolicy)
        {
            return fixedPolicy;
        }

        IEnumerable<string> texts = ModelTransformSupport.Sample<string?>(input, options.InputColumnName, options.AutoBatchSampleRows, cancellationToken).OfType<string>();
        TokenEncoding[] sample = TokenizeValid(encoder, texts);
        if (sample.Length == 0)
        {
            return BatchPolicy.PaddingAware();
        }

        return ModelTransformSupport.Choose(
            BatchPolicy.DefaultCandidates,
            (policy, token) => Score(encoder, new PaddingAwareBatcher(policy), sample, outputName, static (_, _) => 0, token),
            cancellationToken);
    }
}
