using MLNetTransformers.Generation.Decoding;
using MLNetTransformers.Tokenizers;

namespace MLNetTransformers.Generation.Tests.Decoding;

/// <summary>Not run beside other classes: it opens several sessions, which would disturb the memory-growth test's RSS.</summary>
[TestClass]
[DoNotParallelize]
public sealed class ChatTests
{
    private const string Zephyr =
        "{% for message in messages %}<|{{ message.role }}|>\n{{ message.content }}{{ eos_token }}\n{% endfor %}" +
        "{% if add_generation_prompt %}<|assistant|>\n{% endif %}";

    private static readonly GenerationOptions Options = new() { MaxNewTokens = 8, EosTokenIds = [] };

    private static Generator Open() => new(ModelFolder.Open(TestSupport.TinyLlamaDirectory), TestSupport.SessionOptions());

    private static List<ChatMessage> First() =>
    [
        new("system", "You are a helpful assistant."),
        new("user", "Tell me about the weather today."),
    ];

    [TestMethod]
    public void ChatEqualsGeneratingTheRenderedPrompt()
    {
        using Generator generator = Open();
        List<ChatMessage> messages = First();
        string rendered = generator.Tokenizer!.ApplyChatTemplate(messages, new ChatTemplateOptions { AddGenerationPrompt = true }, Zephyr);
        StringAssert.EndsWith(rendered, "<|assistant|>\n");
        int[] ids = [.. generator.Tokenizer.Encode(rendered, addSpecialTokens: false).Ids];

        GenerationResult chat = generator.GenerateChat(messages, Options, Zephyr);
        CollectionAssert.AreEqual(ids, chat.PromptIds.ToArray());
        Assert.AreEqual(ids.Length, generator.LastPrefillTokens);
        Assert.AreEqual(0, generator.LastReusedTokens);

        using Generator plain = Open();
        GenerationResult direct = plain.Generate(ids, Options);
        CollectionAssert.AreEqual(direct.NewIds.ToArray(), chat.NewIds.ToArray());
        Assert.AreEqual(direct.Text, chat.Text);
    }

    [TestMethod]
    public async Task AnExtendingRequestReusesThePrefixAndMatchesAFreshGenerator()
    {
        using Generator generator = Open();
        List<ChatMessage> messages = First();
        GenerationResult first = generator.GenerateChat(messages, Options, Zephyr);
        int cached = first.PromptIds.Count + first.NewIds.Count - 1;

        List<ChatMessage> second = [.. messages, new("assistant", first.Text), new("user", "And tomorrow?")];
        GenerationResult reply = generator.GenerateChat(second, Options, Zephyr);
        int promptLength = reply.PromptIds.Count;
        Assert.IsTrue(generator.LastReusedTokens >= first.PromptIds.Count, $"reused {generator.LastReusedTokens} of {first.PromptIds.Count} prompt tokens");
        Assert.IsTrue(generator.LastReusedTokens <= cached);
        Assert.AreEqual(promptLength - generator.LastReusedTokens, generator.LastPrefillTokens);
        CollectionAssert.AreEqual(first.PromptIds.ToArray(), reply.PromptIds.Take(first.PromptIds.Count).ToArray());

        using Generator fresh = Open();
        GenerationResult expected = fresh.GenerateChat(second, Options, Zephyr);
        Assert.AreEqual(0, fresh.LastReusedTokens);
        Assert.AreEqual(promptLength, fresh.LastPrefillTokens);
        CollectionAssert.AreEqual(expected.NewIds.ToArray(), reply.NewIds.ToArray());

        // A third turn, streamed, reuses the second's cache too.
        List<ChatMessage> third = [.. second, new("assistant", reply.Text), new("user", "Thanks.")];
        GenerationResult? streamed = null;
        await foreach (GenerationUpdate update in generator.GenerateChatAsync(third, Options, Zephyr))
        {
            streamed = update.Result ?? streamed;
        }

        Assert.IsTrue(generator.LastReusedTokens >= promptLength);
        GenerationResult expectedThird = fresh.GenerateChat(third, Options, Zephyr);
        CollectionAssert.AreEqual(expectedThird.NewIds.ToArray(), streamed!.NewIds.ToArray());
    }

    [TestMethod]
    public void ADivergingRequestSlicesTheCacheAndANonExtendingOneRecomputes()
    {
        using Generator generator = Open();
        _ = generator.GenerateChat(First(), Options, Zephyr);

        // Same system message, different user message: only the common prefix is reused (the cache is sliced).
        List<ChatMessage> diverging = [new("system", "You are a helpful assistant."), new("user", "Write a short poem.")];
        GenerationResult sliced = generator.GenerateChat(diverging, Options, Zephyr);
        Assert.IsTrue(generator.LastReusedTokens > 0);
        Assert.IsTrue(generator.LastReusedTokens < sliced.PromptIds.Count);
        Assert.AreEqual(sliced.PromptIds.Count - generator.LastReusedTokens, generator.LastPrefillTokens);
        using Generator fresh = Open();
        CollectionAssert.AreEqual(fresh.GenerateChat(diverging, Options, Zephyr).NewIds.ToArray(), sliced.NewIds.ToArray());

        // A template that renders differently from the first token on: nothing in common, full recompute.
        const string other = "{% for message in messages %}{{ message.role }}: {{ message.content }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}";
        GenerationResult full = generator.GenerateChat(diverging, Options, other);
        Assert.AreEqual(0, generator.LastReusedTokens);
        Assert.AreEqual(full.PromptIds.Count, generator.LastPrefillTokens);
        CollectionAssert.AreEqual(fresh.Generate(full.PromptIds, Options).NewIds.ToArray(), full.NewIds.ToArray());

        // After clearing, the same request recomputes everything.
        generator.ClearChatCache();
        _ = generator.GenerateChat(diverging, Options, other);
        Assert.AreEqual(0, generator.LastReusedTokens);
    }

    [TestMethod]
    public void AModelWithoutTemplateNeedsOne()
    {
        using Generator generator = Open();
        Assert.IsNull(generator.Tokenizer!.Config.ChatTemplate);
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => generator.GenerateChat(First(), Options));
        StringAssert.Contains(error.Message, "chat template");
        Assert.ThrowsExactly<InvalidOperationException>(() => generator.GenerateChatAsync(First(), Options));
    }
}
