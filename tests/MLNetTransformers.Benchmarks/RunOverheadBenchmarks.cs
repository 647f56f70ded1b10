using System.Diagnostics.CodeAnalysis;
using BenchmarkDotNet.Attributes;

namespace MLNetTransformers.Benchmarks;

/// <summary>
/// Per-run overhead of the binding on a graph that does almost nothing (<see cref="TinyModel"/>: one Add of four floats, one
/// intra-op thread), per <c>Run</c> overload, against the same C API calls made through raw function pointers.
/// </summary>
[MemoryDiagnoser]
[SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet owns the lifetime: [GlobalCleanup] disposes the fields.")]
public class RunOverheadBenchmarks
{
    private RunOverheadFixture? _fixture;
    private RawOrtApi? _raw;

    private RunOverheadFixture Fixture => _fixture ?? throw new InvalidOperationException("GlobalSetup has not run.");

    private RawOrtApi Raw => _raw ?? throw new InvalidOperationException("GlobalSetup has not run.");

    /// <summary>Creates the session, values and binding, and checks every case's result once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _fixture = new RunOverheadFixture();
        _fixture.Verify();
        _raw = new RawOrtApi();
        _raw.Verify();
    }

    /// <summary>Releases what <see cref="Setup"/> created.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _raw?.Dispose();
        _fixture?.Dispose();
        _raw = null;
        _fixture = null;
    }

    /// <summary><c>session.Run(dictionary)</c>; outputs allocated by ONNX Runtime and disposed.</summary>
    [Benchmark]
    public void RunDictionary() => Fixture.RunDictionary();

    /// <summary><c>session.Run(names, values)</c>; outputs allocated by ONNX Runtime and disposed.</summary>
    [Benchmark]
    public void RunLists() => Fixture.RunLists();

    /// <summary><c>session.Run(names, values, outputNames)</c>; outputs allocated by ONNX Runtime and disposed.</summary>
    [Benchmark]
    public void RunListsNamedOutput() => Fixture.RunListsNamedOutput();

    /// <summary><c>session.Run(names, values, outputNames, outputValues)</c> into a preallocated output.</summary>
    [Benchmark]
    public void RunPreallocated() => Fixture.RunPreallocated();

    /// <summary><c>session.RunWithBinding(binding)</c>, input and output bound once.</summary>
    [Benchmark]
    public void RunWithBinding() => Fixture.RunWithBinding();

    /// <summary>The C API's <c>Run</c> + <c>ReleaseValue</c> through raw function pointers (no binding).</summary>
    [Benchmark(Baseline = true)]
    public void RawRunAllocating() => Raw.RunAllocating();

    /// <summary>The C API's <c>Run</c> into a preallocated output through raw function pointers (no binding).</summary>
    [Benchmark]
    public void RawRunPreallocated() => Raw.RunPreallocated();
}
