using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MLNetTransformers.Extensions.AI;

/// <summary>
/// Registers local ONNX models as <see cref="IChatClient"/>s and <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>s, the way Semantic Kernel and other <c>Microsoft.Extensions.AI</c>
/// consumers find them (<c>kernelBuilder.Services</c> is an <see cref="IServiceCollection"/>).
/// </summary>
/// <example>
/// <code>
/// services.AddOnnxChatClient("models/tiny-llama", o => o.DefaultMaxOutputTokens = 64)
///         .Use(inner => new MyLoggingChatClient(inner));          // DelegatingChatClient middleware, outermost first
/// services.AddOnnxChatClient(configuration.GetSection("Onnx:Chat")); // options bound from configuration
/// services.AddKeyedOnnxChatClient("small", "models/tiny-llama");     // resolve with [FromKeyedServices("small")]
/// </code>
/// </example>
public static class OnnxServiceCollectionExtensions
{
    /// <summary>Registers a singleton <see cref="IChatClient"/> (and <see cref="OnnxChatClient"/>) over a model folder.</summary>
    /// <param name="services">The services.</param>
    /// <param name="modelPath">The model folder.</param>
    /// <param name="configure">Sets further options; null for none.</param>
    /// <returns>A builder that wraps the client in middleware.</returns>
    public static OnnxChatClientBuilder AddOnnxChatClient(this IServiceCollection services, string modelPath, Action<OnnxChatClientOptions>? configure = null) =>
        AddKeyedOnnxChatClient(services, null, modelPath, configure);

    /// <summary>Registers a singleton <see cref="IChatClient"/> whose options are bound from a configuration section
    /// (property names as in <see cref="OnnxChatClientOptions"/>; <c>ModelPath</c> required).</summary>
    /// <param name="services">The services.</param>
    /// <param name="section">The configuration section.</param>
    /// <returns>A builder that wraps the client in middleware.</returns>
    public static OnnxChatClientBuilder AddOnnxChatClient(this IServiceCollection services, IConfiguration section) =>
        AddKeyedOnnxChatClient(services, null, section);

    /// <summary>Registers a keyed singleton <see cref="IChatClient"/> over a model folder.</summary>
    /// <param name="services">The services.</param>
    /// <param name="serviceKey">The key; null registers the default client.</param>
    /// <param name="modelPath">The model folder.</param>
    /// <param name="configure">Sets further options; null for none.</param>
    /// <returns>A builder that wraps the client in middleware.</returns>
    public static OnnxChatClientBuilder AddKeyedOnnxChatClient(this IServiceCollection services, object? serviceKey, string modelPath, Action<OnnxChatClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        services.AddOptions<OnnxChatClientOptions>(OptionsName(serviceKey)).Configure(o =>
        {
            o.ModelPath = modelPath;
            configure?.Invoke(o);
        });
        return Register(services, serviceKey);
    }

    /// <summary>Registers a keyed singleton <see cref="IChatClient"/> whose options are bound from a configuration section.</summary>
    /// <param name="services">The services.</param>
    /// <param name="serviceKey">The key; null registers the default client.</param>
    /// <param name="section">The configuration section.</param>
    /// <returns>A builder that wraps the client in middleware.</returns>
    public static OnnxChatClientBuilder AddKeyedOnnxChatClient(this IServiceCollection services, object? serviceKey, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        services.AddOptions<OnnxChatClientOptions>(OptionsName(serviceKey)).Bind(section);
        return Register(services, serviceKey);
    }

    /// <summary>Registers a singleton <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> (and <see cref="OnnxEmbeddingGenerator"/>)
    /// over an encoder model folder.</summary>
    /// <param name="services">The services.</param>
    /// <param name="modelPath">The model folder.</param>
    /// <param name="configure">Sets further options; null for none.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddOnnxEmbeddingGenerator(this IServiceCollection services, string modelPath, Action<OnnxEmbeddingGeneratorOptions>? configure = null) =>
        AddKeyedOnnxEmbeddingGenerator(services, null, modelPath, configure);

    /// <summary>Registers an embedding generator whose options are bound from a configuration section (<c>ModelPath</c> required).</summary>
    /// <param name="services">The services.</param>
    /// <param name="section">The configuration section.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddOnnxEmbeddingGenerator(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        services.AddOptions<OnnxEmbeddingGeneratorOptions>(Options.DefaultName).Bind(section);
        return RegisterEmbeddings(services, null);
    }

    /// <summary>Registers a keyed embedding generator over an encoder model folder.</summary>
    /// <param name="services">The services.</param>
    /// <param name="serviceKey">The key; null registers the default generator.</param>
    /// <param name="modelPath">The model folder.</param>
    /// <param name="configure">Sets further options; null for none.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddKeyedOnnxEmbeddingGenerator(this IServiceCollection services, object? serviceKey, string modelPath, Action<OnnxEmbeddingGeneratorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        services.AddOptions<OnnxEmbeddingGeneratorOptions>(OptionsName(serviceKey)).Configure(o =>
        {
            o.ModelPath = modelPath;
            configure?.Invoke(o);
        });
        return RegisterEmbeddings(services, serviceKey);
    }

    private static IServiceCollection RegisterEmbeddings(IServiceCollection services, object? serviceKey)
    {
        string name = OptionsName(serviceKey);
        Func<IServiceProvider, OnnxEmbeddingGenerator> create = provider =>
            new OnnxEmbeddingGenerator(provider.GetRequiredService<IOptionsMonitor<OnnxEmbeddingGeneratorOptions>>().Get(name));
        if (serviceKey is null)
        {
            services.AddSingleton(create);
            services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(provider => provider.GetRequiredService<OnnxEmbeddingGenerator>());
        }
        else
        {
            services.AddKeyedSingleton(serviceKey, (provider, _) => create(provider));
            services.AddKeyedSingleton<IEmbeddingGenerator<string, Embedding<float>>>(serviceKey, (provider, key) => provider.GetRequiredKeyedService<OnnxEmbeddingGenerator>(key));
        }

        return services;
    }

    private static string OptionsName(object? serviceKey) => serviceKey?.ToString() ?? Options.DefaultName;

    private static OnnxChatClientBuilder Register(IServiceCollection services, object? serviceKey)
    {
        var builder = new OnnxChatClientBuilder();
        string name = OptionsName(serviceKey);
        Func<IServiceProvider, OnnxChatClient> inner = provider => new OnnxChatClient(
            provider.GetRequiredService<IOptionsMonitor<OnnxChatClientOptions>>().Get(name),
            provider.GetService<ILoggerFactory>()?.CreateLogger<OnnxChatClient>());
        if (serviceKey is null)
        {
            services.AddSingleton(inner);
            services.AddSingleton(provider => builder.Build(provider.GetRequiredService<OnnxChatClient>(), provider));
        }
        else
        {
            services.AddKeyedSingleton(serviceKey, (provider, _) => inner(provider));
            services.AddKeyedSingleton(serviceKey, (provider, key) => builder.Build(provider.GetRequiredKeyedService<OnnxChatClient>(key), provider));
        }

        return builder;
    }
}

/// <summary>
/// Wraps a registered <see cref="OnnxChatClient"/> in middleware (<see cref="DelegatingChatClient"/>s), in the shape of
/// <c>Microsoft.Extensions.AI</c>'s <c>ChatClientBuilder</c>: the first <see cref="Use(Func{IChatClient, IChatClient})"/> is the
/// outermost. (That package is not used here; code written against its builder's <c>Use</c> calls reads the same.)
/// </summary>
public sealed class OnnxChatClientBuilder
{
    private readonly List<Func<IChatClient, IServiceProvider, IChatClient>> _middleware = [];

    /// <summary>Adds middleware.</summary>
    /// <param name="factory">Wraps the inner client.</param>
    /// <returns>This builder.</returns>
    public OnnxChatClientBuilder Use(Func<IChatClient, IChatClient> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _middleware.Add((inner, _) => factory(inner));
        return this;
    }

    /// <summary>Adds middleware that needs services.</summary>
    /// <param name="factory">Wraps the inner client.</param>
    /// <returns>This builder.</returns>
    public OnnxChatClientBuilder Use(Func<IChatClient, IServiceProvider, IChatClient> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _middleware.Add(factory);
        return this;
    }

    internal IChatClient Build(IChatClient client, IServiceProvider services)
    {
        for (int i = _middleware.Count - 1; i >= 0; i--)
        {
            client = _middleware[i](client, services) ?? throw new InvalidOperationException($"Chat client middleware {i} returned null.");
        }

        return client;
    }
}
