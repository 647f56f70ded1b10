using System.Text;
using MLNetTransformers.Tokenizers;

namespace MLNetTransformers.Generation.Text;

/// <summary>
/// Turns one sequence's generated token ids into streamed text: an <see cref="IncrementalDecoder"/> (never half a character)
/// followed by a <see cref="StopStringMatcher"/> (stop strings matched across token boundaries, held back until disproved, and
/// trimmed). The concatenation of all returned <see cref="TextChunk.Text"/> values is the decoded text up to the first stop string
/// (see <see cref="StopStringMatcher"/> for which occurrence wins), or all of it when none occurs.
/// </summary>
/// <remarks>Not thread-safe: one streamer per generated sequence.</remarks>
public sealed class GenerationTextStreamer
{
    private readonly IncrementalDecoder _decoder;
    private readonly StopStringMatcher _matcher;
    private readonly StringBuilder _text = new();

    /// <summary>Creates a streamer over a decoder and stop strings.</summary>
    /// <param name="decoder">A fresh decoder for this sequence (e.g. from <see cref="Tokenizer.CreateIncrementalDecoder"/> with the
    /// prompt ids as prefix).</param>
    /// <param name="stopStrings">The stop strings (null or empty: none).</param>
    /// <exception cref="ArgumentException">A stop string is empty or malformed (see <see cref="StopStringMatcher"/>).</exception>
    public GenerationTextStreamer(IncrementalDecoder decoder, IEnumerable<string>? stopStrings = null)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        _decoder = decoder;
        _matcher = new StopStringMatcher(stopStrings ?? []);
    }

    /// <summary>Creates a streamer that decodes with <paramref name="tokenizer"/>.</summary>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="stopStrings">The stop strings (null or empty: none).</param>
    /// <param name="promptIds">The prompt's ids, which give the context for the first new token's leading space (not emitted).</param>
    /// <param name="skipSpecialTokens">Leave special tokens (e.g. EOS) out of the text.</param>
    /// <returns>The streamer.</returns>
    public static GenerationTextStreamer Create(Tokenizer tokenizer, IEnumerable<string>? stopStrings = null, IEnumerable<int>? promptIds = null,
        bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return new GenerationTextStreamer(tokenizer.CreateIncrementalDecoder(skipSpecialTokens, promptIds), stopStrings);
    }

    /// <summary>The stop strings.</summary>
    public IReadOnlyList<string> StopStrings => _matcher.StopStrings;

    /// <summary>Whether a stop string has been matched; the sequence should end with <see cref="FinishReason.Stop"/>.</summary>
    public bool IsStopped => _matcher.IsStopped;

    /// <summary>Whether <see cref="Complete"/> has been called.</summary>
    public bool IsCompleted { get; private set; }

    /// <summary>The stop string that ended the text, or null.</summary>
    public string? StopString { get; private set; }

    /// <summary>The number of token ids appended.</summary>
    public int TokenCount { get; private set; }

    /// <summary>All text emitted so far (the concatenation of the returned chunks).</summary>
    public string Text => _text.ToString();

    /// <summary>Adds the next generated token.</summary>
    /// <param name="tokenId">The token id.</param>
    /// <returns>The text to emit now (possibly empty) and, when a stop string completed, which one; the engine should then end
    /// the sequence with <see cref="FinishReason.Stop"/>.</returns>
    /// <exception cref="InvalidOperationException">The stream already stopped or was completed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The id is not in the tokenizer's vocabulary.</exception>
    public TextChunk Append(int tokenId)
    {
        ThrowIfFinished();
        string delta = _decoder.Add(tokenId);
        TokenCount++;
        return Record(_matcher.Push(delta));
    }

    /// <summary>Ends the sequence (EOS or length): flushes the decoder and releases text held back as a possible stop-string start.
    /// A stop string that completes in the decoder's last text is still honoured. After a stop, returns an empty chunk.</summary>
    /// <returns>The remaining text, with the stop when one completed in it.</returns>
    public TextChunk Complete()
    {
        if (IsCompleted || IsStopped)
        {
            IsCompleted = true;
            return new TextChunk(string.Empty);
        }

        IsCompleted = true;
        TextChunk last = _matcher.Push(_decoder.Flush());
        if (last.IsStop)
        {
            return Record(last);
        }

        string held = _matcher.Flush();
        return Record(new TextChunk(last.Text.Length == 0 ? held : last.Text + held));
    }

    private TextChunk Record(TextChunk chunk)
    {
        _text.Append(chunk.Text);
        if (chunk.IsStop)
        {
            StopString = chunk.StopString;
        }

        return chunk;
    }

    private void ThrowIfFinished()
    {
        if (IsStopped)
        {
            throw new InvalidOperationException($"The stream stopped at the stop string \"{StopString}\"; no more tokens can be appended.");
        }

        if (IsCompleted)
        {
            throw new InvalidOperationException("The stream was completed; no more tokens can be appended.");
        }
    }
}
