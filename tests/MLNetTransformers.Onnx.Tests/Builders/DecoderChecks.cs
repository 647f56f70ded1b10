using System.Globalization;
using MLNetTransformers.OnnxRuntime;
using static MLNetTransformers.Onnx.Tests.Builders.ReferenceMath;

namespace MLNetTransformers.Onnx.Tests.Builders;

/// <summary>The decoder's sizes as the tests need them.</summary>
internal sealed record DecoderShape(int Layers, int KvHeads, int HeadDim, int Vocab);

/// <summary>
/// Runs a built decoder through ONNX Runtime with the Optimum signature (HF position ids from the mask, empty or fed-back past)
/// and compares it with a reference forward pass over whole, unpadded sequences.
/// </summary>
internal static class DecoderChecks
{
    public const float LogitsTolerance = 1e-4f;
    public const float CacheTolerance = 2e-5f;

    /// <summary>
    /// Prompt of 6 with an empty past, then a 1-token and a 2-token step on the returned present values: every step's logits and
    /// presents equal the reference over the full 9-token sequence.
    /// </summary>
    public static void PromptThenCachedSteps(InferenceSession session, DecoderShape shape, Func<long[], DecoderReferenceResult> reference)
    {
        long[] all = [5, 17, 42, 8, 99, 3, 64, 21, 7];
        DecoderReferenceResult expected = reference(all);
        int[][] steps = [[0, 6], [6, 7], [7, 9]];
        Dictionary<string, OrtValue>? past = null;
        try
        {
            foreach (int[] step in steps)
            {
                int start = step[0], end = step[1];
                long[] ids = all[start..end];
                using SessionOutputs outputs = Run(session, shape, [ids], [Enumerable.Repeat(1L, end).ToArray()], past);
                DisposeAll(past);
                past = null;
                ReadOnlySpan<float> logits = outputs["logits"].GetTensorReadOnlySpan<float>();
                CollectionAssert.AreEqual(new long[] { 1, ids.Length, shape.Vocab }, outputs["logits"].TensorInfo.Shape.ToArray());
                for (int t = start; t < end; t++)
                {
                    AssertClose(expected.Logits[t], logits.Slice((t - start) * shape.Vocab, shape.Vocab), LogitsTolerance, $"logits at position {t} (step {start}..{end})");
                }

                CheckPresents(outputs, shape, expected, row: 0, batch: 1, total: end, padding: 0, $"step {start}..{end}");
                past = TakePresents(outputs, shape);
            }
        }
        finally
        {
            DisposeAll(past);
        }
    }

    /// <summary>
    /// A left-padded batch (real lengths 5, 2, 7) then a 1-token step: every real position equals the reference over that row alone.
    /// </summary>
    public static void LeftPaddedBatch(InferenceSession session, DecoderShape shape, Func<long[], DecoderReferenceResult> reference, long padId)
    {
        long[][] rows = [[12, 40, 7, 33, 2], [77, 5], [9, 9, 61, 14, 28, 3, 50]];
        long[] next = [31, 8, 45];
        int width = rows.Max(r => r.Length);
        long[][] ids = rows.Select(r => Enumerable.Repeat(padId, width - r.Length).Concat(r).ToArray()).ToArray();
        long[][] mask = rows.Select(r => Enumerable.Repeat(0L, width - r.Length).Concat(Enumerable.Repeat(1L, r.Length)).ToArray()).ToArray();
        DecoderReferenceResult[] expected = rows.Select((r, b) => reference([.. r, next[b]])).ToArray();

        Dictionary<string, OrtValue> past;
        using (SessionOutputs outputs = Run(session, shape, ids, mask, null))
        {
            ReadOnlySpan<float> logits = outputs["logits"].GetTensorReadOnlySpan<float>();
            for (int b = 0; b < rows.Length; b++)
            {
                int padding = width - rows[b].Length;
                for (int j = 0; j < rows[b].Length; j++)
                {
                    AssertClose(expected[b].Logits[j], logits.Slice(((b * width) + padding + j) * shape.Vocab, shape.Vocab), LogitsTolerance, $"row {b} position {j}");
                }

                CheckPresents(outputs, shape, expected[b], b, rows.Length, width, padding, $"padded prompt, row {b}");
            }

            past = TakePresents(outputs, shape);
        }

        try
        {
            long[][] stepMask = mask.Select(m => m.Append(1L).ToArray()).ToArray();
            using SessionOutputs outputs = Run(session, shape, next.Select(id => new[] { id }).ToArray(), stepMask, past);
            ReadOnlySpan<float> logits = outputs["logits"].GetTensorReadOnlySpan<float>();
            for (int b = 0; b < rows.Length; b++)
            {
                AssertClose(expected[b].Logits[rows[b].Length], logits.Slice(b * shape.Vocab, shape.Vocab), LogitsTolerance, $"row {b} cached step");
                CheckPresents(outputs, shape, expected[b], b, rows.Length, width + 1, width - rows[b].Length, $"padded step, row {b}");
            }
        }
        finally
        {
            DisposeAll(past);
        }
    }

    /// <summary>Runs one step; position ids as HF computes them: cumsum(mask) − 1, 1 where masked, the last S columns.</summary>
    public static SessionOutputs Run(InferenceSession session, DecoderShape shape, long[][] ids, long[][] mask, IReadOnlyDictionary<string, OrtValue>? past)
    {
        int batch = ids.Length, length = ids[0].Length, total = mask[0].Length;
        long[] positions = new long[batch * length];
        for (int b = 0; b < batch; b++)
        {
            long sum = 0;
            for (int t = 0; t < total; t++)
            {
                sum += mask[b][t];
                if (t >= total - length)
                {
                    positions[(b * length) + t - (total - length)] = mask[b][t] == 0 ? 1 : sum - 1;
                }
            }
        }

        var created = new List<OrtValue>
        {
            OrtValue.CreateTensor(ids.SelectMany(r => r).ToArray(), [batch, length]),
            OrtValue.CreateTensor(mask.SelectMany(r => r).ToArray(), [batch, total]),
            OrtValue.CreateTensor(positions, [batch, length]),
        };
        try
        {
            var feeds = new Dictionary<string, OrtValue>(StringComparer.Ordinal)
            {
                ["input_ids"] = created[0],
                ["attention_mask"] = created[1],
                ["position_ids"] = created[2],
            };
            for (int i = 0; i < shape.Layers; i++)
            {
                foreach (string kind in new[] { "key", "value" })
                {
                    string name = string.Create(CultureInfo.InvariantCulture, $"past_key_values.{i}.{kind}");
                    if (past is null)
                    {
                        created.Add(OrtValue.CreateTensor(Array.Empty<float>(), [batch, shape.KvHeads, 0, shape.HeadDim]));
                        feeds[name] = created[^1];
                    }
                    else
                    {
                        feeds[name] = past[name];
                    }
                }
            }

            return session.Run(feeds);
        }
        finally
        {
            DisposeAll(created);
        }
    }

    public static Dictionary<string, OrtValue> TakePresents(SessionOutputs outputs, DecoderShape shape)
    {
        var past = new Dictionary<string, OrtValue>(StringComparer.Ordinal);
        for (int i = 0; i < shape.Layers; i++)
        {
            foreach (string kind in new[] { "key", "value" })
            {
                past[string.Create(CultureInfo.InvariantCulture, $"past_key_values.{i}.{kind}")] = outputs.Take(string.Create(CultureInfo.InvariantCulture, $"present.{i}.{kind}"));
            }
        }

        return past;
    }

    /// <summary>present.{i}.key|value of batch row <paramref name="row"/> at its real positions equal the reference's keys/values.</summary>
    private static void CheckPresents(SessionOutputs outputs, DecoderShape shape, DecoderReferenceResult expected, int row, int batch, int total, int padding, string what)
    {
        for (int i = 0; i < shape.Layers; i++)
        {
            foreach ((string kind, float[][][][] reference) in new[] { ("key", expected.Keys), ("value", expected.Values) })
            {
                OrtValue present = outputs[string.Create(CultureInfo.InvariantCulture, $"present.{i}.{kind}")];
                CollectionAssert.AreEqual(new long[] { batch, shape.KvHeads, total, shape.HeadDim }, present.TensorInfo.Shape.ToArray(), $"{what}: present shape");
                ReadOnlySpan<float> data = present.GetTensorReadOnlySpan<float>();
                for (int t = padding; t < total; t++)
                {
                    for (int kv = 0; kv < shape.KvHeads; kv++)
                    {
                        int offset = (((((row * shape.KvHeads) + kv) * total) + t) * shape.HeadDim);
                        AssertClose(reference[i][t - padding][kv], data.Slice(offset, shape.HeadDim), CacheTolerance, $"{what}: present.{i}.{kind} head {kv} position {t - padding}");
                    }
                }
            }
        }
    }

    private static void DisposeAll(IEnumerable<OrtValue>? values)
    {
        foreach (OrtValue value in values ?? [])
        {
            value.Dispose();
        }
    }

    private static void DisposeAll(Dictionary<string, OrtValue>? values) => DisposeAll(values?.Values);
}
