using MLNetTransformers.Tokenizers.Core;

namespace MLNetTransformers.Tokenizers.PostProcessors;

/// <summary>Combines the encodings of a text (and its pair) and adds special tokens (Hugging Face's <c>post_processor</c>).</summary>
internal abstract class PostProcessor
{
    /// <summary>How many tokens processing adds (for truncation budgets).</summary>
    public abstract int AddedTokenCount(bool isPair);

    /// <summary>Produces the final token list; with <paramref name="addSpecialTokens"/> false, only type ids are applied.</summary>
    public abstract TokenList Process(TokenList first, TokenList? second, bool addSpecialTokens);

    /// <summary>Adjusts token offsets (the ByteLevel and RoBERTa processors' <c>trim_offsets</c>); nothing by default.</summary>
    public virtual void AdjustOffsets(TokenList tokens, Func<int, string?> tokenText)
    {
    }

    /// <summary>No special tokens: the pair (type id 1) follows the first sequence (type id 0).</summary>
    public static TokenList Default(TokenList first, TokenList? second)
    {
        var result = new TokenList(first.Count + (second?.Count ?? 0));
        result.AddRange(first, 0);
        if (second is not null)
        {
            result.AddRange(second, 1);
        }

        return result;
    }
}

/// <summary>One item of a template: a special token, or sequence A or B, each with its type id.</summary>
internal readonly record struct TemplatePiece(bool IsSequence, string Id, int TypeId);

/// <summary>Hugging Face's TemplateProcessing (also used for BertProcessing and RobertaProcessing).</summary>
internal sealed class TemplateProcessor(
    IReadOnlyList<TemplatePiece> single,
    IReadOnlyList<TemplatePiece> pair,
    IReadOnlyDictionary<string, int[]> specialTokens) : PostProcessor
{
    public IReadOnlyList<TemplatePiece> Single => single;

    public IReadOnlyDictionary<string, int[]> SpecialTokens => specialTokens;

    public override int AddedTokenCount(bool isPair) =>
        (isPair ? pair : single).Where(p => !p.IsSequence).Sum(p => specialTokens[p.Id].Length);

    public override TokenList Process(TokenList first, TokenList? second, bool addSpecialTokens)
    {
        var template = second is null ? single : pair;
        var result = new TokenList(first.Count + (second?.Count ?? 0) + 4);
        foreach (TemplatePiece piece in template)
        {
            if (piece.IsSequence)
            {
                TokenList? sequence = piece.Id == "A" ? first : second;
                if (sequence is not null)
                {
                    result.AddRange(sequence, piece.TypeId);
                }
            }
            else if (addSpecialTokens)
            {
                foreach (int id in specialTokens[piece.Id])
                {
                    result.Add(id, 0, 0, piece.TypeId, special: true);
                }
            }
        }

        return result;
    }
}

/// <summary>
/// Byte-level offset trimming: offsets of tokens that start (or end) with encoded whitespace move past it, so a token like
/// <c>Ġworld</c> points at <c>world</c>. A prefix space the pre-tokenizer added is not in the original and is not trimmed.
/// </summary>
internal sealed class ByteLevelProcessor(bool trimOffsets, bool addPrefixSpace, PostProcessor? inner = null) : PostProcessor
{
    private const char EncodedSpace = 'Ġ';

    public override int AddedTokenCount(bool isPair) => inner?.AddedTokenCount(isPair) ?? 0;

    public override TokenList Process(TokenList first, TokenList? second, bool addSpecialTokens) =>
        inner?.Process(first, second, addSpecialTokens) ?? Default(first, second);

    public override void AdjustOffsets(TokenList tokens, Func<int, string?> tokenText)
    {
        if (!trimOffsets)
        {
            return;
        }

        for (int i = 0; i < tokens.Count; i++)
        {
            var (start, end) = tokens.Offsets[i];
            string? text = tokens.Special[i] ? null : tokenText(tokens.Ids[i]);
            if (text is null || end <= start)
            {
                continue;
            }

            int leading = 0;
            while (leading < text.Length && text[leading] == EncodedSpace)
            {
                leading++;
            }

            int trailing = 0;
            while (trailing < text.Length - leading && text[text.Length - 1 - trailing] == EncodedSpace)
            {
                trailing++;
            }

            if (addPrefixSpace && start == 0 && leading > 0)
            {
                leading--;
            }

            int newStart = Math.Min(start + leading, end);
            int newEnd = Math.Max(end - trailing, newStart);
            tokens.Offsets[i] = (newStart, newEnd);
        }
    }
}

/// <summary>Applies processors in order: the last one that adds tokens decides the layout; offset adjustments all apply.</summary>
internal sealed class SequenceProcessor(IReadOnlyList<PostProcessor> processors) : PostProcessor
{
    public override int AddedTokenCount(bool isPair) => processors.Sum(p => p.AddedTokenCount(isPair));

    public override TokenList Process(TokenList first, TokenList? second, bool addSpecialTokens)
    {
        PostProcessor? layout = processors.LastOrDefault(p => p is TemplateProcessor);
        return layout?.Process(first, second, addSpecialTokens) ?? Default(first, second);
    }

    public override void AdjustOffsets(TokenList tokens, Func<int, string?> tokenText)
    {
        foreach (PostProcessor processor in processors)
        {
            processor.AdjustOffsets(tokens, tokenText);
        }
    }
}
