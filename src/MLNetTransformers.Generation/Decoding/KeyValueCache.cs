using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Generation.Decoding;

/// <summary>
/// Builds new key/value cache tensors from rows of existing ones inside ONNX Runtime memory (no managed arrays): each target row
/// takes a run of columns (sequence positions) of one source row, placed at the right end of the target row, with zeros on its
/// left (padding that the attention mask hides; zeros, not uninitialized memory, so that a masked position never carries a NaN).
/// Used by beam search (reorder by beam), continuous batching (join and leave), and chat prefix reuse.
/// </summary>
internal static class KeyValueCache
{
    /// <summary>One target row: <paramref name="Source"/>'s row <paramref name="Row"/>, columns [<paramref name="Start"/>,
    /// <paramref name="Start"/> + <paramref name="Length"/>).</summary>
    internal readonly record struct RowSlice(OrtValue Source, int Row, int Start, int Length);

    /// <summary>A new <c>[slices, heads, columns, head_dim]</c> tensor of the slices, each right-aligned.</summary>
    public static OrtValue Gather(ReadOnlySpan<RowSlice> slices, int columns)
    {
        IReadOnlyList<long> shape = slices[0].Source.TensorInfo.Shape;
        TensorElementType type = slices[0].Source.ElementType;
        int heads = checked((int)shape[1]);
        int headDim = checked((int)shape[3]);
        OrtValue target = OrtValue.CreateAllocatedTensor(type, [slices.Length, heads, columns, headDim]);
        try
        {
            switch (type)
            {
                case TensorElementType.Float32:
                    Copy<float>(slices, target, heads, columns, headDim);
                    break;
                case TensorElementType.Float16:
                    Copy<Half>(slices, target, heads, columns, headDim);
                    break;
                default:
                    throw new NotSupportedException($"A key/value cache of {type.GetName()} cannot be rearranged.");
            }
        }
        catch
        {
            target.Dispose();
            throw;
        }

        return target;
    }

    private static void Copy<T>(ReadOnlySpan<RowSlice> slices, OrtValue target, int heads, int columns, int headDim)
        where T : unmanaged
    {
        Span<T> destination = target.GetTensorSpan<T>();
        for (int r = 0; r < slices.Length; r++)
        {
            RowSlice slice = slices[r];
            ReadOnlySpan<T> source = slice.Source.GetTensorReadOnlySpan<T>();
            int sourceColumns = checked((int)slice.Source.TensorInfo.Shape[2]);
            int padding = columns - slice.Length;
            for (int h = 0; h < heads; h++)
            {
                Span<T> row = destination.Slice(((r * heads) + h) * columns * headDim, columns * headDim);
                row[..(padding * headDim)].Clear();
                source.Slice((((slice.Row * heads) + h) * sourceColumns + slice.Start) * headDim, slice.Length * headDim).CopyTo(row[(padding * headDim)..]);
            }
        }
    }
}
