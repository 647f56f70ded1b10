using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Generation.Encoding;

/// <summary>How token vectors become one text vector.</summary>
public enum PoolingStrategy
{
    /// <summary>The mean of the non-padding token vectors (attention-mask weighted).</summary>
    Mean,

    /// <summary>The first non-padding token (BERT's <c>[CLS]</c>; position 0 under right padding).</summary>
    Cls,

    /// <summary>The last non-padding token (for decoder-style embedders), under left or right padding.</summary>
    LastToken,
}

/// <summary>Options of an <see cref="Embedder"/>.</summary>
public sealed record EmbedderOptions
{
    /// <summary>The pooling (default <see cref="PoolingStrategy.Mean"/>).</summary>
    public PoolingStrategy Pooling { get; init; } = PoolingStrategy.Mean;

    /// <summary>Whether each vector is scaled to unit L2 norm.</summary>
    public bool Normalize { get; init; }

    /// <summary>The batching policy (default: padding-aware with the default budget).</summary>
    public BatchPolicy BatchPolicy { get; init; } = BatchPolicy.PaddingAware();

    /// <summary>The output holding token vectors [batch, sequence, hidden] (default <c>last_hidden_state</c>, else the first rank-3 output).</summary>
    public string? OutputName { get; init; }
}

/// <summary>
/// Text embeddings from an encoder: token vectors pooled (mean, first token, last token), optionally L2-normalized, computed in
/// batches as a <see cref="Encoding.BatchPolicy"/> says and returned in input order.
/// </summary>
public sealed class Embedder : IDisposable
{
    private readonly bool _ownsEncoder;
    private PaddingAwareBatcher _batcher;

    /// <summary>Creates an embedder over an encoder.</summary>
    /// <param name="encoder">The encoder.</param>
    /// <param name="options">Pooling, normalization, batching.</param>
    /// <param name="ownsEncoder">Whether disposing the embedder disposes the encoder.</param>
    /// <exception cref="InvalidDataException">The model has no token-vector output (the message lists its outputs).</exception>
    public Embedder(TextEncoder encoder, EmbedderOptions? options = null, bool ownsEncoder = false)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        Encoder = encoder;
        Options = options ?? new EmbedderOptions();
        _ownsEncoder = ownsEncoder;
        _batcher = new PaddingAwareBatcher(Options.BatchPolicy);
        string? output = Options.OutputName
            ?? (encoder.Session.OutputNames.Contains("last_hidden_state") ? "last_hidden_state" : encoder.Session.OutputMetadata.FirstOrDefault(o => o.Rank == 3)?.Name);
        if (output is null || !encoder.Session.OutputNames.Contains(output))
        {
            throw new InvalidDataException($"{encoder.Session.ModelPath ?? "The model"}: no token-vector output {(Options.OutputName is null ? "(last_hidden_state or a [batch, sequence, hidden] output)" : $"'{Options.OutputName}'")} (outputs: {string.Join(", ", encoder.Session.OutputMetadata.Select(o => o.ToString()))}).");
        }

        OutputName = output;
    }

    /// <summary>Opens a model folder as an embedder.</summary>
    /// <param name="path">The folder (or an <c>.onnx</c> file in it).</param>
    /// <param name="options">Pooling, normalization, batching.</param>
    /// <param name="sessionOptions">Session options.</param>
    /// <param name="encoderOptions">Truncation and padding.</param>
    /// <returns>The embedder; dispose it.</returns>
    public static Embedder Open(string path, EmbedderOptions? options = null, SessionOptions? sessionOptions = null, TextEncoderOptions? encoderOptions = null)
    {
        TextEncoder encoder = TextEncoder.Open(path, sessionOptions, encoderOptions);
        try
        {
            return new Embedder(encoder, options, ownsEncoder: true);
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
    }

    /// <summary>The encoder.</summary>
    public TextEncoder Encoder { get; }

    /// <summary>The options.</summary>
    public EmbedderOptions Options { get; }

    /// <summary>The output pooled.</summary>
    public string OutputName { get; }

    /// <summary>The batcher in use (its policy, the limits in force after out-of-memory splits, counters).</summary>
    public PaddingAwareBatcher Batcher => Volatile.Read(ref _batcher);

    /// <summary>Replaces the batching policy (and resets the out-of-memory limits).</summary>
    /// <param name="policy">The policy.</param>
    public void UseBatchPolicy(BatchPolicy policy) => Volatile.Write(ref _batcher, new PaddingAwareBatcher(policy));

    /// <summary>Embeds one text.</summary>
    /// <param name="text">The text.</param>
    /// <param name="cancellationToken">Terminates the run.</param>
    /// <returns>The vector.</returns>
    public float[] Embed(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Embed([text], cancellationToken)[0];
    }

    /// <summary>Embeds texts with the current batching policy; results in input order (empty input → empty result).</summary>
    /// <param name="texts">The texts.</param>
    /// <param name="cancellationToken">Stops between batches and terminates runs.</param>
    /// <returns>One vector per text.</returns>
    /// <exception cref="ArgumentException">A text is too long without truncation, or null.</exception>
    public float[][] Embed(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        Embed(texts, Batcher, cancellationToken);

    /// <summary>Embeds texts with a given batcher (policy and out-of-memory state).</summary>
    /// <param name="texts">The texts.</param>
    /// <param name="batcher">The batcher.</param>
    /// <param name="cancellationToken">Stops between batches and terminates runs.</param>
    /// <returns>One vector per text, in input order.</returns>
    public float[][] Embed(IReadOnlyList<string> texts, PaddingAwareBatcher batcher, CancellationToken cancellationToken = default) =>
        Encoder.Score(texts, [OutputName], batcher, PoolBatch, cancellationToken);

    /// <summary>Embeds texts on the thread pool.</summary>
    /// <param name="texts">The texts.</param>
    /// <param name="cancellationToken">Stops between batches and terminates runs.</param>
    /// <returns>One vector per text, in input order.</returns>
    public Task<float[][]> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        Task.Run(() => Embed(texts, cancellationToken), cancellationToken);

    /// <summary>
    /// Times candidate policies on a sample of the texts (the first <paramref name="sampleRows"/>), switches to the fastest and
    /// returns it. Measure, don't guess: on a CPU a batch of one is sometimes fastest.
    /// </summary>
    /// <param name="texts">The texts (or a representative sample).</param>
    /// <param name="candidates">The policies; <see langword="null"/> for <see cref="BatchPolicy.DefaultCandidates"/>.</param>
    /// <param name="sampleRows">How many leading texts to time on.</param>
    /// <param name="cancellationToken">Stops the measurement.</param>
    /// <returns>The chosen policy.</returns>
    public async Task<BatchPolicy> ChooseBatchPolicyAsync(IReadOnlyList<string> texts, IReadOnlyList<BatchPolicy>? candidates = null, int sampleRows = 64, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleRows, 1);
        string[] sample = texts.Take(sampleRows).ToArray();
        if (sample.Length == 0)
        {
            return Batcher.Policy;
        }

        BatchPolicy best = await BatchPolicy.ChooseAsync(
            candidates,
            (policy, token) => Task.Run(() => Embed(sample, new PaddingAwareBatcher(policy), token), token),
            repetitions: 1,
            cancellationToken).ConfigureAwait(false);
        UseBatchPolicy(best);
        return best;
    }

    /// <summary>
    /// Pools one row: <paramref name="hidden"/> is the row's token vectors <c>[sequence, hiddenSize]</c>, <paramref name="mask"/> its
    /// attention mask <c>[sequence]</c>. Mean divides by max(Σ mask, 1e-9); normalization divides by max(‖v‖₂, 1e-12).
    /// </summary>
    /// <param name="hidden">The token vectors, row-major.</param>
    /// <param name="mask">The attention mask.</param>
    /// <param name="pooling">The pooling.</param>
    /// <param name="normalize">Whether to L2-normalize.</param>
    /// <returns>The vector of <c>hidden.Length / mask.Length</c> elements.</returns>
    /// <exception cref="ArgumentException">The lengths do not agree, or (for first/last token) the mask has no token.</exception>
    public static float[] Pool(ReadOnlySpan<float> hidden, ReadOnlySpan<long> mask, PoolingStrategy pooling, bool normalize)
    {
        if (mask.Length == 0 || hidden.Length % mask.Length != 0)
        {
            throw new ArgumentException($"The token vectors ({hidden.Length} values) are not a whole number of rows of the mask's {mask.Length} positions.", nameof(hidden));
        }

        int size = hidden.Length / mask.Length;
        var result = new float[size];
        switch (pooling)
        {
            case PoolingStrategy.Mean:
                {
                    var sum = new double[size];
                    double count = 0;
                    for (int t = 0; t < mask.Length; t++)
                    {
                        if (mask[t] == 0)
                        {
                            continue;
                        }

                        count += mask[t];
                        ReadOnlySpan<float> vector = hidden.Slice(t * size, size);
                        for (int h = 0; h < size; h++)
                        {
                            sum[h] += vector[h] * (double)mask[t];
                        }
                    }

                    double divisor = Math.Max(count, 1e-9);
                    for (int h = 0; h < size; h++)
                    {
                        result[h] = (float)(sum[h] / divisor);
                    }

                    break;
                }

            case PoolingStrategy.Cls:
            case PoolingStrategy.LastToken:
                {
                    int index = pooling == PoolingStrategy.Cls ? mask.IndexOfAnyExcept(0L) : mask.LastIndexOfAnyExcept(0L);
                    if (index < 0)
                    {
                        throw new ArgumentException("The attention mask has no token.", nameof(mask));
                    }

                    hidden.Slice(index * size, size).CopyTo(result);
                    break;
                }

            default:
                throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "Unknown pooling strategy.");
        }

        if (normalize)
        {
            double norm = 0;
            foreach (float v in result)
            {
                norm += (double)v * v;
            }

            float scale = (float)(1 / Math.Max(Math.Sqrt(norm), 1e-12));
            for (int h = 0; h < size; h++)
            {
                result[h] *= scale;
            }
        }

        return result;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsEncoder)
        {
            Encoder.Dispose();
        }
    }

    private float[][] PoolBatch(EncoderBatchOutput output)
    {
        (float[] data, long[] shape) = output.GetOutput(OutputName);
        if (shape.Length != 3 || shape[0] != output.Rows || shape[1] != output.SequenceLength)
        {
            throw new InvalidDataException($"The output '{OutputName}' has shape [{string.Join(", ", shape)}]; expected [{output.Rows}, {output.SequenceLength}, hidden].");
        }

        int sequence = output.SequenceLength;
        int size = (int)shape[2];
        long[] mask = output.AttentionMask as long[] ?? output.AttentionMask.ToArray();
        var vectors = new float[output.Rows][];
        for (int b = 0; b < output.Rows; b++)
        {
            vectors[b] = Pool(data.AsSpan(b * sequence * size, sequence * size), mask.AsSpan(b * sequence, sequence), Options.Pooling, Options.Normalize);
        }

        return vectors;
    }
}
