using System.Collections;

namespace MLNetTransformers.OnnxRuntime;

/// <summary>
/// The values a run produced, in the order asked for, addressable by name. Disposing it disposes every value it still owns;
/// <see cref="Take(string)"/> hands one value's ownership to the caller (for example a KV-cache tensor kept for the next step).
/// </summary>
public sealed class SessionOutputs : IReadOnlyList<OrtValue>, IDisposable
{
    private readonly string[] _names;
    private readonly OrtValue?[] _values;

    internal SessionOutputs(string[] names, OrtValue?[] values)
    {
        _names = names;
        _values = values;
    }

    /// <summary>The output names, in order.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <inheritdoc/>
    public int Count => _values.Length;

    /// <inheritdoc/>
    public OrtValue this[int index] => _values[index] ?? throw new InvalidOperationException($"Output '{_names[index]}' was taken.");

    /// <summary>The output with the given name.</summary>
    /// <param name="name">The output name.</param>
    /// <returns>The value (still owned by this collection).</returns>
    public OrtValue this[string name] => this[IndexOf(name)];

    /// <summary>Removes an output from this collection; the caller owns (and disposes) it from now on.</summary>
    /// <param name="name">The output name.</param>
    /// <returns>The value.</returns>
    public OrtValue Take(string name)
    {
        int index = IndexOf(name);
        OrtValue value = this[index];
        _values[index] = null;
        return value;
    }

    /// <inheritdoc/>
    public IEnumerator<OrtValue> GetEnumerator()
    {
        for (int i = 0; i < _values.Length; i++)
        {
            yield return this[i];
        }
    }

    /// <inheritdoc/>
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Disposes every value still owned.</summary>
    public void Dispose()
    {
        for (int i = 0; i < _values.Length; i++)
        {
            _values[i]?.Dispose();
            _values[i] = null;
        }
    }

    private int IndexOf(string name)
    {
        int index = Array.IndexOf(_names, name);
        return index >= 0 ? index : throw new KeyNotFoundException($"No output named '{name}'. The outputs are: {string.Join(", ", _names)}.");
    }
}
