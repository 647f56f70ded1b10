using Microsoft.Extensions.AI;

namespace MLNetTransformers.Server;

/// <summary>Options of the OpenAI-compatible server (<see cref="OpenAiServer.Create"/>).</summary>
public sealed class OpenAiServerOptions
{
    /// <summary>The default address: loopback only.</summary>
    public const string DefaultUrls = "http://127.0.0.1:8080";

    /// <summary>The addresses to listen on, separated by <c>;</c> (ASP.NET Core's <c>--urls</c> syntax); port 0 picks a free port
    /// (read the bound one from <see cref="OpenAiServer.GetListeningUrls"/>). Default <see cref="DefaultUrls"/>.</summary>
    public string Urls { get; set; } = DefaultUrls;

    /// <summary>When set, every <c>/v1/*</c> request must carry <c>Authorization: Bearer KEY</c> (else 401). <c>/health</c> is open.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Largest request body in bytes (else 413); default 1 MiB.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1 << 20;

    /// <summary>Most prompt tokens a request may have (else 400, code <c>context_length_exceeded</c>); null: the model's context
    /// minus one.</summary>
    public int? MaxPromptTokens { get; set; }

    /// <summary>Largest <c>max_tokens</c> / <c>max_completion_tokens</c> a request may ask for (else 400); null: no cap beyond the
    /// model's context.</summary>
    public int? MaxTokensLimit { get; set; }

    /// <summary>How long a shutdown waits for running requests before their connections are aborted (which cancels their
    /// generation); default 10 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The embedding model behind <c>/v1/embeddings</c>; null: the endpoint answers 501 with an OpenAI error
    /// ("this server has no embedding model"). The server does not dispose it.</summary>
    public IEmbeddingGenerator<string, Embedding<float>>? EmbeddingGenerator { get; set; }
}
