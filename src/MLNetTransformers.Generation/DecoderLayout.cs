namespace MLNetTransformers.Generation;

/// <summary>How a causal decoder's ONNX graphs carry the key/value cache, read from the graphs' inputs and outputs.</summary>
public enum DecoderLayout
{
    /// <summary>One graph with <c>past_key_values.*</c> inputs that accepts an empty past (Optimum "with past"): the prefill runs
    /// it with zero-length pasts, each decoding step with the previous step's <c>present.*</c>.</summary>
    WithPast,

    /// <summary>One graph with <c>past_key_values.*</c> inputs and a <c>use_cache_branch</c> switch (Optimum's merged decoder):
    /// <c>false</c> with empty pasts at the prefill, <c>true</c> when decoding.</summary>
    Merged,

    /// <summary>Two graphs: <c>decoder_model.onnx</c> (no past inputs, <c>present.*</c> outputs) for the prefill and
    /// <c>decoder_with_past_model.onnx</c> for each decoding step.</summary>
    Pair,

    /// <summary>One graph without a cache: the whole sequence is recomputed every step.</summary>
    NoPast,
}
