namespace MLNetTransformers.Tokenizers.Models;

/// <summary>A token produced by a model: its id and the range of units it covers in the piece it came from.</summary>
internal readonly record struct ModelToken(int Id, int Start, int End);

/// <summary>Turns one pre-tokenized piece into tokens (Hugging Face's <c>model</c>: BPE, WordPiece, Unigram, WordLevel).</summary>
internal abstract class TokenizerModel
{
    /// <summary>Appends the tokens of <paramref name="text"/> to <paramref name="output"/>.</summary>
    public abstract void Tokenize(string text, List<ModelToken> output);

    /// <summary>The id of a vocabulary entry.</summary>
    public abstract bool TryGetId(string token, out int id);

    /// <summary>The vocabulary entry of an id, or <see langword="null"/>.</summary>
    public abstract string? GetToken(int id);

    /// <summary>One more than the largest id of the model's vocabulary.</summary>
    public abstract int VocabularySize { get; }

    /// <summary>Builds the id → token table of a vocabulary.</summary>
    protected static string?[] InvertVocabulary(IReadOnlyDictionary<string, int> vocabulary)
    {
        int size = vocabulary.Count == 0 ? 0 : vocabulary.Values.Max() + 1;
        var tokens = new string?[size];
        foreach (var (token, id) in vocabulary)
        {
            tokens[id] = token;
        }

        return tokens;
    }
}

/// <summary>Looks whole pieces up in the vocabulary; unknown pieces become the unknown token.</summary>
internal sealed class WordLevelModel : TokenizerModel
{
    private readonly Dictionary<string, int> _vocabulary;
    private readonly string?[] _tokens;
    private readonly int _unkId;

    public WordLevelModel(Dictionary<string, int> vocabulary, string? unkToken)
    {
        _vocabulary = vocabulary;
        _tokens = InvertVocabulary(vocabulary);
        _unkId = unkToken is not null && vocabulary.TryGetValue(unkToken, out int id) ? id : -1;
    }

    public override int VocabularySize => _tokens.Length;

    public override void Tokenize(string text, List<ModelToken> output)
    {
        if (_vocabulary.TryGetValue(text, out int id))
        {
            output.Add(new ModelToken(id, 0, text.Length));
        }
        else if (_unkId >= 0)
        {
            output.Add(new ModelToken(_unkId, 0, text.Length));
        }
        else
        {
            throw new InvalidOperationException($"WordLevel: '{text}' is not in the vocabulary and the model has no unk_token.");
        }
    }

    public override bool TryGetId(string token, out int id) => _vocabulary.TryGetValue(token, out id);

    public override string? GetToken(int id) => (uint)id < (uint)_tokens.Length ? _tokens[id] : null;
}

/// <summary>
/// BERT's WordPiece: greedy longest-match-first with a continuation prefix (<c>##</c>); a word longer than
/// <c>max_input_chars_per_word</c> or with no match becomes the unknown token.
/// </summary>
internal sealed class WordPieceModel : TokenizerModel
{
    private readonly Dictionary<string, int> _vocabulary;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly string?[] _tokens;
    private readonly int _unkId;
    private readonly string _prefix;
    private readonly int _maxInputCharsPerWord;

    public WordPieceModel(Dictionary<string, int> vocabulary, string unkToken, string continuingSubwordPrefix, int maxInputCharsPerWord)
    {
        _vocabulary = vocabulary;
        _lookup = vocabulary.GetAlternateLookup<ReadOnlySpan<char>>();
        _tokens = InvertVocabulary(vocabulary);
        _unkId = vocabulary.TryGetValue(unkToken, out int id) ? id : throw new InvalidDataException($"WordPiece: unk_token '{unkToken}' is not in the vocabulary.");
        _prefix = continuingSubwordPrefix;
        _maxInputCharsPerWord = maxInputCharsPerWord;
        UnkToken = unkToken;
    }

    public string UnkToken { get; }

    public string Prefix => _prefix;

    public override int VocabularySize => _tokens.Length;

    public override void Tokenize(string text, List<ModelToken> output)
    {
        int codePoints = 0;
        foreach (System.Text.Rune _ in text.EnumerateRunes())
        {
            codePoints++;
        }

        if (codePoints > _maxInputCharsPerWord)
        {
            output.Add(new ModelToken(_unkId, 0, text.Length));
            return;
        }

        int mark = output.Count;
        Span<char> buffer = stackalloc char[256];
        int start = 0;
        while (start < text.Length)
        {
            int end = text.Length;
            int found = -1;
            while (start < end)
            {
                ReadOnlySpan<char> piece = text.AsSpan(start, end - start);
                int id;
                if (start > 0)
                {
                    int length = _prefix.Length + piece.Length;
                    Span<char> candidate = length <= buffer.Length ? buffer[..length] : new char[length];
                    _prefix.AsSpan().CopyTo(candidate);
                    piece.CopyTo(candidate[_prefix.Length..]);
                    if (_lookup.TryGetValue(candidate, out id))
                    {
                        found = id;
                        break;
                    }
                }
                else if (_lookup.TryGetValue(piece, out id))
                {
                    found = id;
                    break;
                }

                end -= end >= 2 && char.IsLowSurrogate(text[end - 1]) && char.IsHighSurrogate(text[end - 2]) ? 2 : 1;
            }

            if (found < 0)
            {
                output.RemoveRange(mark, output.Count - mark);
                output.Add(new ModelToken(_unkId, 0, text.Length));
                return;
            }

            output.Add(new ModelToken(found, start, end));
            start = end;
        }
    }

    public override bool TryGetId(string token, out int id) => _vocabulary.TryGetValue(token, out id);

    public override string? GetToken(int id) => (uint)id < (uint)_tokens.Length ? _tokens[id] : null;
}
