namespace MLNetTransformers.Tokenizers.Core;

/// <summary>One piece of pre-tokenized text: text for the model, or a token already decided (an added token).</summary>
internal readonly record struct Split(NormalizedString Text, int TokenId = -1)
{
    public bool IsToken => TokenId >= 0;
}

/// <summary>
/// The pieces the pre-tokenizers produce from a normalized string; the model tokenizes each text piece independently.
/// </summary>
internal sealed class PreTokenizedString
{
    public PreTokenizedString(List<Split> splits) => Splits = splits;

    public PreTokenizedString(NormalizedString text) => Splits = [new Split(text)];

    public List<Split> Splits { get; private set; }

    /// <summary>Replaces every text piece by the pieces <paramref name="split"/> makes of it (pieces already tokens stay).</summary>
    public void Split(Action<NormalizedString, List<NormalizedString>> split)
    {
        var result = new List<Split>(Splits.Count * 2);
        var pieces = new List<NormalizedString>();
        foreach (Split piece in Splits)
        {
            if (piece.IsToken)
            {
                result.Add(piece);
                continue;
            }

            pieces.Clear();
            split(piece.Text, pieces);
            foreach (NormalizedString p in pieces)
            {
                if (p.Length > 0)
                {
                    result.Add(new Split(p));
                }
            }
        }

        Splits = result;
    }

    /// <summary>Transforms every text piece in place (index = its position among all pieces).</summary>
    public void Transform(Func<NormalizedString, int, NormalizedString> transform)
    {
        for (int i = 0; i < Splits.Count; i++)
        {
            if (!Splits[i].IsToken)
            {
                Splits[i] = new Split(transform(Splits[i].Text, i));
            }
        }
    }
}

/// <summary>How a delimiter found while splitting is kept (the <c>behavior</c> of Hugging Face's Split pre-tokenizer).</summary>
internal enum SplitDelimiterBehavior
{
    /// <summary>The delimiter is dropped.</summary>
    Removed,
    /// <summary>The delimiter is its own piece.</summary>
    Isolated,
    /// <summary>The delimiter joins the piece before it.</summary>
    MergedWithPrevious,
    /// <summary>The delimiter joins the piece after it.</summary>
    MergedWithNext,
    /// <summary>Consecutive delimiters form one piece.</summary>
    Contiguous,
}

/// <summary>Splits a string at matches (ranges in its units) according to a <see cref="SplitDelimiterBehavior"/>.</summary>
internal static class Splitter
{
    /// <summary>
    /// Splits <paramref name="text"/> given the matched ranges (sorted, non-overlapping). With <paramref name="invert"/>, the
    /// ranges between matches are the delimiters instead.
    /// </summary>
    public static void SplitByMatches(NormalizedString text, List<(int Start, int End)> matches, SplitDelimiterBehavior behavior, bool invert, List<NormalizedString> output)
    {
        // Turn matches into a full partition of the text: (start, end, isDelimiter).
        var parts = new List<(int Start, int End, bool IsDelimiter)>(matches.Count * 2 + 1);
        int position = 0;
        foreach (var (start, end) in matches)
        {
            if (start > position)
            {
                parts.Add((position, start, invert));
            }

            if (end > start)
            {
                parts.Add((start, end, !invert));
            }

            position = end;
        }

        if (position < text.Length)
        {
            parts.Add((position, text.Length, invert));
        }

        switch (behavior)
        {
            case SplitDelimiterBehavior.Removed:
                foreach (var part in parts)
                {
                    if (!part.IsDelimiter)
                    {
                        output.Add(text.Slice(part.Start, part.End));
                    }
                }

                break;

            case SplitDelimiterBehavior.Isolated:
                foreach (var part in parts)
                {
                    output.Add(text.Slice(part.Start, part.End));
                }

                break;

            case SplitDelimiterBehavior.Contiguous:
            {
                int i = 0;
                while (i < parts.Count)
                {
                    int start = parts[i].Start;
                    bool delimiter = parts[i].IsDelimiter;
                    int j = i;
                    while (j + 1 < parts.Count && delimiter && parts[j + 1].IsDelimiter)
                    {
                        j++;
                    }

                    output.Add(text.Slice(start, parts[j].End));
                    i = j + 1;
                }

                break;
            }

            case SplitDelimiterBehavior.MergedWithPrevious:
            {
                int start = -1;
                foreach (var part in parts)
                {
                    if (part.IsDelimiter)
                    {
                        output.Add(text.Slice(start >= 0 ? start : part.Start, part.End));
                        start = -1;
                    }
                    else
                    {
                        if (start >= 0)
                        {
                            output.Add(text.Slice(start, part.Start));
                        }

                        start = part.Start;
                    }
                }

                if (start >= 0)
                {
                    output.Add(text.Slice(start, text.Length));
                }

                break;
            }

            case SplitDelimiterBehavior.MergedWithNext:
            {
                int start = -1;
                foreach (var part in parts)
                {
                    if (part.IsDelimiter)
                    {
                        if (start >= 0)
                        {
                            output.Add(text.Slice(start, part.Start));
                        }

                        start = part.Start;
                    }
                    else
                    {
                        output.Add(text.Slice(start >= 0 ? start : part.Start, part.End));
                        start = -1;
                    }
                }

                if (start >= 0)
                {
                    output.Add(text.Slice(start, text.Length));
                }

                break;
            }
        }
    }
}
