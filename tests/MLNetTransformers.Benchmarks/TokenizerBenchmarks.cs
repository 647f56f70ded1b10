using System.Text;
using BenchmarkDotNet.Attributes;
using MLNetTransformers.Tokenizers;

namespace MLNetTransformers.Benchmarks;

/// <summary>
/// Single-threaded encode throughput of the four reference tokenizers on about 1.2 MB of English prose (the tiny-llama
/// validation text, twice), and batch encoding of 10 000 short sentences. MB/s = <see cref="CorpusBytes"/> / mean time.
/// </summary>
[MemoryDiagnoser]
public class TokenizerBenchmarks
{
    private Tokenizer? _tokenizer;
    private string _corpus = string.Empty;
    private string[] _sentences = [];

    /// <summary>The tokenizer: GPT-2 byte-level BPE, BERT WordPiece, T5 Unigram, Llama SentencePiece BPE.</summary>
    [Params("distilgpt2", "all-MiniLM-L6-v2", "flan-t5-small", "tiny-llama")]
    public string Name { get; set; } = "distilgpt2";

    /// <summary>UTF-8 size of the corpus, for converting the mean time to MB/s.</summary>
    public static long CorpusBytes => Encoding.UTF8.GetByteCount(LoadCorpus());

    /// <summary>Loads the tokenizer and the texts.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _tokenizer = Tokenizer.FromDirectory(TokenizerDirectory(Name));
        _corpus = LoadCorpus();
        _sentences = _corpus.Split('\n', StringSplitOptions.RemoveEmptyEntries).Take(10_000).ToArray();
    }

    /// <summary>Encodes the whole corpus as one text.</summary>
    /// <returns>The token count.</returns>
    [Benchmark]
    public int EncodeCorpus() => _tokenizer!.Encode(_corpus).Count;

    /// <summary>Encodes 10 000 short sentences as one padded batch.</summary>
    /// <returns>The padded length.</returns>
    [Benchmark]
    public int EncodeBatch10k() =>
        _tokenizer!.EncodeBatch(_sentences, new EncodeOptions { Padding = new PaddingOptions { PadId = 0 } }).SequenceLength;

    internal static string LoadCorpus()
    {
        string text = File.ReadAllText(Path.Combine(RepositoryRoot(), "models", "tiny-llama", "reference", "validation.txt"));
        return text + text;
    }

    internal static string TokenizerDirectory(string name) => name == "tiny-llama"
        ? Path.Combine(RepositoryRoot(), "models", "tiny-llama")
        : Path.Combine(RepositoryRoot(), "tests", "MLNetTransformers.Tokenizers.Tests", "TestData", "tokenizers", name);

    private static string RepositoryRoot()
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
}
