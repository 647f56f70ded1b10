using System.Collections.Concurrent;

namespace MLNetTransformers.Tokenizers.Tests;

/// <summary>The real tokenizers under TestData/tokenizers, loaded once per test run.</summary>
internal static class TestTokenizers
{
    public const string Gpt2 = "distilgpt2";
    public const string Bert = "all-MiniLM-L6-v2";
    public const string T5 = "flan-t5-small";
    public const string Llama = "tiny-llama";

    private static readonly ConcurrentDictionary<string, Tokenizer> Cache = new();

    public static string Directory(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", "tokenizers", name);

    public static Tokenizer Get(string name) => Cache.GetOrAdd(name, n => Tokenizer.FromDirectory(Directory(n)));

    public static string TestData(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "TestData", .. parts]);
}
