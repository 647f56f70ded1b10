namespace MLNetTransformers.Generation.Text;

/// <summary>
/// Finds stop strings in text that arrives in pieces (the deltas of a streaming decoder) and decides what may be shown now.
/// </summary>
/// <remarks>
/// <para>
/// Semantics. The text is the concatenation of all deltas given to <see cref="Push"/>; stop strings are compared ordinally
/// (UTF-16 code units, no normalization), however the text is split into deltas. The matcher stops at the occurrence of a stop
/// string that <em>ends first</em> in the text; when several end at the same character (one is a suffix of the other), the longest
/// one, which starts first, wins. Everything from the start of that occurrence on is trimmed. This mirrors Hugging Face
/// transformers' <c>StopStringCriteria</c>, which runs after every generated token and fires as soon as a stop string ends
/// inside the newest token (so the first completed stop string ends generation, wherever another might have started), and adds
/// the trimming that serving stacks (OpenAI's API, vLLM, TGI) apply to the returned text; transformers itself keeps the stop
/// string in its output ids.
/// </para>
/// <para>
/// Holding back. After each delta, the longest suffix of the text that is still a prefix of some stop string is held back (at most
/// the longest stop string's length minus one characters); everything before it can never be part of a stop string and is released.
/// Held text is released as soon as a later character disproves it, or by <see cref="Flush"/> when the text ends (EOS or length).
/// Released text is always a prefix of the final text: nothing is ever taken back.
/// </para>
/// <para>
/// Algorithm. An Aho–Corasick automaton over all stop strings: its state after each character is exactly the longest suffix of the
/// text that is a prefix of some stop string (the held text), and each state knows the longest stop string that is a suffix of it
/// (found through the failure links at construction). Matching is therefore amortized O(1) per character — O(n) in the text
/// length, independent of the number of stop strings, across any split into deltas — rather than the O(n·k·m) of re-checking
/// every stop string's suffix after every character.
/// </para>
/// <para>Not thread-safe: one matcher per generated sequence. <see cref="Reset"/> makes it reusable.</para>
/// </remarks>
public sealed class StopStringMatcher
{
    private readonly string[] _stopStrings;
    private readonly List<Dictionary<char, int>> _children = [];
    private readonly List<int> _fail = [];
    private readonly List<int> _depth = [];
    private readonly List<int> _terminal = [];    // stop-string index whose text is this node, or -1
    private readonly List<int> _longestOutput = []; // longest stop string that is a suffix of this node's text (index), or -1
    private readonly char[] _held;
    private int _heldLength;
    private int _state;

    /// <summary>Creates a matcher for the given stop strings (an empty list matches nothing and holds nothing back).</summary>
    /// <param name="stopStrings">The stop strings; duplicates are allowed (the first index is reported).</param>
    /// <exception cref="ArgumentException">A stop string is null, empty, or not well-formed UTF-16 (a lone surrogate).</exception>
    public StopStringMatcher(IEnumerable<string> stopStrings)
    {
        ArgumentNullException.ThrowIfNull(stopStrings);
        _stopStrings = [.. stopStrings];
        for (int i = 0; i < _stopStrings.Length; i++)
        {
            string? stop = _stopStrings[i];
            if (string.IsNullOrEmpty(stop))
            {
                throw new ArgumentException($"Stop string {i} is empty; stop strings must have at least one character.", nameof(stopStrings));
            }

            if (!IsWellFormed(stop))
            {
                throw new ArgumentException($"Stop string {i} contains a lone surrogate; stop strings must be well-formed text.", nameof(stopStrings));
            }

            MaxStopLength = Math.Max(MaxStopLength, stop.Length);
        }

        BuildAutomaton();
        _held = new char[Math.Max(0, MaxStopLength - 1)];
    }

    /// <summary>The stop strings, in the order given.</summary>
    public IReadOnlyList<string> StopStrings => _stopStrings;

    /// <summary>The length of the longest stop string (0 when there are none).</summary>
    public int MaxStopLength { get; }

    /// <summary>Whether a stop string has been matched (after which <see cref="Push"/> throws until <see cref="Reset"/>).</summary>
    public bool IsStopped { get; private set; }

    /// <summary>The number of characters currently held back as a possible start of a stop string.</summary>
    public int HeldLength => _heldLength;

    /// <summary>Consumes the next piece of text and returns what may be emitted now.</summary>
    /// <param name="delta">The new text (may be empty).</param>
    /// <returns>The releasable text and, when a stop string completed inside <paramref name="delta"/>, which one; then the text
    /// ends just before the stop string and the rest of <paramref name="delta"/> is dropped.</returns>
    /// <exception cref="InvalidOperationException">A stop string was already matched.</exception>
    public TextChunk Push(string delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        if (IsStopped)
        {
            throw new InvalidOperationException("A stop string was already matched; no more text can be added (call Reset to reuse the matcher).");
        }

        if (_stopStrings.Length == 0 || delta.Length == 0)
        {
            return new TextChunk(delta);
        }

        int state = _state;
        for (int i = 0; i < delta.Length; i++)
        {
            state = Step(state, delta[i]);
            int stop = _longestOutput[state];
            if (stop >= 0)
            {
                // The combined text is held + delta[..(i+1)]; the stop string is its suffix, so the part before it is released.
                int combinedLength = _heldLength + i + 1;
                int releaseLength = combinedLength - _stopStrings[stop].Length;
                string text = Combine(delta, releaseLength);
                IsStopped = true;
                _state = 0;
                _heldLength = 0;
                return new TextChunk(text, _stopStrings[stop], stop);
            }
        }

        // The automaton's depth is the longest suffix that can still start a stop string: hold exactly that.
        int hold = _depth[state];
        int total = _heldLength + delta.Length;
        int release = total - hold;
        string released = Combine(delta, release);
        if (hold <= delta.Length)
        {
            delta.AsSpan(delta.Length - hold).CopyTo(_held);
        }
        else
        {
            // Still inside the previously held text: keep its tail, then all of delta.
            int keepFromHeld = hold - delta.Length;
            _held.AsSpan(_heldLength - keepFromHeld, keepFromHeld).CopyTo(_held);
            delta.AsSpan().CopyTo(_held.AsSpan(keepFromHeld));
        }

        _heldLength = hold;
        _state = state;
        return new TextChunk(released);
    }

    /// <summary>Ends the text (generation stopped by EOS or length): releases whatever is held back, since no stop string can
    /// complete any more, and starts a new text.</summary>
    /// <returns>The held text (empty after a stop).</returns>
    public string Flush()
    {
        string text = new(_held, 0, _heldLength);
        _heldLength = 0;
        _state = 0;
        return text;
    }

    /// <summary>Forgets all state, including a matched stop, so the matcher can be used for a new sequence.</summary>
    public void Reset()
    {
        _heldLength = 0;
        _state = 0;
        IsStopped = false;
    }

    /// <summary>The first <paramref name="length"/> characters of held text followed by <paramref name="delta"/>.</summary>
    private string Combine(string delta, int length)
    {
        if (length <= 0)
        {
            return string.Empty;
        }

        if (_heldLength == 0)
        {
            return length == delta.Length ? delta : delta[..length];
        }

        if (length <= _heldLength)
        {
            return new string(_held, 0, length);
        }

        return string.Concat(_held.AsSpan(0, _heldLength), delta.AsSpan(0, length - _heldLength));
    }

    private int Step(int state, char c)
    {
        while (true)
        {
            if (_children[state].TryGetValue(c, out int next))
            {
                return next;
            }

            if (state == 0)
            {
                return 0;
            }

            state = _fail[state];
        }
    }

    private int AddNode(int depth)
    {
        _children.Add([]);
        _fail.Add(0);
        _depth.Add(depth);
        _terminal.Add(-1);
        _longestOutput.Add(-1);
        return _children.Count - 1;
    }

    private void BuildAutomaton()
    {
        AddNode(0);
        for (int i = 0; i < _stopStrings.Length; i++)
        {
            int node = 0;
            foreach (char c in _stopStrings[i])
            {
                if (!_children[node].TryGetValue(c, out int next))
                {
                    next = AddNode(_depth[node] + 1);
                    _children[node][c] = next;
                }

                node = next;
            }

            if (_terminal[node] < 0)
            {
                _terminal[node] = i;
            }
        }

        // Breadth-first: failure links point to strictly shallower nodes, which are finished first.
        var queue = new Queue<int>();
        queue.Enqueue(0);
        while (queue.Count > 0)
        {
            int node = queue.Dequeue();
            int fail = _fail[node];
            // A node's own stop string is longer than any proper suffix's, so it wins ties at the same end position.
            _longestOutput[node] = _terminal[node] >= 0 ? _terminal[node] : (node == 0 ? -1 : _longestOutput[fail]);
            foreach ((char c, int child) in _children[node])
            {
                _fail[child] = node == 0 ? 0 : Step(fail, c);
                queue.Enqueue(child);
            }
        }
    }

    private static bool IsWellFormed(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]))
            {
                if (i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1]))
                {
                    return false;
                }

                i++;
            }
            else if (char.IsLowSurrogate(s[i]))
            {
                return false;
            }
        }

        return true;
    }
}
