using MLNetTransformers.Generation.Logits;
using static MLNetTransformers.Generation.Tests.Logits.LogitsTestHelpers;

namespace MLNetTransformers.Generation.Tests.Logits;

[TestClass]
public sealed class LogitsProcessorListTests
{
    private sealed class RecordingProcessor(string name, List<string> log) : LogitsProcessor
    {
        public override void Process(Span<float> logits, ReadOnlySpan<int> tokenIds, int promptLength) => log.Add(name);
    }

    private static LogitsProcessorSettings Everything => new()
    {
        RepetitionPenalty = 1.2f,
        NoRepeatNGramSize = 3,
        BadWordsIds = [[5], [6, 7]],
        MinLength = 2,
        MinNewTokens = 4,
        EosTokenIds = [2],
        DoSample = true,
        Temperature = 0.7f,
        TopK = 40,
        TopP = 0.9f,
        MinP = 0.05f,
        TypicalP = 0.95f,
    };

    [TestMethod]
    public void Create_UsesHuggingFaceOrder_WithCustomProcessorsBeforeTheWarpers()
    {
        var log = new List<string>();
        LogitsProcessorList list = LogitsProcessorList.Create(Everything, [new RecordingProcessor("custom", log)]);
        Type[] expected =
        [
            typeof(RepetitionPenaltyLogitsProcessor), typeof(NoRepeatNGramLogitsProcessor), typeof(BadWordsLogitsProcessor),
            typeof(MinLengthLogitsProcessor), typeof(MinNewTokensLogitsProcessor), typeof(RecordingProcessor),
            typeof(TemperatureLogitsWarper), typeof(TopKLogitsWarper), typeof(TopPLogitsWarper), typeof(MinPLogitsWarper),
            typeof(TypicalLogitsWarper),
        ];
        CollectionAssert.AreEqual(expected, list.Processors.Select(p => p.GetType()).ToArray());
        Assert.AreEqual(0.7f, ((TemperatureLogitsWarper)list.Processors[6]).Temperature);
        Assert.AreEqual(40, ((TopKLogitsWarper)list.Processors[7]).TopK);
    }

    [TestMethod]
    public void Process_AppliesProcessorsInListOrder()
    {
        var log = new List<string>();
        var list = new LogitsProcessorList([new RecordingProcessor("a", log), new RecordingProcessor("b", log)]);
        list.Add(new RecordingProcessor("c", log));
        list.Process(new float[3], [0], 1);
        CollectionAssert.AreEqual(new[] { "a", "b", "c" }, log);
    }

    [TestMethod]
    public void Process_OrderIsObservable_RepetitionPenaltyBeforeTemperatureAndTopK()
    {
        // Logits 4, 3 with token 0 seen: penalty 4 → 1, 3; temperature 0.5 → 2, 6; top-k 1 keeps id 1.
        var settings = new LogitsProcessorSettings { RepetitionPenalty = 4f, DoSample = true, Temperature = 0.5f, TopK = 1 };
        float[] logits = [4f, 3f];
        LogitsProcessorList.Create(settings).Process(logits, [0], 1);
        AssertSequence([NegInf, 6f], logits);
    }

    [TestMethod]
    public void Create_AddsOnlyWhatIsEnabled()
    {
        Assert.AreEqual(0, LogitsProcessorList.Create(new LogitsProcessorSettings()).Count);            // greedy defaults
        CollectionAssert.AreEqual(
            new[] { typeof(TopKLogitsWarper) },
            LogitsProcessorList.Create(new LogitsProcessorSettings { DoSample = true }).Processors.Select(p => p.GetType()).ToArray());
        // Temperature 0 is greedy: no warpers even with do_sample.
        var greedy = new LogitsProcessorSettings { DoSample = true, Temperature = 0f, TopP = 0.5f };
        Assert.IsFalse(greedy.IsSampling);
        Assert.AreEqual(0, LogitsProcessorList.Create(greedy).Count);
        // Without EOS ids, min_new_tokens adds nothing (as in Hugging Face).
        Assert.AreEqual(0, LogitsProcessorList.Create(new LogitsProcessorSettings { MinNewTokens = 3 }).Count);
        // Warpers are not added when not sampling.
        Assert.AreEqual(1, LogitsProcessorList.Create(new LogitsProcessorSettings { RepetitionPenalty = 1.1f, TopK = 5, TopP = 0.5f }).Count);
    }

    [TestMethod]
    public void Create_PassesMinTokensToKeepToTheWarpers()
    {
        var settings = new LogitsProcessorSettings { DoSample = true, TopK = 1, TopP = 0.5f, MinP = 0.5f, TypicalP = 0.5f, MinTokensToKeep = 3 };
        LogitsProcessorList list = LogitsProcessorList.Create(settings);
        Assert.AreEqual(3, ((TopKLogitsWarper)list.Processors[0]).MinTokensToKeep);
        Assert.AreEqual(3, ((TopPLogitsWarper)list.Processors[1]).MinTokensToKeep);
        Assert.AreEqual(3, ((MinPLogitsWarper)list.Processors[2]).MinTokensToKeep);
        Assert.AreEqual(3, ((TypicalLogitsWarper)list.Processors[3]).MinTokensToKeep);
    }
}
