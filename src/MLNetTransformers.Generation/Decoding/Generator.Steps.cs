using System.Diagnostics;
using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Generation.Decoding;

/// <summary>The two kinds of model run every decode loop (single, batch, beam, chat) makes, in one place: the prefill with an
/// empty past (on the prefill graph of a pair) and a step with the cache.</summary>
public sealed partial class Generator
{
    private static readonly bool[] UseCacheBranchTrue = [true];

    /// <summary>A pair's prefill graph must take no past and give every present the decode graph needs.</summary>
    private void CheckPairPrefill()
    {
        string model = _prefillSession!.ModelPath ?? "decoder_model";
        if (PrefillSignature.PastInputs.Count > 0 || PrefillSignature.HasUseCacheBranch)
        {
            throw new InvalidDataException($"{model}: the prefill graph of a decoder pair must not take past inputs; it takes {string.Join(", ", PrefillSignature.PastInputs.Select(p => p.Name))}.");
        }

        var outputs = new HashSet<string>(_prefillSession.OutputNames, StringComparer.Ordinal);
        string[] missing = _outputNames.Where(n => !outputs.Contains(n)).ToArray();
        if (missing.Length > 0)
        {
            throw new InvalidDataException($"{model}: the prefill graph of a decoder pair lacks the outputs {string.Join(", ", missing)} that {_session.ModelPath} takes as its past.");
        }
    }

    /// <summary>Runs the prefill graph over <paramref name="ids"/> (<c>[rows, sequence]</c>) with an empty past.</summary>
    internal StepRun RunPrefill(ReadOnlySpan<long> ids, int rows, ReadOnlySpan<long> mask, GenerationClock clock, CancellationToken cancellationToken)
    {
        DecoderInputs inputs = DecoderInputs.CreateWithEmptyPast(PrefillSignature, ids, rows, mask);
        try
        {
            long start = Stopwatch.GetTimestamp();
            SessionOutputs outputs = PrefillSession.Run(inputs.Feeds, _outputNames, null, cancellationToken);
            clock.AddModelTime(start);
            return new StepRun(outputs, inputs, null, null);
        }
        catch
        {
            inputs.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs one step of the decode graph: <paramref name="ids"/> and <paramref name="positions"/> are <c>[rows, count]</c> (the
    /// tokens after the cache), <paramref name="mask"/> is <c>[rows, past + count]</c>; the pasts are already in
    /// <paramref name="feeds"/>. The step's own inputs leave the feeds when the returned run is disposed.
    /// </summary>
    internal StepRun RunWithPast(Dictionary<string, OrtValue> feeds, int rows, Memory<long> ids, Memory<long> mask, Memory<long> positions, Memory<long> tokenTypes, GenerationClock clock, CancellationToken cancellationToken)
    {
        long[] stepShape = [rows, ids.Length / rows];
        var stepValues = new List<OrtValue>(5);
        try
        {
            stepValues.Add(feeds[DecoderSignature.InputIdsName] = OrtValue.CreateTensor(ids, stepShape));
            if (Signature.HasAttentionMask)
            {
                stepValues.Add(feeds[DecoderSignature.AttentionMaskName] = OrtValue.CreateTensor(mask, [rows, mask.Length / rows]));
            }

            if (Signature.HasPositionIds)
            {
                stepValues.Add(feeds[DecoderSignature.PositionIdsName] = OrtValue.CreateTensor(positions, stepShape));
            }

            if (Signature.HasTokenTypeIds)
            {
                stepValues.Add(feeds[DecoderSignature.TokenTypeIdsName] = OrtValue.CreateTensor(tokenTypes[..ids.Length], stepShape));
            }

            if (Signature.HasUseCacheBranch)
            {
                stepValues.Add(feeds[DecoderSignature.UseCacheBranchName] = OrtValue.CreateTensor(UseCacheBranchTrue, [1]));
            }

            long start = Stopwatch.GetTimestamp();
            SessionOutputs outputs = _session.Run(feeds, _outputNames, null, cancellationToken);
            clock.AddModelTime(start);
            return new StepRun(outputs, null, stepValues, feeds);
        }
        catch
        {
            DecoderStep.ReleaseStepInputs(stepValues, feeds);
            throw;
        }
    }

    /// <summary>The outputs of one run and the inputs to release after they are consumed.</summary>
    internal readonly struct StepRun(SessionOutputs outputs, DecoderInputs? prefillInputs, List<OrtValue>? stepValues, Dictionary<string, OrtValue>? feeds) : IDisposable
    {
        public SessionOutputs Outputs { get; } = outputs;

        public void Dispose()
        {
            Outputs.Dispose();
            prefillInputs?.Dispose();
            if (stepValues is not null)
            {
                DecoderStep.ReleaseStepInputs(stepValues, feeds!);
            }
        }
    }

    /// <summary>Where one generation's time goes: each step's wall time (the first step is the prefill) and the part of it inside
    /// ONNX Runtime's run call. One per generation; not thread-safe.</summary>
    internal sealed class GenerationClock
    {
        private long _stepStart;
        private long _stepModel;
        private long _prefillWall;
        private long _prefillModel;
        private long _decodeWall;
        private long _decodeModel;
        private int _steps;
        private int _decodeRuns;
        private bool _ran;

        public void StartStep()
        {
            _stepStart = Stopwatch.GetTimestamp();
            _stepModel = 0;
            _ran = false;
        }

        public void AddModelTime(long start)
        {
            _stepModel += Stopwatch.GetTimestamp() - start;
            _ran = true;
        }

        public void EndStep()
        {
            long wall = Stopwatch.GetTimestamp() - _stepStart;
            if (_steps++ == 0)
            {
                _prefillWall = wall;
                _prefillModel = _stepModel;
            }
            else
            {
                _decodeWall += wall;
                _decodeModel += _stepModel;
                _decodeRuns += _ran ? 1 : 0;
            }
        }

        public GenerationTimings ToTimings() => new(
            Stopwatch.GetElapsedTime(0, _prefillWall),
            Stopwatch.GetElapsedTime(0, _prefillModel),
            Stopwatch.GetElapsedTime(0, _decodeWall),
            Stopwatch.GetElapsedTime(0, _decodeModel),
            _decodeRuns);
    }
}

/// <summary>
/// Where a generation's time went, measured inside the generator: the prefill step (up to the first token) and the decoding
/// steps after it, each as total time and the part spent inside ONNX Runtime's run call. The difference is our own work per step
/// (feeds, logits processing, token choice, text decoding). A batch's rows share their batch's timings.
/// </summary>
/// <param name="PrefillTime">The first step's time: the prompt's forward pass and the first token.</param>
/// <param name="PrefillModelTime">The part of <paramref name="PrefillTime"/> inside ONNX Runtime's run call.</param>
/// <param name="DecodeTime">The other steps' total time.</param>
/// <param name="DecodeModelTime">The part of <paramref name="DecodeTime"/> inside ONNX Runtime's run call.</param>
/// <param name="DecodeSteps">The number of model runs after the first (one per generated token after the first, for one sequence).</param>
public sealed record GenerationTimings(TimeSpan PrefillTime, TimeSpan PrefillModelTime, TimeSpan DecodeTime, TimeSpan DecodeModelTime, int DecodeSteps);
