using MLNetTransformers.Generation.Logits;

namespace MLNetTransformers.Generation.Tests.Logits;

[TestClass]
public sealed class ValidationTests
{
    private static void AssertOutOfRange(Action action, string paramName, string messagePart)
    {
        ArgumentOutOfRangeException e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(action);
        Assert.AreEqual(paramName, e.ParamName);
        StringAssert.Contains(e.Message, messagePart);
    }

    [TestMethod]
    public void Settings_RejectInvalidValues_NamingTheParameter()
    {
        AssertOutOfRange(() => _ = new LogitsProcessorSettings { Temperature = -0.1f }, "Temperature", "temperature must be >= 0");
        AssertOutOfRange(() => _ = new LogitsProcessorSettings { Temperature = float.NaN }, "Temperature", "temperature");
        AssertOutOfRange(() => _ = new LogitsProcessorSettings { TopP = 0f }, "TopP", "top_p must be in (0, 1]");
        AssertOutOfRange(() => _ = new LogitsProcessorSettings { TopP = 1.5f }, "TopP", "top_p must be in (0, 1]");
        AssertOutOfRange(() => _ = new LogitsProcessorSettings { TopK = -1 }, "TopK", "top_k must be >= 0");
        AssertOutOfRange(() => _ = new LogitsProcessorSettings { MinP = -0.1f }, "MinP", "min_p must be in [0, 1]");
        AssertOutOfRange(() => _ = new LogitsProcessorSettings { MinP = 1.1f }, "MinP", "min_p must be in [0, 1]");
        AssertOutOfRange(() => _ = new LogitsProcessorSettings { TypicalP = 0f }, "TypicalP", "typical_p must be in (0, 1]");
        AssertOutOfRange(() => _ = new LogitsProcessorSettings { TypicalP = 1.01f }, "TypicalP", "typical_p must be in (0, 1]");
        AssertOutOfRange(() => _ = new LogitsProcessorSettings { RepetitionPenalty = 0f }, "RepetitionPenalty", "repetition_penalty must be > 0");
        AssertOutOfRange(() => _ = new LogitsProcessorSettings { RepetitionPenalty = -1f }, "RepetitionPenalty", "repetition_penalty must be > 0");
        AssertOutOfRange(() => _ = new LogitsProcessorSettings { NoRepeatNGramSize = -1 }, "NoRepeatNGramSize", "NoRepeatNGramSize must be >= 0");
        AssertOutOfRange(() => _ = new LogitsProcessorSettings { MinTokensToKeep = 0 }, "MinTokensToKeep", "MinTokensToKeep must be >= 1");
    }

    [TestMethod]
    public void Settings_AcceptBoundaryValues()
    {
        var settings = new LogitsProcessorSettings { Temperature = 0f, TopP = 1f, TopK = 0, MinP = 0f, TypicalP = 1f };
        Assert.AreEqual(0f, settings.Temperature);
        _ = new LogitsProcessorSettings { MinP = 1f, TopP = 1e-6f, TypicalP = 1e-6f, RepetitionPenalty = 1e-3f };
    }

    [TestMethod]
    public void Processors_RejectInvalidValues_NamingTheParameter()
    {
        AssertOutOfRange(() => _ = new TemperatureLogitsWarper(0f), "temperature", "temperature must be > 0");
        AssertOutOfRange(() => _ = new TopPLogitsWarper(0f), "topP", "top_p");
        AssertOutOfRange(() => _ = new TopKLogitsWarper(-3), "topK", "top_k must be >= 0");
        AssertOutOfRange(() => _ = new TopKLogitsWarper(0), "topK", "topK must be >= 1");
        AssertOutOfRange(() => _ = new MinPLogitsWarper(2f), "minP", "min_p");
        AssertOutOfRange(() => _ = new TypicalLogitsWarper(-1f), "mass", "typical_p");
        AssertOutOfRange(() => _ = new RepetitionPenaltyLogitsProcessor(0f), "penalty", "repetition_penalty");
        AssertOutOfRange(() => _ = new TopPLogitsWarper(0.5f, minTokensToKeep: 0), "minTokensToKeep", "minTokensToKeep must be >= 1");
        AssertOutOfRange(() => _ = new MinNewTokensLogitsProcessor(-1, [2]), "minNewTokens", "minNewTokens must be >= 0");
    }
}
