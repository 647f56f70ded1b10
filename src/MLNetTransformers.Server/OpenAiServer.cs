using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MLNetTransformers.Extensions.AI;

namespace MLNetTransformers.Server;

/// <summary>
/// Builds the OpenAI-compatible HTTP server: ASP.NET Core minimal APIs over one <see cref="OnnxChatClient"/>, so that every
/// request (chat and raw completions alike) joins the same continuous batcher.
/// </summary>
/// <remarks>
/// <para>Endpoints: <c>GET /v1/models</c>, <c>GET /v1/models/{id}</c>, <c>POST /v1/completions</c>, <c>POST /v1/chat/completions</c>
/// (server-sent events <c>data: {chunk}</c> ending in <c>data: [DONE]</c> when <c>stream</c> is true), <c>POST /v1/embeddings</c>
/// (501 unless <see cref="OpenAiServerOptions.EmbeddingGenerator"/> is set), <c>GET /health</c>.</para>
/// <para>Errors use OpenAI's envelope <c>{"error":{"message","type","param","code"}}</c>: 400 bad request (the field in
/// <c>param</c>), 401 bad or missing key, 404 unknown model or path, 413 body too large, 429 queue full, 501 no embedding model,
/// 503 while shutting down.</para>
/// <para>The returned application does not own the chat client: stop the application, then dispose the client. The host does not
/// listen to Ctrl-C or SIGTERM itself; the caller decides when to stop (<see cref="RunAsync"/> stops on its token).</para>
/// </remarks>
public static class OpenAiServer
{
    /// <summary>Creates the server (not started).</summary>
    /// <param name="chatClient">The model to serve; its <see cref="OnnxChatClient.ModelId"/> is the served model id.</param>
    /// <param name="options">The server options; null for the defaults.</param>
    /// <param name="loggerFactory">Where ASP.NET Core and the server log; null for none.</param>
    /// <returns>The application; start it with <see cref="WebApplication.StartAsync"/> or <see cref="RunAsync"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A limit is not positive.</exception>
    public static WebApplication Create(OnnxChatClient chatClient, OpenAiServerOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(chatClient);
        options ??= new OpenAiServerOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxRequestBodyBytes, 1, nameof(options));
        if (options.MaxPromptTokens is { } prompt)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(prompt, 1, nameof(options));
        }

        if (options.MaxTokensLimit is { } tokens)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1, nameof(options));
        }

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(OpenAiServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        builder.WebHost.UseUrls(options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
        });
        builder.Logging.ClearProviders();
        if (loggerFactory is not null)
        {
            builder.Services.AddSingleton(loggerFactory);
        }

        builder.Services.AddSingleton<IHostLifetime, CallerLifetime>();
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);
        WebApplication app = builder.Build();

        var endpoints = new OpenAiEndpoints(chatClient, options, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("MLNetTransformers.Server"));
        app.Lifetime.ApplicationStopping.Register(endpoints.BeginShutdown);
        app.Use(endpoints.GuardAsync);
        app.MapGet("/health", (RequestDelegate)endpoints.HealthAsync);
        app.MapGet("/v1/models", (RequestDelegate)endpoints.ModelsAsync);
        app.MapGet("/v1/models/{id}", (RequestDelegate)endpoints.ModelAsync);
        app.MapPost("/v1/chat/completions", (RequestDelegate)endpoints.ChatAsync);
        app.MapPost("/v1/completions", (RequestDelegate)endpoints.CompletionsAsync);
        app.MapPost("/v1/embeddings", (RequestDelegate)endpoints.EmbeddingsAsync);
        app.MapFallback((RequestDelegate)OpenAiEndpoints.NotFoundAsync);
        return app;
    }

    /// <summary>The addresses the started server listens on (with the real port where port 0 was asked for).</summary>
    /// <param name="app">A started server.</param>
    /// <returns>The addresses, e.g. <c>http://127.0.0.1:8080</c>.</returns>
    public static IReadOnlyList<string> GetListeningUrls(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return [.. app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? []];
    }

    /// <summary>Starts the server, calls <paramref name="started"/> with its addresses, and runs until
    /// <paramref name="cancellationToken"/> is cancelled; then stops gracefully (new requests get 503, running ones get
    /// <see cref="OpenAiServerOptions.ShutdownTimeout"/> to finish).</summary>
    /// <param name="app">The server from <see cref="Create"/>.</param>
    /// <param name="started">Called once listening; null for nothing.</param>
    /// <param name="cancellationToken">Stops the server.</param>
    /// <returns>A task that completes once the server has stopped.</returns>
    public static async Task RunAsync(WebApplication app, Action<IReadOnlyList<string>>? started, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(app);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        started?.Invoke(GetListeningUrls(app));
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (cancellationToken.Register(() => stopped.TrySetResult()))
        using (app.Lifetime.ApplicationStopping.Register(() => stopped.TrySetResult()))
        {
            await stopped.Task.ConfigureAwait(false);
        }

        await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>A host lifetime that leaves stopping to the caller (no Ctrl-C or SIGTERM handler of its own).</summary>
    private sealed class CallerLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
