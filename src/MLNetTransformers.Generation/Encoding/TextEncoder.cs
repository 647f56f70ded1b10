using System.Globalization;
using MLNetTransformers.OnnxRuntime;
using MLNetTransformers.Tokenizers;

namespace MLNetTransformers.Generation.Encoding;

/// <summary>Options of a <see cref="TextEncoder"/>.</summary>
public sealed record TextEncoderOptions
{
    /// <summary>
    /// Whether texts longer than <see cref="TextEncoder.MaxLength"/> tokens are cut to it (from the right). When <see langword="false"/>
    /// (the default) such a text is an error.
    /// </summary>
    public bool Truncate { get; init; }

    /// <summary>
    /// The longest sequence in tokens; <see langword="null"/> takes <c>max_position_embeddings</c> from config.json, else the
    /// tokenizer's <c>model_max_length</c>, else no limit.
    /// </summary>
    public int? MaxLength { get; init; }

    /// <summary>Which side padding goes on; <see langword="null"/> for the tokenizer's <c>padding_side</c>, else right.</summary>
    public Side? PaddingSide { get; init; }

    /// <summary>The ONNX file variant (see <see cref="ModelFolder.ResolveOnnxFile"/>); <see langword="null"/> for the default file.</summary>
    public string? Variant { get; init; }
}

/// <summary>
/// One padded batch's outputs, copied to managed memory: the attention mask that was fed and each requested output as float32.
/// </summary>
public sealed class EncoderBatchOutput
{
    internal EncoderBatchOutput(int rows, int sequenceLength, long[] attentionMask, Dictionary<string, (float[] Data, long[] Shape)> outputs)
    {
        Rows = rows;
        SequenceLength = sequenceLength;
        AttentionMask = attentionMask;
        _outputs = outputs;
    }

    private readonly Dictionary<string, (float[] Data, long[] Shape)> _outputs;

    /// <summary>The rows of the batch.</summary>
    public int Rows { get; }

    /// <summary>The padded length.</summary>
    public int SequenceLength { get; }

    /// <summary>The attention mask fed, row-major <c>[Rows, SequenceLength]</c> (1 = token, 0 = padding).</summary>
    public IReadOnlyList<long> AttentionMask { get; }

    /// <summary>An output's data (row-major, float32) and shape.</summary>
    /// <param name="name">The output name.</param>
    /// <returns>The data and shape.</returns>
    /// <exception cref="KeyNotFoundException">The output was not requested.</exception>
    public (float[] Data, long[] Shape) GetOutput(string name) =>
        _outputs.TryGetValue(name, out var value) ? value : throw new KeyNotFoundException($"Output '{name}' was not computed (computed: {string.Join(", ", _outputs.Keys)}).");
}

/// <summary>
/// An encoder model (BERT-like: inputs <c>input_ids</c>, <c>attention_mask</c>, optionally <c>token_type_ids</c> and
/// <c>position_ids</c>; outputs such as <c>last_hidden_state</c> [batch, sequence, hidden], <c>pooler_output</c> or
/// <c>logits</c> [batch, labels]) with its tokenizer: tokenizes texts (with the model's length limit) and runs padded batches.
/// Batching policy, pooling and classification live in <see cref="Embedder"/>, <see cref="Classifier"/> and
/// <see cref="PaddingAwareBatcher"/>. Runs may be concurrent (ONNX Runtime sessions are thread-safe).
/// </summary>
public sealed class TextEncoder : IDisposable
{
    /// <summary>The graph inputs this class knows how to feed.</summary>
    public static IReadOnlyList<string> SupportedInputs { get; } = ["input_ids", "attention_mask", "token_type_ids", "position_ids"];

    private readonly bool _ownsSession;
    private readonly EncodeOptions _encodeOptions;
    private readonly (string Name, TensorElementType Type)[] _inputs;

    /// <summary>Opens a model folder (or an <c>.onnx</c> file in one): its tokenizer, <c>config.json</c> and ONNX file.</summary>
    /// <param name="path">The folder or file.</param>
    /// <param name="sessionOptions">Session options (providers, threads); <see langword="null"/> for the defaults.</param>
    /// <param name="options">Encoder options.</param>
    /// <returns>The encoder; dispose it.</returns>
    /// <exception cref="DirectoryNotFoundException">No such folder or file.</exception>
    /// <exception cref="FileNotFoundException">The folder has no ONNX file or no tokenizer.</exception>
    /// <exception cref="InvalidDataException">A file is malformed, or the graph has an input this class cannot feed.</exception>
    public static TextEncoder Open(string path, SessionOptions? sessionOptions = null, TextEncoderOptions? options = null)
    {
        ModelFolder folder = ModelFolder.Open(path);
        if (!folder.HasTokenizer)
        {
            throw new FileNotFoundException($"The model folder {folder.Directory} has no tokenizer (tokenizer.json or tokenizer.model).", Path.Combine(folder.Directory, "tokenizer.json"));
        }

        options ??= new TextEncoderOptions();
        Tokenizer tokenizer = folder.LoadTokenizer();
        string file = options.Variant is null ? folder.ModelFile : folder.ResolveOnnxFile(options.Variant);
        var session = new InferenceSession(file, sessionOptions);
        try
        {
            return new TextEncoder(session, tokenizer, folder.Config, options, ownsSession: true);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Wraps a session and a tokenizer.</summary>
    /// <param name="session">The encoder session.</param>
    /// <param name="tokenizer">Its tokenizer.</param>
    /// <param name="config">The model's <c>config.json</c>, if any (max length, labels, pad id).</param>
    /// <param name="options">Encoder options.</param>
    /// <param name="ownsSession">Whether disposing the encoder disposes the session.</param>
    /// <exception cref="InvalidDataException">The graph has an input this class cannot feed, or no <c>input_ids</c>.</exception>
    public TextEncoder(InferenceSession session, Tokenizer tokenizer, ModelConfig? config = null, TextEncoderOptions? options = null, bool ownsSession = false)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(tokenizer);
        options ??= new TextEncoderOptions();
        if (options.MaxLength is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxLength, "TextEncoderOptions.MaxLength must be at least 1.");
        }

        Session = session;
        Tokenizer = tokenizer;
        Config = config;
        Options = options;
        _ownsSession = ownsSession;
        string model = session.ModelPath ?? "the model";
        string inputList = string.Join(", ", session.InputMetadata.Select(i => i.ToString()));
        _inputs = new (string, TensorElementType)[session.InputMetadata.Count];
        for (int i = 0; i < _inputs.Length; i++)
        {
            NodeMetadata input = session.InputMetadata[i];
            if (!SupportedInputs.Contains(input.Name))
            {
                throw new InvalidDataException($"{model}: cannot feed the graph input '{input.Name}' (graph inputs: {inputList}; an encoder takes {string.Join(", ", SupportedInputs)}).");
            }

            if (input.ValueType != OnnxValueType.Tensor || input.ElementType is not (TensorElementType.Int64 or TensorElementType.Int32) || input.Rank != 2)
            {
                throw new InvalidDataException($"{model}: the graph input '{input.Name}' is {input}; expected an int64 or int32 tensor [batch, sequence] (graph inputs: {inputList}).");
            }

            _inputs[i] = (input.Name, input.ElementType);
        }

        if (!_inputs.Any(i => i.Name == "input_ids"))
        {
            throw new InvalidDataException($"{model}: the graph has no 'input_ids' input (graph inputs: {inputList}).");
        }

        MaxLength = options.MaxLength ?? config?.MaxPositionEmbeddings ?? tokenizer.Config.ModelMaxLength;
        PaddingSide = options.PaddingSide ?? tokenizer.Config.PaddingSide ?? Side.Right;
        PadId = tokenizer.PadTokenId ?? config?.PadTokenId ?? 0;
        _encodeOptions = new EncodeOptions
        {
            AddSpecialTokens = true,
            Truncation = options.Truncate && MaxLength is { } max ? new TruncationOptions { MaxLength = max, Side = Side.Right } : null,
        };
    }

    /// <summary>The session.</summary>
    public InferenceSession Session { get; }

    /// <summary>The tokenizer.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary><c>config.json</c>, when known.</summary>
    public ModelConfig? Config { get; }

    /// <summary>The options.</summary>
    public TextEncoderOptions Options { get; }

    /// <summary>The longest sequence in tokens, when known.</summary>
    public int? MaxLength { get; }

    /// <summary>The side padding goes on.</summary>
    public Side PaddingSide { get; }

    /// <summary>The id written at padding positions.</summary>
    public int PadId { get; }

    /// <summary>The graph's output names.</summary>
    public IReadOnlyList<string> OutputNames => Session.OutputNames;

    /// <summary>
    /// Called before every run with the batch's row count and padded length. For diagnostics and tests (e.g. to simulate an
    /// allocation failure by throwing an <see cref="OnnxRuntimeException"/>).
    /// </summary>
    public Action<int, int>? BeforeRun { get; set; }

    /// <summary>Tokenizes texts (special tokens added, no padding), applying the length limit.</summary>
    /// <param name="texts">The texts.</param>
    /// <param name="cancellationToken">Stops between texts.</param>
    /// <returns>One encoding per text.</returns>
    /// <exception cref="ArgumentException">A text is null, or longer than <see cref="MaxLength"/> without truncation (the message names its index).</exception>
    public TokenEncoding[] Tokenize(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var encodings = new TokenEncoding[texts.Count];
        for (int i = 0; i < encodings.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string text = texts[i] ?? throw new ArgumentException($"Text {i} is null.", nameof(texts));
            TokenEncoding encoding = Tokenizer.Encode(text, null, _encodeOptions);
            if (MaxLength is { } max && encoding.Count > max)
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"Text {i} has {encoding.Count} tokens; the model takes at most {max} (max_position_embeddings). Shorten it or set TextEncoderOptions.Truncate."),
                    nameof(texts));
            }

            if (encoding.Count == 0)
            {
                throw new ArgumentException($"Text {i} has no tokens (the tokenizer adds no special tokens and the text is empty).", nameof(texts));
            }

            encodings[i] = encoding;
        }

        return encodings;
    }

    /// <summary>Pads the given rows together (to the longest), runs the model once, and copies the requested outputs.</summary>
    /// <param name="rows">The encodings of the batch (at least one).</param>
    /// <param name="outputNames">The outputs to compute.</param>
    /// <param name="cancellationToken">Terminates the run.</param>
    /// <returns>The outputs.</returns>
    /// <exception cref="ArgumentException">No rows, or an unknown output name (the message lists the outputs).</exception>
    /// <exception cref="OnnxRuntimeException">The run failed (for example, out of memory).</exception>
    public EncoderBatchOutput RunBatch(IReadOnlyList<TokenEncoding> rows, IReadOnlyList<string> outputNames, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(outputNames);
        if (rows.Count == 0)
        {
            throw new ArgumentException("A batch needs at least one row.", nameof(rows));
        }

        foreach (string name in outputNames)
        {
            if (!Session.OutputNames.Contains(name))
            {
                throw new ArgumentException($"The model has no output '{name}' (outputs: {string.Join(", ", Session.OutputNames)}).", nameof(outputNames));
            }
        }

        int batch = rows.Count;
        int length = rows.Max(r => r.Count);
        var ids = new long[batch * length];
        var mask = new long[batch * length];
        var types = new long[batch * length];
        var positions = new long[batch * length];
        Array.Fill(ids, PadId);
        for (int b = 0; b < batch; b++)
        {
            TokenEncoding row = rows[b];
            int offset = PaddingSide == Side.Left ? length - row.Count : 0;
            int at = (b * length) + offset;
            for (int t = 0; t < row.Count; t++)
            {
                ids[at + t] = row.Ids[t];
                mask[at + t] = 1;
                types[at + t] = row.TypeIds[t];
                positions[at + t] = t;
            }
        }

        BeforeRun?.Invoke(batch, length);
        long[] shape = [batch, length];
        var values = new OrtValue[_inputs.Length];
        var names = new string[_inputs.Length];
        try
        {
            for (int i = 0; i < _inputs.Length; i++)
            {
                (string name, TensorElementType type) = _inputs[i];
                long[] data = name switch
                {
                    "input_ids" => ids,
                    "attention_mask" => mask,
                    "token_type_ids" => types,
                    _ => positions,
                };
                names[i] = name;
                values[i] = type == TensorElementType.Int64
                    ? OrtValue.CreateTensor(data, shape)
                    : OrtValue.CreateTensor(Array.ConvertAll(data, v => (int)v), shape);
            }

            using SessionOutputs outputs = Session.Run(names, values, outputNames, cancellationToken: cancellationToken);
            var result = new Dictionary<string, (float[], long[])>(StringComparer.Ordinal);
            for (int i = 0; i < outputNames.Count; i++)
            {
                OrtValue value = outputs[i];
                TensorInfo info = value.TensorInfo;
                float[] data = info.ElementType switch
                {
                    TensorElementType.Float32 => value.ToArray<float>(),
                    TensorElementType.Float16 => Array.ConvertAll(value.ToArray<Half>(), h => (float)h),
                    _ => throw new InvalidDataException($"The output '{outputNames[i]}' is {info}; expected float32 or float16."),
                };
                result[outputNames[i]] = (data, info.Shape.ToArray());
            }

            return new EncoderBatchOutput(batch, length, mask, result);
        }
        finally
        {
            foreach (OrtValue? value in values)
            {
                value?.Dispose();
            }
        }
    }

    /// <summary>
    /// Tokenizes texts and runs them in batches as <paramref name="batcher"/> says, mapping each batch's output to per-row results
    /// with <paramref name="select"/>; results come back in input order. An empty list gives an empty result without running.
    /// </summary>
    /// <typeparam name="TResult">The per-row result.</typeparam>
    /// <param name="texts">The texts.</param>
    /// <param name="outputNames">The outputs each run computes.</param>
    /// <param name="batcher">The batching policy and its out-of-memory state.</param>
    /// <param name="select">Turns a batch's output into one result per row (in batch order).</param>
    /// <param name="cancellationToken">Stops between batches and terminates runs.</param>
    /// <returns>One result per text.</returns>
    public TResult[] Score<TResult>(IReadOnlyList<string> texts, IReadOnlyList<string> outputNames, PaddingAwareBatcher batcher, Func<EncoderBatchOutput, IReadOnlyList<TResult>> select, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(batcher);
        ArgumentNullException.ThrowIfNull(select);
        if (texts.Count == 0)
        {
            return [];
        }

        TokenEncoding[] encodings = Tokenize(texts, cancellationToken);
        int[] lengths = Array.ConvertAll(encodings, e => e.Count);
        return batcher.Run(lengths, (rows, token) => select(RunBatch(rows.Select(r => encodings[r]).ToArray(), outputNames, token)), cancellationToken);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsSession)
        {
            Session.Dispose();
        }
    }
}
