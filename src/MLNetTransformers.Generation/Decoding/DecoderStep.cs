using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Generation.Decoding;

/// <summary>
/// What every decode loop (single, batch, beam, chat) does around one model run: read each row's last-position logits into a
/// reused buffer, keep the <c>present.*</c> outputs as the next <c>past_key_values.*</c> (no copies), and drop the per-step inputs.
/// </summary>
internal static class DecoderStep
{
    private static readonly string[] StepInputNames =
    [
        DecoderSignature.InputIdsName,
        DecoderSignature.AttentionMaskName,
        DecoderSignature.PositionIdsName,
        DecoderSignature.TokenTypeIdsName,
        DecoderSignature.UseCacheBranchName,
    ];

    /// <summary>
    /// Copies the last position's logits of each of <paramref name="rows"/> rows into <paramref name="buffer"/> (resized if
    /// needed, row-major <c>[rows, vocabulary]</c>), converting float16; returns the vocabulary size.
    /// </summary>
    public static int ReadLastLogits(SessionOutputs outputs, int rows, ref float[] buffer)
    {
        OrtValue logits = outputs[DecoderSignature.LogitsName];
        IReadOnlyList<long> shape = logits.TensorInfo.Shape;
        int sequence = checked((int)shape[1]);
        int vocabulary = checked((int)shape[2]);
        if (buffer.Length != rows * vocabulary)
        {
            buffer = new float[rows * vocabulary];
        }

        for (int row = 0; row < rows; row++)
        {
            int offset = ((row * sequence) + sequence - 1) * vocabulary;
            Span<float> target = buffer.AsSpan(row * vocabulary, vocabulary);
            if (logits.ElementType == TensorElementType.Float16)
            {
                ReadOnlySpan<Half> last = logits.GetTensorReadOnlySpan<Half>().Slice(offset, vocabulary);
                for (int i = 0; i < last.Length; i++)
                {
                    target[i] = (float)last[i];
                }
            }
            else
            {
                logits.GetTensorReadOnlySpan<float>().Slice(offset, vocabulary).CopyTo(target);
            }
        }

        return vocabulary;
    }

    /// <summary>Takes each <c>present.*</c> output and feeds it as the matching past, disposing the previous past.</summary>
    public static void KeepPresents(SessionOutputs outputs, DecoderSignature signature, Dictionary<string, OrtValue> feeds)
    {
        foreach (PastKeyValueInput past in signature.PastInputs)
        {
            OrtValue present = outputs.Take(past.PresentName!);
            if (feeds.Remove(past.Name, out OrtValue? previous))
            {
                previous.Dispose();
            }

            feeds[past.Name] = present;
        }
    }

    /// <summary>Disposes the step's own input values and removes the step inputs from the feeds (the pasts stay).</summary>
    public static void ReleaseStepInputs(List<OrtValue> stepValues, Dictionary<string, OrtValue> feeds)
    {
        foreach (OrtValue value in stepValues)
        {
            value.Dispose();
        }

        foreach (string name in StepInputNames)
        {
            feeds.Remove(name);
        }
    }
}
