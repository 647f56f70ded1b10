using System.Text.Json.Nodes;
using MLNetTransformers.Tokenizers;

namespace MLNetTransformers.Data.Transforms;

/// <summary>Options of <see cref="TokenizingTransformer"/>.</summary>
public sealed record TokenizeOptions
{
    /// <summary>The model folder holding <c>tokenizer.json</c> (and <c>tokenizer_config.json</c>).</summary>
    public required string ModelDirectory { get; init; }

    /// <summary>The text column to tokenize. Default <c>text</c>.</summary>
    public string InputColumnName { get; init; } = "text";

    /// <summary>The output column of token ids (variable Int64 vector). Default <c>input_ids</c>.</summary>
    public string InputIdsColumnName { get; init; } = "input_ids";

    /// <summary>The output column of the attention mask (variable Int64 vector, all ones: no padding per row). Default <c>attention_mask</c>.</summary>
    public string AttentionMaskColumnName { get; init; } = "attention_mask";

    /// <summary>The output column of token offsets, flattened <c>[start0, end0, start1, end1, ...]</c> in UTF-16 chars of the
    /// input (variable Int32 vector); <see langword="null"/> to leave it out. Default <c>offsets</c>.</summary>
    public string? OffsetsColumnName { get; init; } = "offsets";

    /// <summary>The most tokens per row (special tokens included); longer rows are truncated. <see langword="null"/>: no limit.</summary>
    public int? MaxLength { get; init; }

    /// <summary>Which end truncation cuts; <see langword="null"/>: the tokenizer's setting, else the right.</summary>
    public Side? TruncationSide { get; init; }

    /// <summary>Whether the tokenizer's post-processor adds special tokens. Default true.</summary>
    public bool AddSpecialTokens { get; init; } = true;

    /// <summary>The per-row error column (a null input text is a row error), or <see langword="null"/> to throw. Default <c>error</c>.</summary>
    public string? ErrorColumnName { get; init; } = BatchMappingTransformer.DefaultErrorColumnName;
}

/// <summary>
/// Tokenizes a text column with a model folder's tokenizer into <c>input_ids</c>, <c>attention_mask</c> and <c>offsets</c>
/// columns, row by row as <see cref="Tokenizer.Encode(string, string?, EncodeOptions?)"/> does (no padding: rows keep their lengths).
/// </summary>
public sealed class TokenizingTransformer : BatchMappingTransformer, ISavableTransformer
{
    /// <summary>The kind name in pipeline descriptions.</summary>
    public const string KindName = "tokenize";

    private readonly Tokenizer _tokenizer;
    private readonly EncodeOptions _encodeOptions;

    /// <summary>Loads the tokenizer of <see cref="TokenizeOptions.ModelDirectory"/>.</summary>
    /// <param name="options">The options.</param>
    /// <exception cref="FileNotFoundException">The folder has no tokenizer.</exception>
    public TokenizingTransformer(TokenizeOptions options)
        : base((options ?? throw new ArgumentNullException(nameof(options))).ErrorColumnName)
    {
        ArgumentException.ThrowIfNullOrEmpty(options.ModelDirectory);
        if (options.MaxLength is int max)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(max, 1, $"{nameof(TokenizeOptions)}.{nameof(TokenizeOptions.MaxLength)}");
        }

        if (!Directory.Exists(options.ModelDirectory))
        {
            throw new DirectoryNotFoundException($"The model folder '{options.ModelDirectory}' does not exist.");
        }

        Options = options;
        _tokenizer = Tokenizer.FromDirectory(options.ModelDirectory);
        _encodeOptions = new EncodeOptions
        {
            AddSpecialTokens = options.AddSpecialTokens,
            Truncation = options.MaxLength is int m ? new TruncationOptions { MaxLength = m, Side = options.TruncationSide } : null,
        };
    }

    /// <summary>The options.</summary>
    public TokenizeOptions Options { get; }

    /// <inheritdoc />
    public string Kind => KindName;

    /// <inheritdoc />
    protected override DataViewSchema GetAddedColumns(DataViewSchema inputSchema)
    {
        RequireColumn(inputSchema, Options.InputColumnName, t => t is TextDataViewType, "Text");
        var builder = new DataViewSchema.Builder()
            .AddColumn(Options.InputIdsColumnName, new VectorDataViewType(NumberDataViewType.Int64))
            .AddColumn(Options.AttentionMaskColumnName, new VectorDataViewType(NumberDataViewType.Int64));
        if (Options.OffsetsColumnName is string offsets)
        {
            builder.AddColumn(offsets, new VectorDataViewType(NumberDataViewType.Int32));
        }

        return builder.ToSchema();
    }

    /// <inheritdoc />
    protected override void MapBatch(DataBatch input, BatchMappingOutput output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        string?[] texts = input.GetColumn<string?>(Options.InputColumnName);
        long[][] ids = output.GetColumn<long[]>(Options.InputIdsColumnName);
        long[][] masks = output.GetColumn<long[]>(Options.AttentionMaskColumnName);
        int[][]? offsets = Options.OffsetsColumnName is string name ? output.GetColumn<int[]>(name) : null;
        for (int i = 0; i < texts.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (output.HasError(i))
            {
                continue;
            }

            if (texts[i] is not string text)
            {
                output.SetError(i, $"The text column '{Options.InputColumnName}' is missing (null).");
                continue;
            }

            TokenEncoding encoding;
            try
            {
                encoding = _tokenizer.Encode(text, null, _encodeOptions);
            }
            catch (ArgumentException e)
            {
                // One unencodable row (e.g. a truncation the special tokens cannot fit) must not stop the batch.
                output.SetError(i, "Tokenization failed: " + e.Message);
                continue;
            }

            var rowIds = new long[encoding.Count];
            var rowMask = new long[encoding.Count];
            for (int t = 0; t < rowIds.Length; t++)
            {
                rowIds[t] = encoding.Ids[t];
                rowMask[t] = encoding.AttentionMask[t];
            }

            ids[i] = rowIds;
            masks[i] = rowMask;
            if (offsets is not null)
            {
                var rowOffsets = new int[encoding.Count * 2];
                for (int t = 0; t < encoding.Count; t++)
                {
                    (rowOffsets[2 * t], rowOffsets[(2 * t) + 1]) = encoding.Offsets[t];
                }

                offsets[i] = rowOffsets;
            }
        }
    }

    /// <inheritdoc />
    public JsonObject SaveOptions(PipelineFileContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new JsonObject
        {
            ["modelDirectory"] = context.ToStoredPath(Options.ModelDirectory),
            ["inputColumnName"] = Options.InputColumnName,
            ["inputIdsColumnName"] = Options.InputIdsColumnName,
            ["attentionMaskColumnName"] = Options.AttentionMaskColumnName,
            ["offsetsColumnName"] = Options.OffsetsColumnName,
            ["maxLength"] = Options.MaxLength,
            ["truncationSide"] = Options.TruncationSide?.ToString(),
            ["addSpecialTokens"] = Options.AddSpecialTokens,
            ["errorColumnName"] = Options.ErrorColumnName,
        };
    }

    /// <summary>The <see cref="TransformerFactory"/> of the <c>tokenize</c> kind.</summary>
    /// <param name="options">The saved options.</param>
    /// <param name="context">Resolves the model folder path.</param>
    /// <returns>The transformer.</returns>
    public static TokenizingTransformer Load(JsonObject options, PipelineFileContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        var defaults = new TokenizeOptions { ModelDirectory = "." };
        string? side = PipelineJson.GetString(options, "truncationSide", null);
        return new TokenizingTransformer(new TokenizeOptions
        {
            ModelDirectory = context.ResolvePath(PipelineJson.GetString(options, "modelDirectory", null)
                ?? throw new InvalidDataException("The tokenize transform's options have no 'modelDirectory'.")),
            InputColumnName = PipelineJson.GetString(options, "inputColumnName", defaults.InputColumnName)!,
            InputIdsColumnName = PipelineJson.GetString(options, "inputIdsColumnName", defaults.InputIdsColumnName)!,
            AttentionMaskColumnName = PipelineJson.GetString(options, "attentionMaskColumnName", defaults.AttentionMaskColumnName)!,
            OffsetsColumnName = PipelineJson.GetString(options, "offsetsColumnName", defaults.OffsetsColumnName),
            MaxLength = options["maxLength"]?.GetValue<int>(),
            TruncationSide = side is null ? null : Enum.Parse<Side>(side),
            AddSpecialTokens = options["addSpecialTokens"]?.GetValue<bool>() ?? defaults.AddSpecialTokens,
            ErrorColumnName = PipelineJson.GetString(options, "errorColumnName", defaults.ErrorColumnName),
        });
    }
}
