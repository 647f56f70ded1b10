using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MLNetTransformers.Generation;
using MLNetTransformers.Generation.Decoding;
using MLNetTransformers.OnnxRuntime;
using TemplateMessage = MLNetTransformers.Tokenizers.ChatMessage;

[assembly: Parallelize(Workers = 1, Scope = ExecutionScope.ClassLevel)]

namespace MLNetTransformers.Extensions.AI.Tests;

[TestClass]
public sealed class OnnxChatClientTests
{
    // tiny-llama's tokenizer has no chat template; tests pass Zephyr's.
    internal const string Zephyr =
        "{% for message in messages %}<|{{ message.role }}|>\n{{ message.content }}{{ eos_token }}\n{% endfor %}" +
        "{% if add_generation_prompt %}<|assistant|>\n{% endif %}";

    private static OnnxChatClient s_client = null!;
    private static Generator s_generator = null!;

    internal static string ModelPath => Path.Combine(AppContext.BaseDirectory, "models", "tiny-llama");

    [ClassInitialize]
    public static void Load(TestContext context)
    {
        _ = context;
        s_client = new OnnxChatClient(new OnnxChatClientOptions { ModelPath = ModelPath, ChatTemplate = Zephyr, IntraOpThreads = 2, DefaultMaxOutputTokens = 24 });
        s_generator = (Generator)s_client.GetService(typeof(Generator))!;
    }

    [ClassCleanup]
    public static void Unload() => s_client.Dispose();

    private static ChatMessage[] Conversation(string question) =>
        [new(ChatRole.System, "You define words."), new(ChatRole.User, question)];

    private static GenerationResult Direct(string question, GenerationOptions options) =>
        s_generator.GenerateChat([new TemplateMessage("system", "You define words."), new TemplateMessage("user", question)], options, Zephyr);

    [TestMethod]
    public async Task ResponseEqualsTheGeneratorsChatWithUsageAndFinishReason()
    {
        ChatResponse response = await s_client.GetResponseAsync(Conversation("POLITICS, n."), new ChatOptions { MaxOutputTokens = 24 });
        GenerationResult expected = Direct("POLITICS, n.", new GenerationOptions { MaxNewTokens = 24 });
        Assert.AreEqual(expected.Text, response.Text);
        Assert.AreEqual(ChatRole.Assistant, response.Messages.Single().Role);
        Assert.AreEqual(expected.PromptIds.Count, (int)response.Usage!.InputTokenCount!.Value);
        Assert.AreEqual(expected.NewIds.Count, (int)response.Usage.OutputTokenCount!.Value);
        Assert.AreEqual(expected.PromptIds.Count + expected.NewIds.Count, (int)response.Usage.TotalTokenCount!.Value);
        Assert.AreEqual(expected.FinishReason == Generation.Text.FinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop, response.FinishReason);
        Assert.AreEqual("tiny-llama", response.ModelId);
        StringAssert.StartsWith(response.ResponseId, "chatcmpl-");
    }

    [TestMethod]
    public async Task StreamingConcatenatesToTheResponseAndEndsWithUsage()
    {
        var options = new ChatOptions { MaxOutputTokens = 10, Temperature = 0f };
        ChatResponse whole = await s_client.GetResponseAsync(Conversation("CAT, n."), options);
        var text = new System.Text.StringBuilder();
        var updates = new List<ChatResponseUpdate>();
        await foreach (ChatResponseUpdate update in s_client.GetStreamingResponseAsync(Conversation("CAT, n."), options))
        {
            updates.Add(update);
            text.Append(update.Text);
        }

        Assert.AreEqual(whole.Text, text.ToString());
        Assert.IsGreaterThan(1, updates.Count, "streamed token by token");
        Assert.IsTrue(updates.Take(updates.Count - 1).All(u => u.FinishReason is null));
        Assert.IsNotNull(updates[^1].FinishReason);
        Assert.AreEqual(whole.FinishReason, updates[^1].FinishReason);
        Assert.AreEqual(whole.Usage!.OutputTokenCount, updates[^1].Contents.OfType<UsageContent>().Single().Details.OutputTokenCount);
        Assert.AreEqual(1, updates.Select(u => u.ResponseId).Distinct().Count());
    }

    [TestMethod]
    public async Task ChatOptionsAreMapped()
    {
        ChatResponse limited = await s_client.GetResponseAsync(Conversation("WAR, n."), new ChatOptions { MaxOutputTokens = 3 });
        Assert.AreEqual(ChatFinishReason.Length, limited.FinishReason);
        Assert.AreEqual(3, limited.Usage!.OutputTokenCount);

        GenerationResult greedy = Direct("POLITICS, n.", new GenerationOptions { MaxNewTokens = 24 });
        string stop = greedy.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        ChatResponse stopped = await s_client.GetResponseAsync(Conversation("POLITICS, n."), new ChatOptions { MaxOutputTokens = 24, StopSequences = [stop] });
        Assert.AreEqual(ChatFinishReason.Stop, stopped.FinishReason);
        Assert.AreEqual(greedy.Text[..greedy.Text.IndexOf(stop, StringComparison.Ordinal)], stopped.Text);

        var sampling = new ChatOptions { MaxOutputTokens = 12, Temperature = 1.2f, Seed = 5 };
        ChatResponse first = await s_client.GetResponseAsync(Conversation("LAW, n."), sampling);
        ChatResponse again = await s_client.GetResponseAsync(Conversation("LAW, n."), sampling);
        Assert.AreEqual(first.Text, again.Text, "same seed, same sample");
        GenerationResult sampled = Direct("LAW, n.", new GenerationOptions { MaxNewTokens = 12, DoSample = true, Temperature = 1.2f, TopK = 0, Seed = 5 });
        Assert.AreEqual(sampled.Text, first.Text, "Temperature/Seed map to the generator's sampling");

        var beams = new ChatOptions { MaxOutputTokens = 6, AdditionalProperties = new() { ["num_beams"] = 3 } };
        ChatResponse beam = await s_client.GetResponseAsync(Conversation("DEBT, n."), beams);
        Assert.AreEqual(Direct("DEBT, n.", new GenerationOptions { MaxNewTokens = 6, NumBeams = 3 }).Text, beam.Text);

        ChatResponse penalized = await s_client.GetResponseAsync(Conversation("POLITICS, n."), new ChatOptions { MaxOutputTokens = 24, FrequencyPenalty = 2f, PresencePenalty = 2f });
        Assert.AreEqual(Direct("POLITICS, n.", new GenerationOptions { MaxNewTokens = 24, FrequencyPenalty = 2f, PresencePenalty = 2f }).Text, penalized.Text);

        await Assert.ThrowsExactlyAsync<ArgumentException>(() => s_client.GetResponseAsync(Conversation("x"), new ChatOptions { TopP = 2f }));
        await Assert.ThrowsExactlyAsync<ArgumentException>(() => s_client.GetResponseAsync(Conversation("x"), new ChatOptions { AdditionalProperties = new() { ["min_p"] = "lots" } }));
    }

    [TestMethod]
    public async Task ConcurrentRequestsAreBatchedNotSerialized()
    {
        string[] questions = ["POLITICS, n.", "CAT, n.", "PEACE, n.", "LAWYER, n.", "HISTORY, n.", "DEBT, n.", "FUTURE, n.", "WAR, n."];
        var scheduler = (ContinuousBatchScheduler)s_client.GetService(typeof(ContinuousBatchScheduler))!;
        var rows = new ConcurrentBag<int>();
        void Record(int count, TimeSpan _) => rows.Add(count);
        scheduler.StepCompleted += Record;
        try
        {
            ChatResponse[] responses = await Task.WhenAll(questions.Select(q => Task.Run(() => s_client.GetResponseAsync(Conversation(q), new ChatOptions { MaxOutputTokens = 16 }))));
            for (int i = 0; i < questions.Length; i++)
            {
                Assert.AreEqual(Direct(questions[i], new GenerationOptions { MaxNewTokens = 16 }).Text, responses[i].Text, questions[i]);
            }
        }
        finally
        {
            scheduler.StepCompleted -= Record;
        }

        Assert.IsGreaterThan(1, rows.Max(), "several requests shared a decoding step");
    }

    [TestMethod]
    public void GetServiceExposesMetadataAndTheModel()
    {
        var metadata = (ChatClientMetadata)s_client.GetService(typeof(ChatClientMetadata))!;
        Assert.AreEqual("mlnettransformers", metadata.ProviderName);
        Assert.AreEqual("tiny-llama", metadata.DefaultModelId);
        Assert.AreSame(s_client, s_client.GetService(typeof(IChatClient)));
        Assert.AreSame(s_generator, s_client.GetService(typeof(Generator)));
        Assert.IsNull(s_client.GetService(typeof(string)));
        Assert.IsNull(s_client.GetService(typeof(ChatClientMetadata), "key"));
    }

    [TestMethod]
    public async Task MetricsCountTokensAndTimeToFirstToken()
    {
        var tokens = new ConcurrentBag<long>();
        var ttft = new ConcurrentBag<double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == GenerationMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "mlnt.generation.tokens")
            {
                tokens.Add(value);
            }
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
        {
            if (instrument.Name == "mlnt.generation.time_to_first_token")
            {
                ttft.Add(value);
            }
        });
        listener.Start();
        _ = await s_client.GetResponseAsync(Conversation("CAT, n."), new ChatOptions { MaxOutputTokens = 7 });
        Assert.Contains(7L, tokens);
        Assert.IsTrue(ttft.Any(v => v > 0));
    }

    [TestMethod]
    public async Task DependencyInjectionRegistersMiddlewareKeyedClientsAndBoundOptions()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Onnx:Chat:ModelPath"] = ModelPath,
            ["Onnx:Chat:ChatTemplate"] = Zephyr,
            ["Onnx:Chat:DefaultMaxOutputTokens"] = "4",
            ["Onnx:Chat:ModelId"] = "configured",
        }).Build();
        var services = new ServiceCollection();
        int calls = 0;
        services.AddOnnxChatClient(configuration.GetSection("Onnx:Chat")).Use(inner => new CountingChatClient(inner, () => calls++));
        services.AddKeyedOnnxChatClient("small", ModelPath, o =>
        {
            o.ChatTemplate = Zephyr;
            o.DefaultMaxOutputTokens = 2;
        });
        using ServiceProvider provider = services.BuildServiceProvider();

        IChatClient client = provider.GetRequiredService<IChatClient>();
        Assert.IsInstanceOfType<CountingChatClient>(client);
        ChatResponse response = await client.GetResponseAsync(Conversation("CAT, n."));
        Assert.AreEqual(1, calls);
        Assert.AreEqual(4, response.Usage!.OutputTokenCount, "DefaultMaxOutputTokens bound from configuration");
        Assert.AreEqual("configured", response.ModelId);
        Assert.AreSame(provider.GetRequiredService<OnnxChatClient>(), client.GetService(typeof(OnnxChatClient)));

        IChatClient small = provider.GetRequiredKeyedService<IChatClient>("small");
        Assert.IsInstanceOfType<OnnxChatClient>(small);
        Assert.AreEqual(2, (await small.GetResponseAsync(Conversation("CAT, n."))).Usage!.OutputTokenCount);

        var missing = new ServiceCollection();
        missing.AddOnnxChatClient(new ConfigurationBuilder().Build());
        using ServiceProvider bad = missing.BuildServiceProvider();
        var error = Assert.ThrowsExactly<ArgumentException>(() => bad.GetRequiredService<IChatClient>());
        StringAssert.Contains(error.Message, "ModelPath");
    }

    private sealed class CountingChatClient(IChatClient inner, Action onCall) : DelegatingChatClient(inner)
    {
        public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            onCall();
            return base.GetResponseAsync(messages, options, cancellationToken);
        }
    }
}
