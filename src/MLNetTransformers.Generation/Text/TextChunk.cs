namespace MLNetTransformers.Generation.Text;

/// <summary>
/// What a streaming step releases: the <see cref="Text"/> that may be shown now and, when a stop string completed in this step,
/// which one. When <see cref="IsStop"/> is true, <see cref="Text"/> ends just before the stop string, and nothing further is
/// released for the sequence.
/// </summary>
public readonly record struct TextChunk
{
    private readonly string? _text;
    private readonly int _stopIndexPlusOne;

    /// <summary>A chunk of text with no stop.</summary>
    /// <param name="text">The text to emit.</param>
    public TextChunk(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        _text = text;
    }

    /// <summary>A chunk that ends the text at a stop string.</summary>
    /// <param name="text">The text to emit before the stop string.</param>
    /// <param name="stopString">The stop string that was matched.</param>
    /// <param name="stopStringIndex">Its index in the list the matcher was created with.</param>
    public TextChunk(string text, string stopString, int stopStringIndex)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(stopString);
        ArgumentOutOfRangeException.ThrowIfNegative(stopStringIndex);
        _text = text;
        StopString = stopString;
        _stopIndexPlusOne = stopStringIndex + 1;
    }

    /// <summary>The text to emit now (possibly empty; never null).</summary>
    public string Text => _text ?? string.Empty;

    /// <summary>Whether a stop string completed in this step.</summary>
    public bool IsStop => StopString is not null;

    /// <summary>The stop string that completed, or null.</summary>
    public string? StopString { get; }

    /// <summary>The index of <see cref="StopString"/> in the matcher's list (its first occurrence), or -1 when there is no stop.</summary>
    public int StopStringIndex => _stopIndexPlusOne - 1;
}
