namespace MLNetTransformers.Tokenizers;

public sealed partial class Tokenizer
{
    /// <summary>Loads a SentencePiece <c>tokenizer.model</c> (BPE or Unigram) directly, for folders without tokenizer.json.</summary>
    /// <param name="path">The .model file.</param>
    /// <returns>The tokenizer.</returns>
    public static Tokenizer FromSentencePiece(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"SentencePiece model not found: {full}", full);
        }

        string? directory = Path.GetDirectoryName(full);
        TokenizerConfig config = directory is null ? TokenizerConfig.Empty : ReadConfig(directory);
        return SentencePiece.SentencePieceModelReader.Read(File.ReadAllBytes(full), full, config);
    }
}
