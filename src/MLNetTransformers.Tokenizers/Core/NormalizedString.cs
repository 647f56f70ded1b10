using System.Text;

namespace MLNetTransformers.Tokenizers.Core;

/// <summary>
/// Text being transformed by the pipeline, with each UTF-16 unit's range in the original input, so that tokens report offsets
/// in the caller's string whatever the normalizers and pre-tokenizers did. Immutable: transformations build new instances.
/// </summary>
/// <remarks>
/// The common case (no transformation yet) stores no alignment array: unit <c>i</c> is original <c>[Base + i, Base + i + 1)</c>.
/// </remarks>
internal sealed class NormalizedString
{
    private readonly int[]? _starts;
    private readonly int[]? _ends;

    /// <summary>A piece of the original input starting at <paramref name="baseOffset"/>, not transformed.</summary>
    public NormalizedString(string text, int baseOffset)
    {
        Text = text;
        Base = baseOffset;
    }

    private NormalizedString(string text, int[] starts, int[] ends)
    {
        Text = text;
        _starts = starts;
        _ends = ends;
    }

    /// <summary>The current text.</summary>
    public string Text { get; }

    /// <summary>Where the text starts in the original input when no alignment array is held.</summary>
    public int Base { get; }

    /// <summary>Length in UTF-16 units.</summary>
    public int Length => Text.Length;

    /// <summary>Whether unit <c>i</c> is simply original unit <c>Base + i</c>.</summary>
    public bool IsIdentity => _starts is null;

    /// <summary>Original start of unit <paramref name="index"/>.</summary>
    public int OriginalStart(int index) => _starts is null ? Base + index : _starts[index];

    /// <summary>Original end of unit <paramref name="index"/>.</summary>
    public int OriginalEnd(int index) => _ends is null ? Base + index + 1 : _ends[index];

    /// <summary>The original range covered by units <c>[start, end)</c>; an empty range maps to an empty original range.</summary>
    public (int Start, int End) OriginalRange(int start, int end)
    {
        if (end <= start)
        {
            int at = start < Length ? OriginalStart(start) : Length > 0 ? OriginalEnd(Length - 1) : Base;
            return (at, at);
        }

        if (_starts is null)
        {
            return (Base + start, Base + end);
        }

        int min = int.MaxValue, max = int.MinValue;
        for (int i = start; i < end; i++)
        {
            min = Math.Min(min, _starts[i]);
            max = Math.Max(max, _ends![i]);
        }

        return (min, max);
    }

    /// <summary>The units <c>[start, end)</c> as a new string that keeps their alignment.</summary>
    public NormalizedString Slice(int start, int end)
    {
        if (start == 0 && end == Length)
        {
            return this;
        }

        string text = Text.Substring(start, end - start);
        return _starts is null
            ? new NormalizedString(text, Base + start)
            : new NormalizedString(text, _starts[start..end], _ends![start..end]);
    }

    /// <summary>Starts a transformation of this string.</summary>
    public Builder Transform() => new(this);

    /// <summary>
    /// Builds a transformed string: output text is appended together with the units of the current string it came from, so
    /// every output unit aligns to the union of its sources' original ranges.
    /// </summary>
    internal sealed class Builder
    {
        private readonly NormalizedString _source;
        private readonly StringBuilder _text;
        private readonly List<int> _starts;
        private readonly List<int> _ends;
        private bool _identity = true;

        public Builder(NormalizedString source)
        {
            _source = source;
            _text = new StringBuilder(source.Length + 8);
            _starts = new List<int>(source.Length + 8);
            _ends = new List<int>(source.Length + 8);
        }

        /// <summary>Copies source units <c>[start, end)</c> unchanged.</summary>
        public Builder Copy(int start, int end)
        {
            if (_identity && _text.Length != start)
            {
                _identity = false;
            }

            _text.Append(_source.Text, start, end - start);
            for (int i = start; i < end; i++)
            {
                _starts.Add(_source.OriginalStart(i));
                _ends.Add(_source.OriginalEnd(i));
            }

            return this;
        }

        /// <summary>Appends <paramref name="text"/> standing for source units <c>[sourceStart, sourceEnd)</c>.</summary>
        /// <remarks>An empty source range (an insertion) aligns to the empty original range at that point.</remarks>
        public Builder Replace(ReadOnlySpan<char> text, int sourceStart, int sourceEnd)
        {
            _identity = false;
            var (start, end) = _source.OriginalRange(sourceStart, sourceEnd);
            _text.Append(text);
            for (int i = 0; i < text.Length; i++)
            {
                _starts.Add(start);
                _ends.Add(end);
            }

            return this;
        }

        public NormalizedString Build()
        {
            string text = _text.ToString();
            if (_identity && text.Length == _source.Length)
            {
                return _source;
            }

            return new NormalizedString(text, _starts.ToArray(), _ends.ToArray());
        }
    }
}
