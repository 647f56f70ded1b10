using System.Globalization;
using System.Text.Json;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Generation.Encoding;

/// <summary>A text's classification: the best label, its probability, and every label's probability (softmax over the logits).</summary>
/// <param name="Label">The most probable label.</param>
/// <param name="Score">Its probability.</param>
/// <param name="Scores">Every label's probability, in label-id order.</param>
public sealed record ClassificationResult(string Label, float Score, IReadOnlyList<KeyValuePair<string, float>> Scores);

/// <summary>Options of a <see cref="Classifier"/>.</summary>
public sealed record ClassifierOptions
{
    /// <summary>The batching policy (default: padding-aware with the default budget).</summary>
    public BatchPolicy BatchPolicy { get; init; } = BatchPolicy.PaddingAware();

    /// <summary>The output holding the logits [batch, labels] (default <c>logits</c>).</summary>
    public string OutputName { get; init; } = "logits";
}

/// <summary>
/// Sequence classification with an encoder that outputs <c>logits</c> [batch, labels]: softmax, labels from config.json
/// <c>id2label</c> (else <c>LABEL_i</c>), batched as a <see cref="BatchPolicy"/> says, results in input order.
/// </summary>
public sealed class Classifier : IDisposable
{
    private readonly bool _ownsEncoder;
    private PaddingAwareBatcher _batcher;

    /// <summary>Creates a classifier over an encoder.</summary>
    /// <param name="encoder">The encoder.</param>
    /// <param name="options">Batching and output name.</param>
    /// <param name="ownsEncoder">Whether disposing the classifier disposes the encoder.</param>
    /// <exception cref="InvalidDataException">The model has no logits output [batch, labels], or <c>id2label</c> is malformed.</exception>
    public Classifier(TextEncoder encoder, ClassifierOptions? options = null, bool ownsEncoder = false)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        Encoder = encoder;
        Options = options ?? new ClassifierOptions();
        _ownsEncoder = ownsEncoder;
        _batcher = new PaddingAwareBatcher(Options.BatchPolicy);
        NodeMetadata? output = encoder.Session.OutputMetadata.FirstOrDefault(o => o.Name == Options.OutputName);
        if (output is null || output.Rank != 2)
        {
            throw new InvalidDataException($"{encoder.Session.ModelPath ?? "The model"}: no classification output '{Options.OutputName}' [batch, labels] (outputs: {string.Join(", ", encoder.Session.OutputMetadata.Select(o => o.ToString()))}).");
        }

        int? count = output.Dimensions[1] > 0 ? (int)output.Dimensions[1] : null;
        Labels = ReadLabels(encoder.Config, count);
    }

    /// <summary>Opens a model folder as a classifier.</summary>
    /// <param name="path">The folder (or an <c>.onnx</c> file in it).</param>
    /// <param name="options">Batching and output name.</param>
    /// <param name="sessionOptions">Session options.</param>
    /// <param name="encoderOptions">Truncation and padding.</param>
    /// <returns>The classifier; dispose it.</returns>
    public static Classifier Open(string path, ClassifierOptions? options = null, SessionOptions? sessionOptions = null, TextEncoderOptions? encoderOptions = null)
    {
        TextEncoder encoder = TextEncoder.Open(path, sessionOptions, encoderOptions);
        try
        {
            return new Classifier(encoder, options, ownsEncoder: true);
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
    public ClassifierOptions Options { get; }

    /// <summary>
    /// The label names by id from config.json <c>id2label</c>; <c>LABEL_i</c> for ids it lacks. Empty when neither config.json nor
    /// the graph says how many labels there are (names are then made per run).
    /// </summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>The batcher in use.</summary>
    public PaddingAwareBatcher Batcher => Volatile.Read(ref _batcher);

    /// <summary>Replaces the batching policy (and resets the out-of-memory limits).</summary>
    /// <param name="policy">The policy.</param>
    public void UseBatchPolicy(BatchPolicy policy) => Volatile.Write(ref _batcher, new PaddingAwareBatcher(policy));

    /// <summary>Classifies one text.</summary>
    /// <param name="text">The text.</param>
    /// <param name="cancellationToken">Terminates the run.</param>
    /// <returns>The result.</returns>
    public ClassificationResult Classify(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Classify([text], cancellationToken)[0];
    }

    /// <summary>Classifies texts; results in input order (empty input → empty result).</summary>
    /// <param name="texts">The texts.</param>
    /// <param name="cancellationToken">Stops between batches and terminates runs.</param>
    /// <returns>One result per text.</returns>
    public ClassificationResult[] Classify(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        Encoder.Score(texts, [Options.OutputName], Batcher, ToResults, cancellationToken);

    /// <summary>Classifies texts on the thread pool.</summary>
    /// <param name="texts">The texts.</param>
    /// <param name="cancellationToken">Stops between batches and terminates runs.</param>
    /// <returns>One result per text.</returns>
    public Task<ClassificationResult[]> ClassifyAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        Task.Run(() => Classify(texts, cancellationToken), cancellationToken);

    /// <summary>A numerically stable softmax (max subtracted, accumulated in double).</summary>
    /// <param name="logits">The logits.</param>
    /// <returns>Probabilities summing to 1.</returns>
    public static float[] Softmax(ReadOnlySpan<float> logits)
    {
        if (logits.Length == 0)
        {
            return [];
        }

        float max = float.NegativeInfinity;
        foreach (float v in logits)
        {
            max = Math.Max(max, v);
        }

        var exp = new double[logits.Length];
        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            exp[i] = Math.Exp(logits[i] - (double)max);
            sum += exp[i];
        }

        var result = new float[logits.Length];
        for (int i = 0; i < logits.Length; i++)
        {
            result[i] = (float)(exp[i] / sum);
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

    private ClassificationResult[] ToResults(EncoderBatchOutput output)
    {
        (float[] data, long[] shape) = output.GetOutput(Options.OutputName);
        if (shape.Length != 2 || shape[0] != output.Rows)
        {
            throw new InvalidDataException($"The output '{Options.OutputName}' has shape [{string.Join(", ", shape)}]; expected [{output.Rows}, labels].");
        }

        int labels = (int)shape[1];
        string[] names = Enumerable.Range(0, labels).Select(i => i < Labels.Count ? Labels[i] : string.Create(CultureInfo.InvariantCulture, $"LABEL_{i}")).ToArray();
        var results = new ClassificationResult[output.Rows];
        for (int b = 0; b < output.Rows; b++)
        {
            float[] probabilities = Softmax(data.AsSpan(b * labels, labels));
            int best = 0;
            for (int i = 1; i < labels; i++)
            {
                best = probabilities[i] > probabilities[best] ? i : best;
            }

            var scores = new KeyValuePair<string, float>[labels];
            for (int i = 0; i < labels; i++)
            {
                scores[i] = new(names[i], probabilities[i]);
            }

            results[b] = new ClassificationResult(labels == 0 ? string.Empty : names[best], labels == 0 ? 0 : probabilities[best], scores);
        }

        return results;
    }

    private static string[] ReadLabels(ModelConfig? config, int? graphCount)
    {
        var byId = new Dictionary<int, string>();
        if (config is not null && config.Raw.TryGetProperty("id2label", out JsonElement id2label))
        {
            if (id2label.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"config.json: 'id2label' must be an object of id → label, found {id2label.ValueKind}.");
            }

            foreach (JsonProperty entry in id2label.EnumerateObject())
            {
                if (!int.TryParse(entry.Name, NumberStyles.None, CultureInfo.InvariantCulture, out int id) || entry.Value.ValueKind != JsonValueKind.String)
                {
                    throw new InvalidDataException($"config.json: 'id2label' entry \"{entry.Name}\" must map a non-negative integer id to a string label.");
                }

                byId[id] = entry.Value.GetString()!;
            }
        }

        int count = graphCount ?? (byId.Count == 0 ? 0 : byId.Keys.Max() + 1);
        return Enumerable.Range(0, count).Select(i => byId.TryGetValue(i, out string? name) ? name : string.Create(CultureInfo.InvariantCulture, $"LABEL_{i}")).ToArray();
    }
}
