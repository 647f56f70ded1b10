using System.Globalization;
using System.Runtime.Intrinsics;
using MLNetTransformers.OnnxRuntime;
using MLNetTransformers.Tokenizers;

namespace MLNetTransformers.Generation;

/// <summary>How <see cref="PerplexityEvaluator"/> cuts a token stream into windows.</summary>
public sealed class PerplexityOptions
{
    /// <summary>Input tokens per window (the context length). Default 256.</summary>
    public int Window { get; set; } = 256;

    /// <summary>
    /// How far each window starts after the previous one; <see langword="null"/> for <see cref="Window"/> (disjoint windows).
    /// A smaller stride gives later tokens more context: each token is still predicted exactly once, by the first window whose
    /// end reaches it. Must be between 1 and <see cref="Window"/>.
    /// </summary>
    public int? Stride { get; set; }

    /// <summary>Windows of equal length run together in batches of this many rows. Default 1.</summary>
    public int BatchSize { get; set; } = 1;
}

/// <summary>One window of a perplexity evaluation: the inputs <c>tokens[Start .. Start+Length)</c>; input position <c>i</c>
/// predicts token <c>Start+i+1</c>, and positions from <see cref="FirstPredicted"/> on are counted.</summary>
/// <param name="Start">The index of the first input token in the stream.</param>
/// <param name="Length">The number of input tokens.</param>
/// <param name="FirstPredicted">The first counted input position (0 unless windows overlap).</param>
public readonly record struct PerplexityWindow(int Start, int Length, int FirstPredicted)
{
    /// <summary>The number of tokens this window predicts and counts.</summary>
    public int PredictedTokens => Length - FirstPredicted;
}

/// <summary>The negative log-likelihood of one window.</summary>
/// <param name="Window">The window.</param>
/// <param name="Nll">The summed negative log-likelihood of its counted predictions, in nats.</param>
public readonly record struct PerplexityWindowResult(PerplexityWindow Window, double Nll)
{
    /// <summary>The mean negative log-likelihood per counted token, in nats.</summary>
    public double MeanNll => Nll / Window.PredictedTokens;
}

/// <summary>Progress of an evaluation, reported after each batch of windows.</summary>
/// <param name="WindowsDone">The windows evaluated so far.</param>
/// <param name="Windows">The number of windows.</param>
/// <param name="PredictedTokens">The tokens predicted so far.</param>
/// <param name="Nll">The negative log-likelihood so far, in nats.</param>
public readonly record struct PerplexityProgress(int WindowsDone, int Windows, long PredictedTokens, double Nll)
{
    /// <summary>The perplexity so far.</summary>
    public double Perplexity => PredictedTokens == 0 ? double.NaN : Math.Exp(Nll / PredictedTokens);
}

/// <summary>The result of a perplexity evaluation.</summary>
public sealed class PerplexityResult
{
    internal PerplexityResult(int streamTokens, int window, int stride, IReadOnlyList<PerplexityWindowResult> windows)
    {
        StreamTokens = streamTokens;
        Window = window;
        Stride = stride;
        Windows = windows;
        PredictedTokens = windows.Sum(w => (long)w.Window.PredictedTokens);
        Nll = windows.Sum(w => w.Nll);
    }

    /// <summary><c>exp(Nll / PredictedTokens)</c>.</summary>
    public double Perplexity => Math.Exp(MeanNll);

    /// <summary>The mean negative log-likelihood per predicted token, in nats.</summary>
    public double MeanNll => Nll / PredictedTokens;

    /// <summary>The total negative log-likelihood, in nats.</summary>
    public double Nll { get; }

    /// <summary>The number of predicted tokens: every token of the stream but the first.</summary>
    public long PredictedTokens { get; }

    /// <summary>The number of tokens in the stream.</summary>
    public int StreamTokens { get; }

    /// <summary>The window length used.</summary>
    public int Window { get; }

    /// <summary>The stride used.</summary>
    public int Stride { get; }

    /// <summary>Each window with its negative log-likelihood, in stream order.</summary>
    public IReadOnlyList<PerplexityWindowResult> Windows { get; }

    /// <inheritdoc/>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"perplexity {Perplexity:F4} (mean NLL {MeanNll:F4} nats over {PredictedTokens} tokens, {Windows.Count} windows of {Window}, stride {Stride})");
}

/// <summary>
/// Perplexity of a causal decoder over a token stream, the standard fixed-window procedure: the stream is cut into windows of
/// <see cref="PerplexityOptions.Window"/> inputs every <see cref="PerplexityOptions.Stride"/> tokens; each window runs
/// independently (empty past, attention mask all ones, position ids 0..n-1); the loss is the sum of <c>-log softmax(logits)[target]</c>
/// (natural log, accumulated in double precision) over every token of the stream except the first, each counted once; perplexity
/// is <c>exp(total / count)</c>. With the defaults this is exactly the procedure of the project's reference perplexities.
/// </summary>
/// <remarks>Thread-safe as far as the session is: evaluations do not share state.</remarks>
public sealed class PerplexityEvaluator
{
    private readonly InferenceSession _session;
    private readonly string[] _outputNames = [DecoderSignature.LogitsName];

    /// <summary>Creates an evaluator over a decoder session.</summary>
    /// <param name="session">A decoder in the past_key_values layout; it stays owned by the caller.</param>
    /// <param name="signature">Its signature; <see langword="null"/> to read it from the session.</param>
    /// <exception cref="InvalidDataException">The session is not such a decoder.</exception>
    public PerplexityEvaluator(InferenceSession session, DecoderSignature? signature = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        _session = session;
        Signature = signature ?? DecoderSignature.FromSession(session);
    }

    /// <summary>The decoder's signature.</summary>
    public DecoderSignature Signature { get; }

    /// <summary>
    /// Builds the evaluation stream from lines of text: for each line <c>[bos] + tokenizer.Encode(line, no special tokens) + [eos]</c>,
    /// concatenated. BOS/EOS are left out where the tokenizer has none or the caller says so.
    /// </summary>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="lines">The lines (without line terminators).</param>
    /// <param name="addBos">Whether to start each line with the BOS token.</param>
    /// <param name="addEos">Whether to end each line with the EOS token.</param>
    /// <param name="cancellationToken">Stops the encoding between lines.</param>
    /// <returns>The token stream.</returns>
    public static int[] BuildTokenStream(Tokenizer tokenizer, IEnumerable<string> lines, bool addBos = true, bool addEos = true, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(lines);
        int? bos = addBos ? tokenizer.BosTokenId : null;
        int? eos = addEos ? tokenizer.EosTokenId : null;
        var stream = new List<int>();
        foreach (string line in lines)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (bos is { } b)
            {
                stream.Add(b);
            }

            stream.AddRange(tokenizer.Encode(line, addSpecialTokens: false).Ids);
            if (eos is { } e)
            {
                stream.Add(e);
            }
        }

        return stream.ToArray();
    }

    /// <summary>The windows an evaluation of <paramref name="tokenCount"/> tokens runs, in order.</summary>
    /// <param name="tokenCount">The stream length (≥ 2).</param>
    /// <param name="window">Inputs per window (≥ 1).</param>
    /// <param name="stride">Distance between window starts (1 ≤ stride ≤ window).</param>
    /// <returns>The windows; together they predict tokens 1 .. tokenCount-1 once each.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public static IReadOnlyList<PerplexityWindow> PlanWindows(int tokenCount, int window, int stride)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tokenCount, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(stride, window);
        var windows = new List<PerplexityWindow>();
        int predictedUpTo = 0; // the last predicted token index; token 0 is never predicted
        for (int start = 0; start < tokenCount - 1; start += stride)
        {
            int length = Math.Min(window, tokenCount - 1 - start);
            int end = start + length;
            if (end <= predictedUpTo)
            {
                continue;
            }

            windows.Add(new PerplexityWindow(start, length, Math.Max(0, predictedUpTo - start)));
            predictedUpTo = end;
            if (end == tokenCount - 1)
            {
                break;
            }
        }

        return windows;
    }

    /// <summary>
    /// <c>-log softmax(logits)[target]</c> in nats: <c>log(sum(exp(x - max))) + max - x[target]</c>, the exponentials computed in
    /// single precision (SIMD) and summed in double precision.
    /// </summary>
    /// <param name="logits">One position's logits over the vocabulary.</param>
    /// <param name="target">The target token id.</param>
    /// <returns>The negative log-likelihood.</returns>
    public static double NegativeLogLikelihood(ReadOnlySpan<float> logits, int target)
    {
        if ((uint)target >= (uint)logits.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(target), target, $"The target id is outside the {logits.Length} logits.");
        }

        int width = Vector256<float>.Count;
        int vectorEnd = Vector256.IsHardwareAccelerated ? logits.Length - (logits.Length % width) : 0;
        float max = float.NegativeInfinity;
        if (vectorEnd > 0)
        {
            Vector256<float> maxima = Vector256.Create(float.NegativeInfinity);
            for (int i = 0; i < vectorEnd; i += width)
            {
                maxima = Vector256.Max(maxima, Vector256.Create(logits.Slice(i, width)));
            }

            for (int k = 0; k < width; k++)
            {
                max = Math.Max(max, maxima[k]);
            }
        }

        for (int i = vectorEnd; i < logits.Length; i++)
        {
            max = Math.Max(max, logits[i]);
        }

        double sum = 0;
        if (vectorEnd > 0)
        {
            Vector256<float> shift = Vector256.Create(max);
            Vector256<double> sums = Vector256<double>.Zero;
            for (int i = 0; i < vectorEnd; i += width)
            {
                (Vector256<double> low, Vector256<double> high) = Vector256.Widen(Vector256.Exp(Vector256.Create(logits.Slice(i, width)) - shift));
                sums += low + high;
            }

            sum = Vector256.Sum(sums);
        }

        for (int i = vectorEnd; i < logits.Length; i++)
        {
            sum += Math.Exp((double)logits[i] - max);
        }

        return Math.Log(sum) + max - logits[target];
    }

    /// <summary>Evaluates the perplexity of a token stream.</summary>
    /// <param name="tokens">The stream (at least 2 tokens), e.g. from <see cref="BuildTokenStream"/>.</param>
    /// <param name="options">Window, stride and batch size; <see langword="null"/> for the defaults.</param>
    /// <param name="progress">Told after each batch of windows (on the calling thread); may be <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops the evaluation, also inside a running window.</param>
    /// <returns>The result.</returns>
    /// <exception cref="ArgumentException">Fewer than 2 tokens, a token outside the vocabulary, or bad options.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public PerplexityResult Evaluate(IReadOnlyList<int> tokens, PerplexityOptions? options = null, IProgress<PerplexityProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        options ??= new PerplexityOptions();
        if (tokens.Count < 2)
        {
            throw new ArgumentException($"Perplexity needs at least 2 tokens; the stream has {tokens.Count}.", nameof(tokens));
        }

        if (options.Window < 1)
        {
            throw new ArgumentException($"The window must be at least 1 token, not {options.Window}.", nameof(options));
        }

        int stride = options.Stride ?? options.Window;
        if (stride < 1 || stride > options.Window)
        {
            throw new ArgumentException($"The stride must be between 1 and the window ({options.Window}), not {stride}.", nameof(options));
        }

        if (options.BatchSize < 1)
        {
            throw new ArgumentException($"The batch size must be at least 1, not {options.BatchSize}.", nameof(options));
        }

        long vocabulary = Signature.VocabularySize > 0 ? Signature.VocabularySize : long.MaxValue;
        for (int i = 0; i < tokens.Count; i++)
        {
            if (tokens[i] < 0 || tokens[i] >= vocabulary)
            {
                throw new ArgumentException($"Token id {tokens[i]} (at {i}) is outside the model's vocabulary of {Signature.VocabularySize}.", nameof(tokens));
            }
        }

        IReadOnlyList<PerplexityWindow> plan = PlanWindows(tokens.Count, options.Window, stride);
        var results = new PerplexityWindowResult[plan.Count];
        long predicted = 0;
        double nll = 0;
        int next = 0;
        while (next < plan.Count)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = 1;
            while (count < options.BatchSize && next + count < plan.Count && plan[next + count].Length == plan[next].Length)
            {
                count++;
            }

            EvaluateBatch(tokens, plan, next, count, results, cancellationToken);
            for (int i = next; i < next + count; i++)
            {
                predicted += results[i].Window.PredictedTokens;
                nll += results[i].Nll;
            }

            next += count;
            progress?.Report(new PerplexityProgress(next, plan.Count, predicted, nll));
        }

        return new PerplexityResult(tokens.Count, options.Window, stride, results);
    }

    private void EvaluateBatch(IReadOnlyList<int> tokens, IReadOnlyList<PerplexityWindow> plan, int first, int count, PerplexityWindowResult[] results, CancellationToken cancellationToken)
    {
        int length = plan[first].Length;
        long[] ids = new long[count * length];
        for (int row = 0; row < count; row++)
        {
            int start = plan[first + row].Start;
            for (int i = 0; i < length; i++)
            {
                ids[(row * length) + i] = tokens[start + i];
            }
        }

        using var inputs = DecoderInputs.CreateWithEmptyPast(Signature, ids, count);
        using SessionOutputs outputs = _session.Run(inputs.Feeds, _outputNames, cancellationToken: cancellationToken);
        OrtValue logits = outputs[0];
        long[] shape = logits.TensorInfo.Shape.ToArray();
        if (shape.Length != 3 || shape[0] != count || shape[1] != length)
        {
            throw new InvalidDataException($"The model returned logits of shape [{string.Join(", ", shape)}] for inputs [{count}, {length}].");
        }

        int vocabulary = checked((int)shape[2]);
        float[] values = logits.ElementType switch
        {
            TensorElementType.Float32 => logits.ToArray<float>(),
            TensorElementType.Float16 => Array.ConvertAll(logits.ToArray<Half>(), h => (float)h),
            _ => throw new NotSupportedException($"Logits of type {logits.ElementType.GetName()} are not supported."),
        };

        for (int row = 0; row < count; row++)
        {
            PerplexityWindow window = plan[first + row];
            double[] losses = new double[window.Length];
            int[] targets = new int[window.Length];
            for (int i = window.FirstPredicted; i < window.Length; i++)
            {
                targets[i] = tokens[window.Start + i + 1];
                if ((uint)targets[i] >= (uint)vocabulary)
                {
                    throw new ArgumentException($"Token id {targets[i]} is outside the model's vocabulary of {vocabulary}.", nameof(tokens));
                }
            }

            int rowOffset = row * length * vocabulary;
            Parallel.For(window.FirstPredicted, window.Length, new ParallelOptions { CancellationToken = cancellationToken }, i =>
                losses[i] = NegativeLogLikelihood(values.AsSpan(rowOffset + (i * vocabulary), vocabulary), targets[i]));

            double sum = 0;
            for (int i = window.FirstPredicted; i < window.Length; i++)
            {
                sum += losses[i];
            }

            results[first + row] = new PerplexityWindowResult(window, sum);
        }
    }
}
