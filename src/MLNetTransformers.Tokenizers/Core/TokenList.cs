namespace MLNetTransformers.Tokenizers.Core;

/// <summary>The growing token sequence of one encoding: ids, original offsets, type ids and the special-token mask.</summary>
internal sealed class TokenList
{
    public TokenList(int capacity = 16)
    {
        Ids = new List<int>(capacity);
        Offsets = new List<(int, int)>(capacity);
        TypeIds = new List<int>(capacity);
        Special = new List<bool>(capacity);
    }

    public List<int> Ids { get; }

    public List<(int Start, int End)> Offsets { get; }

    public List<int> TypeIds { get; }

    public List<bool> Special { get; }

    public int Count => Ids.Count;

    public void Add(int id, int start, int end, int typeId, bool special)
    {
        Ids.Add(id);
        Offsets.Add((start, end));
        TypeIds.Add(typeId);
        Special.Add(special);
    }

    public void AddRange(TokenList other, int typeId)
    {
        for (int i = 0; i < other.Count; i++)
        {
            Add(other.Ids[i], other.Offsets[i].Start, other.Offsets[i].End, typeId, other.Special[i]);
        }
    }

    /// <summary>Keeps <paramref name="count"/> tokens from the start (or, with <paramref name="fromLeft"/>, from the end).</summary>
    public void Truncate(int count, bool fromLeft)
    {
        if (count >= Count)
        {
            return;
        }

        int remove = Count - count;
        int at = fromLeft ? 0 : count;
        Ids.RemoveRange(at, remove);
        Offsets.RemoveRange(at, remove);
        TypeIds.RemoveRange(at, remove);
        Special.RemoveRange(at, remove);
    }
}
