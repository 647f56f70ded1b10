namespace MLNetTransformers.Extensions.AI;

/// <summary>
/// Options of an <see cref="OnnxChatClient"/>: plain settable properties so that they bind from configuration
/// (<c>"Onnx:Chat": { "ModelPath": "models/tiny-llama", "Providers": ["cuda", "cpu"], ... }</c>). Unset values keep the model's
/// defaults.
/// </summary>
public sealed class OnnxChatClientOptions
{
    /// <summary>The model folder (Hugging Face layout) or one of its <c>.onnx</c> files. Required.</summary>
    public string? ModelPath { get; set; }

    /// <summary>The ONNX variant, named as transformers.js names them (<c>fp16</c>, <c>q8</c>, <c>q4</c>, ...); null: the default file.</summary>
    public string? Dtype { get; set; }

    /// <summary>The model id reported in responses and metadata; null: the folder's name.</summary>
    public string? ModelId { get; set; }

    /// <summary>A chat template (Jinja source) for models whose tokenizer has none; null: the tokenizer's.</summary>
    public string? ChatTemplate { get; set; }

    /// <summary>Execution providers in order of preference (<c>cpu</c>, <c>cuda[:device]</c>, <c>tensorrt[:device]</c>, ...);
    /// empty: the CPU.</summary>
    public IList<string> Providers { get; } = [];

    /// <summary>Fall back to the CPU (with a warning) when a provider cannot start, instead of failing.</summary>
    public bool ProviderFallbackToCpu { get; set; }

    /// <summary>ONNX Runtime intra-op threads; null: ONNX Runtime's default.</summary>
    public int? IntraOpThreads { get; set; }

    /// <summary>Most requests decoded together (continuous batching); default 16.</summary>
    public int MaxBatchSize { get; set; } = 16;

    /// <summary>Most requests waiting to join the batch before new ones are refused; default 256.</summary>
    public int MaxQueueLength { get; set; } = 256;

    /// <summary>New tokens when a request does not say (<c>ChatOptions.MaxOutputTokens</c>); null: generation_config.json's.</summary>
    public int? DefaultMaxOutputTokens { get; set; }
}
