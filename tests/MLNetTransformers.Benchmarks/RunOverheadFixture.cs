using MLNetTransformers.OnnxRuntime;

namespace MLNetTransformers.Benchmarks;

/// <summary>
/// Everything the run-overhead cases share, created once: the session over <see cref="TinyModel"/> (one intra-op thread),
/// the input and a preallocated output over managed arrays, the argument collections each <c>Run</c> overload takes, and an
/// IO binding with the input and output bound once. Each case method performs exactly one run.
/// </summary>
internal sealed class RunOverheadFixture : IDisposable
{
    private readonly float[] _input = (float[])TinyModel.Input.Clone();
    private readonly float[] _output = new float[4];

    public RunOverheadFixture()
    {
        Session = new InferenceSession(TinyModel.Build(), new SessionOptions { IntraOpThreads = 1 });
        Input = OrtValue.CreateTensor(_input, TinyModel.Shape);
        Output = OrtValue.CreateTensor(_output, TinyModel.Shape);
        InputDictionary = new Dictionary<string, OrtValue> { [TinyModel.InputName] = Input };
        InputNames = [TinyModel.InputName];
        InputValues = [Input];
        OutputNames = [TinyModel.OutputName];
        OutputValues = [Output];
        Binding = Session.CreateIoBinding();
        Binding.BindInput(TinyModel.InputName, Input);
        Binding.BindOutput(TinyModel.OutputName, Output);
    }

    public InferenceSession Session { get; }

    public OrtValue Input { get; }

    public OrtValue Output { get; }

    public Dictionary<string, OrtValue> InputDictionary { get; }

    public string[] InputNames { get; }

    public OrtValue[] InputValues { get; }

    public string[] OutputNames { get; }

    public OrtValue[] OutputValues { get; }

    public IoBinding Binding { get; }

    /// <summary><c>Run(IReadOnlyDictionary&lt;string, OrtValue&gt;)</c>: outputs allocated by ONNX Runtime, disposed at once.</summary>
    public void RunDictionary()
    {
        using SessionOutputs outputs = Session.Run(InputDictionary);
    }

    /// <summary><c>Run(names, values)</c>: outputs allocated by ONNX Runtime, disposed at once.</summary>
    public void RunLists()
    {
        using SessionOutputs outputs = Session.Run(InputNames, InputValues);
    }

    /// <summary><c>Run(names, values, outputNames)</c>: the same, naming the output explicitly.</summary>
    public void RunListsNamedOutput()
    {
        using SessionOutputs outputs = Session.Run(InputNames, InputValues, OutputNames);
    }

    /// <summary><c>Run(names, values, outputNames, outputValues)</c>: ONNX Runtime writes into the preallocated output.</summary>
    public void RunPreallocated() => Session.Run(InputNames, InputValues, OutputNames, OutputValues);

    /// <summary><c>RunWithBinding</c> with the input and output bound once.</summary>
    public void RunWithBinding() => Session.RunWithBinding(Binding);

    /// <summary>Runs every case once and checks the results, so that no case is timed while silently doing nothing.</summary>
    public void Verify()
    {
        using (SessionOutputs outputs = Session.Run(InputDictionary))
        {
            TinyModel.Verify(outputs[TinyModel.OutputName].GetTensorReadOnlySpan<float>(), "Run(dictionary)");
        }

        using (SessionOutputs outputs = Session.Run(InputNames, InputValues))
        {
            TinyModel.Verify(outputs[0].GetTensorReadOnlySpan<float>(), "Run(lists)");
        }

        Array.Clear(_output);
        RunPreallocated();
        TinyModel.Verify(_output, "Run(preallocated)");
        Array.Clear(_output);
        RunWithBinding();
        TinyModel.Verify(_output, "RunWithBinding");
    }

    public void Dispose()
    {
        Binding.Dispose();
        Session.Dispose();
        Input.Dispose();
        Output.Dispose();
    }
}
