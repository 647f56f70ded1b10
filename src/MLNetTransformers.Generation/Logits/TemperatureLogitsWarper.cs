namespace MLNetTransformers.Generation.Logits;

/// <summary>Hugging Face's <c>TemperatureLogitsWarper</c>: divides every logit by the temperature (sampling only).</summary>
public sealed class TemperatureLogitsWarper : LogitsProcessor
{
    /// <summary>Creates the warper.</summary>
    /// <param name="temperature">The temperature, &gt; 0 (a temperature of 0 is greedy decoding and needs no warper).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="temperature"/> ≤ 0 or not finite.</exception>
    public TemperatureLogitsWarper(float temperature)
    {
        Temperature = LogitsValidation.PositiveTemperature(temperature, nameof(temperature));
    }

    /// <summary>The temperature.</summary>
    public float Temperature { get; }

    /// <inheritdoc/>
    public override void Process(Span<float> logits, ReadOnlySpan<int> tokenIds, int promptLength)
    {
        float temperature = Temperature;
        for (int i = 0; i < logits.Length; i++)
        {
            logits[i] /= temperature;
        }
    }
}
