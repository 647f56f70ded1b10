namespace MLNetTransformers.Onnx.Builders;

/// <summary>
/// Sizes and seed shared by the model builders. Records, so a preset can be varied:
/// <c>Gpt2BuilderOptions.DistilGpt2 with { Layers = 2 }</c>.
/// </summary>
public abstract record TransformerBuilderOptions
{
    /// <summary>Number of transformer layers. Default 2.</summary>
    public int Layers { get; init; } = 2;

    /// <summary>Hidden (model) size; must be a multiple of <see cref="Heads"/>. Default 64.</summary>
    public int Hidden { get; init; } = 64;

    /// <summary>Number of attention heads. Default 4.</summary>
    public int Heads { get; init; } = 4;

    /// <summary>Feed-forward size; null for the architecture's default (4 × <see cref="Hidden"/>).</summary>
    public int? Intermediate { get; init; }

    /// <summary>Vocabulary size (embedding rows, logits width, tokenizer size). Default 1000.</summary>
    public int Vocab { get; init; } = 1000;

    /// <summary>Maximum positions (learned position table size, <c>max_position_embeddings</c>). Default 128.</summary>
    public int MaxPositions { get; init; } = 128;

    /// <summary>Seed of the pseudo-random weights: the same seed gives bit-identical weights on every platform. Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>
    /// Standard deviation of the weights (<c>initializer_range</c>): matrices, embeddings and biases are N(0, σ²),
    /// normalization gains 1 + N(0, σ²). Default 0.02.
    /// </summary>
    public float InitializerRange { get; init; } = 0.02f;

    /// <summary>The head size, <see cref="Hidden"/> / <see cref="Heads"/>.</summary>
    public int HeadDim => Heads > 0 ? Hidden / Heads : 0;

    /// <summary>Checks the sizes.</summary>
    /// <param name="minimumVocab">The smallest vocabulary the architecture's tokenizer can hold.</param>
    /// <exception cref="ArgumentException">A size is out of range.</exception>
    protected virtual void Validate(int minimumVocab)
    {
        Require(Layers >= 1, $"Layers must be at least 1 (got {Layers}).");
        Require(Heads >= 1, $"Heads must be at least 1 (got {Heads}).");
        Require(Hidden >= 1 && Hidden % Heads == 0, $"Hidden ({Hidden}) must be a positive multiple of Heads ({Heads}).");
        Require(Intermediate is null or >= 1, $"Intermediate must be positive (got {Intermediate}).");
        Require(Vocab >= minimumVocab, $"Vocab must be at least {minimumVocab} (got {Vocab}).");
        Require(MaxPositions >= 1, $"MaxPositions must be at least 1 (got {MaxPositions}).");
        Require(float.IsFinite(InitializerRange) && InitializerRange > 0, $"InitializerRange must be a positive number (got {InitializerRange}).");
    }

    /// <summary>Throws an <see cref="ArgumentException"/> with <paramref name="message"/> unless <paramref name="condition"/> holds.</summary>
    /// <param name="condition">The condition.</param>
    /// <param name="message">What is wrong.</param>
    protected static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message);
        }
    }

    internal void CheckValid(int minimumVocab) => Validate(minimumVocab);
}
