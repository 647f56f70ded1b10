namespace MLNetTransformers.Tokenizers.SentencePiece;

/// <summary>
/// Derives BPE merges from a SentencePiece BPE vocabulary exactly as transformers' <c>SentencePieceExtractor.extract(vocab_scores)</c>
/// does for <c>LlamaConverter</c> (transformers 4.x, the code that wrote Llama-2-style tokenizer.json files): every split of a
/// piece into two pieces that are both in the vocabulary is a merge; a piece's merges are ordered by the ids of (left, right);
/// then all merges are stably sorted by the merged piece's score, highest first (ties keep vocabulary order). Pieces are split
/// between code points, as Python slices strings.
/// </summary>
internal static class SentencePieceMerges
{
    /// <summary>Derives the merges.</summary>
    /// <param name="pieces">The pieces in id order (no duplicates).</param>
    /// <param name="scores">The score of each piece, as the converter's <c>vocab()</c> reports it.</param>
    /// <param name="vocabulary">Piece → id.</param>
    /// <returns>The merges, highest priority first.</returns>
    public static List<(string Left, string Right)> Derive(IReadOnlyList<string> pieces, IReadOnlyList<float> scores, IReadOnlyDictionary<string, int> vocabulary)
    {
        var merges = new List<(int Left, int Right, int Merged)>();
        var local = new List<(int Left, int Right)>();
        for (int id = 0; id < pieces.Count; id++)
        {
            string piece = pieces[id];
            local.Clear();
            for (int split = NextCodePoint(piece, 0); split < piece.Length; split = NextCodePoint(piece, split))
            {
                if (vocabulary.TryGetValue(piece[..split], out int left) && vocabulary.TryGetValue(piece[split..], out int right))
                {
                    local.Add((left, right));
                }
            }

            if (local.Count > 1)
            {
                local.Sort(static (a, b) => a.Left != b.Left ? a.Left.CompareTo(b.Left) : a.Right.CompareTo(b.Right));
            }

            foreach (var (left, right) in local)
            {
                merges.Add((left, right, id));
            }
        }

        // Python's sorted(..., reverse=True) is stable: equal scores keep their order. Sort by (score desc, position).
        var order = new int[merges.Count];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, (a, b) =>
        {
            int byScore = scores[merges[b].Merged].CompareTo(scores[merges[a].Merged]);
            return byScore != 0 ? byScore : a.CompareTo(b);
        });

        var result = new List<(string, string)>(order.Length);
        foreach (int i in order)
        {
            result.Add((pieces[merges[i].Left], pieces[merges[i].Right]));
        }

        return result;
    }

    private static int NextCodePoint(string text, int index) =>
        index + (char.IsHighSurrogate(text[index]) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]) ? 2 : 1);
}
