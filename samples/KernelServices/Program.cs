// Registers a local ONNX chat model the way a Semantic Kernel app does. Semantic Kernel's own packages are not needed here:
// `Kernel.CreateBuilder().Services` is an IServiceCollection, and Semantic Kernel resolves IChatClient / IEmbeddingGenerator
// from it. With Semantic Kernel referenced, the two marked lines are all an app adds:
//
//     builder.Services.AddOnnxChatClient("models/tiny-llama");                                       // (1) the model as a chat service
//     kernel.Plugins.AddFromFunctions("local_model", LocalModelFunctions.Create(chat).Select(f => f.AsKernelFunction()));  // (2) its skills as a plugin
//
// Run: dotnet run --project samples/KernelServices [MODEL_DIR]
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using MLNetTransformers.Extensions.AI;

string model = args.Length > 0 ? args[0] : Path.Combine(FindRepositoryRoot(), "models", "tiny-llama");

// tiny-llama's tokenizer has no chat template, so the sample gives one (models that ship one need no option).
const string Zephyr =
    "{% for message in messages %}<|{{ message.role }}|>\n{{ message.content }}{{ eos_token }}\n{% endfor %}" +
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}";

var services = new ServiceCollection();                    // = Kernel.CreateBuilder().Services in a Semantic Kernel app
services.AddOnnxChatClient(model, o =>                     // (1)
{
    o.ChatTemplate = Zephyr;
    o.DefaultMaxOutputTokens = 48;
}).Use(inner => new TimingChatClient(inner));              // middleware, as with Microsoft.Extensions.AI's ChatClientBuilder

using ServiceProvider provider = services.BuildServiceProvider();
IChatClient chat = provider.GetRequiredService<IChatClient>();
ChatClientMetadata metadata = chat.GetService<ChatClientMetadata>()!;
Console.WriteLine($"chat service: {metadata.ProviderName} / {metadata.DefaultModelId}");

ChatResponse response = await chat.GetResponseAsync("POLITICS, n.");
Console.WriteLine($"answer: {response.Text}");
Console.WriteLine($"usage: {response.Usage?.InputTokenCount} in, {response.Usage?.OutputTokenCount} out, finish {response.FinishReason}");

// (2) The model's skills as AIFunction tools, which Semantic Kernel imports as a plugin.
foreach (AIFunction function in LocalModelFunctions.Create(chat))
{
    Console.WriteLine($"tool: {function.Name} - {function.Description}");
    Console.WriteLine($"  -> {await function.InvokeAsync(new AIFunctionArguments { ["prompt"] = "CAT, n.", ["maxTokens"] = 16 })}");
}

static string FindRepositoryRoot()
{
    for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
    {
        if (File.Exists(Path.Combine(directory.FullName, "MLNetTransformers.sln")))
        {
            return directory.FullName;
        }
    }

    return Directory.GetCurrentDirectory();
}

/// <summary>Middleware: reports how long each request took.</summary>
internal sealed class TimingChatClient(IChatClient inner) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        ChatResponse response = await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"[{clock.ElapsedMilliseconds} ms]");
        return response;
    }
}
