using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using MLNetTransformers.Cli.Commands;
using MLNetTransformers.Extensions.AI;
using MLNetTransformers.Generation;
using MLNetTransformers.Generation.Decoding;
using MLNetTransformers.Server;
using OpenAI;
using OpenAI.Chat;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;
using OaiChatClient = OpenAI.Chat.ChatClient;

namespace MLNetTransformers.Cli.Tests;

/// <summary>The OpenAI-compatible server, started in-process on a free loopback port, driven by the official OpenAI .NET client
/// and by raw HTTP.</summary>
[TestClass]
public sealed class ServeTests
{
    private const string Key = "test-key";
    private static readonly string TinyLlama = Path.Combine(AppContext.BaseDirectory, "models", "tiny-llama");
    private static Generator s_generator = null!;
    private static OnnxChatClient s_chat = null!;
    private static WebApplication s_app = null!;
    private static Uri s_base = null!;
    private static readonly CapturingLoggers s_logs = new();
    private static readonly HttpClient s_http = new();

    [ClassInitialize]
    public static async Task Start(TestContext context)
    {
        _ = context;
        CliLogging.EnsureEnvironment(LogLevel.Warning);
        s_generator = new Generator(ModelFolder.Open(TinyLlama), new OnnxRuntime.SessionOptions { IntraOpThreads = 1 });
        s_chat = new OnnxChatClient(s_generator, new OnnxChatClientOptions { ChatTemplate = ServeCommand.FallbackChatTemplate });
        s_app = OpenAiServer.Create(s_chat, new OpenAiServerOptions { Urls = "http://127.0.0.1:0", ApiKey = Key, MaxRequestBodyBytes = 4096 }, s_logs);
        await s_app.StartAsync();
        s_base = new Uri(OpenAiServer.GetListeningUrls(s_app)[0] + "/");
    }

    [ClassCleanup]
    public static async Task Stop()
    {
        await s_app.StopAsync();
        await s_app.DisposeAsync();
        s_chat.Dispose();
        s_generator.Dispose();
    }

    private static OaiChatClient OpenAiChat(string model = "tiny-llama", string key = Key) =>
        new(model, new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(s_base, "v1"), RetryPolicy = new ClientRetryPolicy(0) });

    private static OpenAI.Chat.ChatMessage[] Conversation(string question) => [new SystemChatMessage("You define words."), new UserChatMessage(question)];

    private static AiChatMessage[] Library(string question) => [new(ChatRole.System, "You define words."), new(ChatRole.User, question)];

    private static async Task<(HttpStatusCode Status, JsonDocument Body)> PostAsync(string path, string body, string? key = Key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(s_base, path)) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        using HttpResponseMessage response = await s_http.SendAsync(request);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()));
    }

    private static void AssertError(JsonDocument body, string? param, string type = "invalid_request_error")
    {
        JsonElement error = body.RootElement.GetProperty("error");
        Assert.IsFalse(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.AreEqual(type, error.GetProperty("type").GetString());
        Assert.AreEqual(param, error.GetProperty("param").GetString());
        Assert.IsTrue(error.TryGetProperty("code", out _));
    }

    [TestMethod]
    public async Task ChatCompletionEqualsTheLibrarysAnswer()
    {
        ChatCompletion completion = await OpenAiChat().CompleteChatAsync(Conversation("POLITICS, n."), new ChatCompletionOptions { MaxOutputTokenCount = 24, Temperature = 0f });
        ChatResponse expected = await s_chat.GetResponseAsync(Library("POLITICS, n."), new ChatOptions { MaxOutputTokens = 24, Temperature = 0f });
        Assert.AreEqual(expected.Text, completion.Content[0].Text);
        Assert.AreEqual(ChatMessageRole.Assistant, completion.Role);
        Assert.AreEqual("tiny-llama", completion.Model);
        StringAssert.StartsWith(completion.Id, "chatcmpl-");
        Assert.AreEqual(expected.FinishReason == Microsoft.Extensions.AI.ChatFinishReason.Length ? OpenAI.Chat.ChatFinishReason.Length : OpenAI.Chat.ChatFinishReason.Stop, completion.FinishReason);
        Assert.AreEqual(expected.Usage!.InputTokenCount, completion.Usage.InputTokenCount);
        Assert.AreEqual(expected.Usage.OutputTokenCount, completion.Usage.OutputTokenCount);
        Assert.AreEqual(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
    }

    [TestMethod]
    public async Task StreamingChatConcatenatesToTheSameTextAndEndsWithFinishReasonAndUsage()
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 30, Temperature = 0f };
        ChatCompletion whole = await OpenAiChat().CompleteChatAsync(Conversation("CAT, n."), options);
        var text = new StringBuilder();
        OpenAI.Chat.ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        int updates = 0;
        await foreach (StreamingChatCompletionUpdate update in OpenAiChat().CompleteChatStreamingAsync(Conversation("CAT, n."), options))
        {
            updates++;
            foreach (ChatMessageContentPart part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish = update.FinishReason ?? finish;
            usage = update.Usage ?? usage;
        }

        Assert.AreEqual(whole.Content[0].Text, text.ToString());
        Assert.IsGreaterThan(2, updates, "streamed in pieces");
        Assert.AreEqual(whole.FinishReason, finish);
        Assert.IsNotNull(usage, "the OpenAI client asks for stream_options.include_usage");
        Assert.AreEqual(whole.Usage.OutputTokenCount, usage.OutputTokenCount);
    }

    [TestMethod]
    public async Task RawStreamIsServerSentEventsEndingInDone()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(s_base, "v1/chat/completions"))
        {
            Content = new StringContent("""{"messages":[{"role":"user","content":[{"type":"text","text":"WAR, n."}]}],"stream":true,"max_tokens":8,"stop":["zzz"]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        using HttpResponseMessage response = await s_http.SendAsync(request);
        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        string[] events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual("data: [DONE]", events[^1]);
        using JsonDocument first = JsonDocument.Parse(events[0]["data: ".Length..]);
        Assert.AreEqual("chat.completion.chunk", first.RootElement.GetProperty("object").GetString());
        Assert.AreEqual("assistant", first.RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        using JsonDocument last = JsonDocument.Parse(events[^2]["data: ".Length..]);
        Assert.AreEqual("length", last.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.IsFalse(events.Any(e => e.Contains("\"usage\"", StringComparison.Ordinal)), "no usage unless stream_options.include_usage");
    }

    [TestMethod]
    public async Task CompletionsContinueThePromptLikeTheGenerator()
    {
        GenerationResult expected = s_generator.Generate("POLITICS, n.", new GenerationOptions { MaxNewTokens = 16 });
        var (status, body) = await PostAsync("v1/completions", """{"model":"tiny-llama","prompt":"POLITICS, n.","max_tokens":16,"temperature":0}""");
        using (body)
        {
            Assert.AreEqual(HttpStatusCode.OK, status, body.RootElement.GetRawText());
            Assert.AreEqual("text_completion", body.RootElement.GetProperty("object").GetString());
            JsonElement choice = body.RootElement.GetProperty("choices")[0];
            Assert.AreEqual(expected.Text, choice.GetProperty("text").GetString());
            Assert.AreEqual(expected.FinishReason == Generation.Text.FinishReason.Length ? "length" : "stop", choice.GetProperty("finish_reason").GetString());
            Assert.AreEqual(expected.PromptIds.Count, body.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
            Assert.AreEqual(expected.NewIds.Count, body.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(s_base, "v1/completions"))
        {
            Content = new StringContent("""{"prompt":"POLITICS, n.","max_tokens":16,"stream":true,"stream_options":{"include_usage":true}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        using HttpResponseMessage response = await s_http.SendAsync(request);
        string[] events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual("data: [DONE]", events[^1]);
        var text = new StringBuilder();
        foreach (string e in events[..^2])
        {
            using JsonDocument chunk = JsonDocument.Parse(e["data: ".Length..]);
            text.Append(chunk.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        }

        Assert.AreEqual(expected.Text, text.ToString());
        using JsonDocument usage = JsonDocument.Parse(events[^2]["data: ".Length..]);
        Assert.AreEqual(0, usage.RootElement.GetProperty("choices").GetArrayLength());
        Assert.AreEqual(expected.NewIds.Count, usage.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [TestMethod]
    public async Task WrongOrMissingKeyIs401AndHealthIsOpen()
    {
        var ex = await Assert.ThrowsExactlyAsync<ClientResultException>(() => OpenAiChat(key: "wrong").CompleteChatAsync(Conversation("CAT, n.")));
        Assert.AreEqual(401, ex.Status);
        var (status, body) = await PostAsync("v1/chat/completions", """{"messages":[{"role":"user","content":"x"}]}""", key: null);
        Assert.AreEqual(HttpStatusCode.Unauthorized, status);
        AssertError(body, null, "authentication_error");
        using HttpResponseMessage health = await s_http.GetAsync(new Uri(s_base, "health"));
        Assert.AreEqual(HttpStatusCode.OK, health.StatusCode);
        StringAssert.Contains(await health.Content.ReadAsStringAsync(), "\"status\":\"ok\"");
    }

    [TestMethod]
    public async Task ModelsListTheServedModelAndUnknownModelIs404()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(s_base, "v1/models"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        using HttpResponseMessage response = await s_http.SendAsync(request);
        using JsonDocument models = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.AreEqual("list", models.RootElement.GetProperty("object").GetString());
        Assert.AreEqual("tiny-llama", models.RootElement.GetProperty("data")[0].GetProperty("id").GetString());

        var ex = await Assert.ThrowsExactlyAsync<ClientResultException>(() => OpenAiChat(model: "gpt-4o").CompleteChatAsync(Conversation("CAT, n.")));
        Assert.AreEqual(404, ex.Status);
        var (status, body) = await PostAsync("v1/completions", """{"model":"nope","prompt":"x"}""");
        Assert.AreEqual(HttpStatusCode.NotFound, status);
        AssertError(body, "model");
    }

    [TestMethod]
    public async Task BadRequestsAre400WithTheFieldNamed()
    {
        var (status, body) = await PostAsync("v1/chat/completions", "{\"messages\": [");
        Assert.AreEqual(HttpStatusCode.BadRequest, status);
        AssertError(body, null);
        (status, body) = await PostAsync("v1/chat/completions", """{"model":"tiny-llama"}""");
        Assert.AreEqual(HttpStatusCode.BadRequest, status);
        AssertError(body, "messages");
        (status, body) = await PostAsync("v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"n":2}""");
        Assert.AreEqual(HttpStatusCode.BadRequest, status);
        AssertError(body, "n");
        (status, body) = await PostAsync("v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"temperature":"hot"}""");
        AssertError(body, "temperature");
        (status, body) = await PostAsync("v1/chat/completions", """{"messages":[{"role":"tool","content":"x"}]}""");
        AssertError(body, "messages[0].role");
        (status, body) = await PostAsync("v1/completions", """{"prompt":"x","max_tokens":100000}""");
        Assert.AreEqual(HttpStatusCode.BadRequest, status);
        AssertError(body, "max_tokens");
        (status, body) = await PostAsync("v1/completions", """{"prompt":"x","stop":5}""");
        AssertError(body, "stop");
    }

    [TestMethod]
    public async Task OversizedBodyIs413()
    {
        string big = "{\"prompt\":\"" + new string('a', 10_000) + "\"}";
        var (status, body) = await PostAsync("v1/completions", big);
        Assert.AreEqual(HttpStatusCode.RequestEntityTooLarge, status);
        AssertError(body, null);
    }

    [TestMethod]
    public async Task EmbeddingsAnswerAnOpenAiErrorUntilAModelIsWired()
    {
        var (status, body) = await PostAsync("v1/embeddings", """{"input":"hello"}""");
        Assert.AreEqual(HttpStatusCode.NotImplemented, status);
        AssertError(body, null, "server_error");
        StringAssert.Contains(body.RootElement.GetProperty("error").GetProperty("message").GetString(), "no embedding model");
    }

    [TestMethod]
    public async Task EmbeddingsHookServesAConfiguredGenerator()
    {
        using var embedder = new FakeEmbedder();
        await using WebApplication app = OpenAiServer.Create(s_chat, new OpenAiServerOptions { Urls = "http://127.0.0.1:0", EmbeddingGenerator = embedder });
        await app.StartAsync();
        var client = new OpenAI.Embeddings.EmbeddingClient("fake-embedder", new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(OpenAiServer.GetListeningUrls(app)[0] + "/v1") });
        OpenAI.Embeddings.OpenAIEmbeddingCollection result = await client.GenerateEmbeddingsAsync(["ab", "abcd"]);
        CollectionAssert.AreEqual(new[] { 2f, 1f, 0f }, result[0].ToFloats().ToArray());
        CollectionAssert.AreEqual(new[] { 4f, 1f, 0f }, result[1].ToFloats().ToArray());
        await app.StopAsync();
    }

    [TestMethod]
    public async Task EmbeddingsServeALocalEncoderThroughTheOpenAiClient()
    {
        string folder = Directory.CreateTempSubdirectory("mlnt-serve-bert").FullName;
        try
        {
            new MLNetTransformers.Onnx.Builders.BertBuilder(new MLNetTransformers.Onnx.Builders.BertBuilderOptions { Layers = 1, Hidden = 32, Heads = 4, Vocab = 600, MaxPositions = 128, Seed = 5 }).WriteFolder(folder);
            using var embeddings = new OnnxEmbeddingGenerator(new OnnxEmbeddingGeneratorOptions { ModelPath = folder });
            await using WebApplication app = OpenAiServer.Create(s_chat, new OpenAiServerOptions { Urls = "http://127.0.0.1:0", EmbeddingGenerator = embeddings });
            await app.StartAsync();
            var client = new OpenAI.Embeddings.EmbeddingClient(embeddings.ModelId, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(OpenAiServer.GetListeningUrls(app)[0] + "/v1") });
            string[] texts = ["the harbour was quiet", "gulls"];
            OpenAI.Embeddings.OpenAIEmbeddingCollection served = await client.GenerateEmbeddingsAsync(texts);
            var expected = await embeddings.GenerateAsync(texts);
            for (int i = 0; i < texts.Length; i++)
            {
                float[] actual = served[i].ToFloats().ToArray();
                float[] direct = expected[i].Vector.ToArray();
                Assert.HasCount(direct.Length, actual);
                for (int d = 0; d < direct.Length; d++)
                {
                    Assert.AreEqual(direct[d], actual[d], 1e-6f);
                }
            }

            await app.StopAsync();
            var (code, _, err) = await InspectCommandTests.Mlnt("serve", "--model", TinyLlama, "--embedding-model", Path.Combine(folder, "missing"));
            Assert.AreEqual(2, code, err);
            StringAssert.Contains(err, "--embedding-model");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public async Task PromptsOverTheTokenLimitAre400WithContextLengthExceeded()
    {
        await using WebApplication app = OpenAiServer.Create(s_chat, new OpenAiServerOptions { Urls = "http://127.0.0.1:0", MaxPromptTokens = 8 });
        await app.StartAsync();
        string url = OpenAiServer.GetListeningUrls(app)[0];
        var (status, body) = await PostOnceAsync(url + "/v1/chat/completions", """{"messages":[{"role":"user","content":"POLITICS, n. A strife of interests masquerading as a contest of principles."}],"max_tokens":3}""");
        Assert.AreEqual(HttpStatusCode.BadRequest, status, body);
        using var error = System.Text.Json.JsonDocument.Parse(body);
        Assert.AreEqual("context_length_exceeded", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        StringAssert.Contains(error.RootElement.GetProperty("error").GetProperty("message").GetString(), "at most 8");
        (status, body) = await PostOnceAsync(url + "/v1/completions", """{"prompt":"POLITICS, n. A strife of interests masquerading as a contest of principles.","max_tokens":3}""");
        Assert.AreEqual(HttpStatusCode.BadRequest, status, body);
        StringAssert.Contains(body, "context_length_exceeded");
        await app.StopAsync();
    }

    [TestMethod]
    public async Task FullQueueIs429()
    {
        using var chat = new OnnxChatClient(s_generator, new OnnxChatClientOptions { ChatTemplate = ServeCommand.FallbackChatTemplate, MaxQueueLength = 0 });
        await using WebApplication app = OpenAiServer.Create(chat, new OpenAiServerOptions { Urls = "http://127.0.0.1:0" });
        await app.StartAsync();
        var client = new OaiChatClient("tiny-llama", new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(OpenAiServer.GetListeningUrls(app)[0] + "/v1"), RetryPolicy = new ClientRetryPolicy(0) });
        var ex = await Assert.ThrowsExactlyAsync<ClientResultException>(() => client.CompleteChatAsync(Conversation("CAT, n.")));
        Assert.AreEqual(429, ex.Status);
        await app.StopAsync();
    }

    [TestMethod]
    public async Task ClientDisconnectCancelsItsGenerationAndTheServerGoesOn()
    {
        var scheduler = (ContinuousBatchScheduler)s_chat.GetService(typeof(ContinuousBatchScheduler))!;
        string marker = Guid.NewGuid().ToString("N");
        // No draining of the unread response (SocketsHttpHandler would otherwise read it to reuse the connection): dispose closes it.
        using (var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }))
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(s_base, "v1/chat/completions"))
            {
                Content = new StringContent($$"""{"messages":[{"role":"user","content":"{{marker}}"}],"stream":true,"max_tokens":400,"min_tokens":400,"stop":["never-appears-{{marker}}"]}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
            using HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            string? line = await reader.ReadLineAsync();
            StringAssert.StartsWith(line, "data: {");
        }

        // Disposing the response mid-stream closes the connection: the server logs the disconnect and the batch empties.
        for (int i = 0; i < 600 && !(s_logs.Lines.Any(l => l.Contains("client disconnected", StringComparison.Ordinal)) && scheduler.ActiveCount == 0); i++)
        {
            await Task.Delay(50);
        }

        Assert.IsTrue(s_logs.Lines.Any(l => l.Contains("client disconnected", StringComparison.Ordinal)), string.Join("\n", s_logs.Lines));
        Assert.AreEqual(0, scheduler.ActiveCount);
        ChatCompletion next = await OpenAiChat().CompleteChatAsync(Conversation("CAT, n."), new ChatCompletionOptions { MaxOutputTokenCount = 4 });
        Assert.AreEqual(4, next.Usage.OutputTokenCount);
    }

    [TestMethod]
    public async Task ServeCommandListensAndStopsOnCancellation()
    {
        var stderr = new StringWriter();
        TextWriter synchronized = TextWriter.Synchronized(stderr);
        using var cts = new CancellationTokenSource();
        Task<int> run = CliApp.RunAsync(["serve", "--model", TinyLlama, "--urls", "http://127.0.0.1:0", "--threads", "1"], TextWriter.Null, synchronized, cts.Token);
        string? url = null;
        for (int i = 0; i < 600 && url is null && !run.IsCompleted; i++)
        {
            await Task.Delay(50);
            lock (synchronized)
            {
                url = System.Text.RegularExpressions.Regex.Match(stderr.ToString(), @"on (http://127\.0\.0\.1:\d+)") is { Success: true } m ? m.Groups[1].Value : null;
            }
        }

        Assert.IsNotNull(url, stderr.ToString());
        using HttpResponseMessage health = await s_http.GetAsync(new Uri(url + "/health"));
        Assert.AreEqual(HttpStatusCode.OK, health.StatusCode);
        var (status, body) = await PostOnceAsync(url + "/v1/chat/completions", """{"messages":[{"role":"user","content":"CAT, n."}],"max_tokens":3}""");
        Assert.AreEqual(HttpStatusCode.OK, status, body);
        await cts.CancelAsync();
        Assert.AreEqual(0, await run, stderr.ToString());
        StringAssert.Contains(stderr.ToString(), "no chat template");
    }

    [TestMethod]
    public async Task ServeCommandRejectsBadOptionsWithExitCode2()
    {
        var (code, _, err) = await InspectCommandTests.Mlnt("serve", "--model", TinyLlama, "--max-body-bytes", "0");
        Assert.AreEqual(2, code, err);
        StringAssert.Contains(err, "--max-body-bytes");
        (code, _, err) = await InspectCommandTests.Mlnt("serve", "--model", Path.Combine(TinyLlama, "missing"));
        Assert.AreEqual(2, code, err);
    }

    private static async Task<(HttpStatusCode, string)> PostOnceAsync(string url, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await s_http.PostAsync(new Uri(url), content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Embeds a text as [length, 1, 0].</summary>
    private sealed class FakeEmbedder : IEmbeddingGenerator<string, Embedding<float>>
    {
        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(values.Select(v => new Embedding<float>(new float[] { v.Length, 1, 0 }))));

        public object? GetService(Type serviceType, object? serviceKey = null) =>
            serviceType == typeof(EmbeddingGeneratorMetadata) ? new EmbeddingGeneratorMetadata("fake", null, "fake-embedder", 3) : null;

        public void Dispose()
        {
        }
    }

    private sealed class CapturingLoggers : ILoggerFactory
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => categoryName.StartsWith("Microsoft.", StringComparison.Ordinal) ? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance : new Logger(this);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggers owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Lines.Enqueue(formatter(state, exception));
        }
    }
}
