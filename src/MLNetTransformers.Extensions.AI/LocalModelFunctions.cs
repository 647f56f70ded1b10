using System.ComponentModel;
using Microsoft.Extensions.AI;
using MLNetTransformers.Generation.Encoding;

namespace MLNetTransformers.Extensions.AI;

/// <summary>
/// The local model's skills as <see cref="AIFunction"/> tools (made with <see cref="AIFunctionFactory"/>): <c>generate_text</c>,
/// <c>embed_text</c> and <c>classify_text</c>, each present when its model is given. A Semantic Kernel app imports them as a
/// plugin in two lines:
/// <code>
/// IList&lt;AIFunction&gt; functions = LocalModelFunctions.Create(chatClient, embeddingGenerator, classifier);
/// kernel.Plugins.AddFromFunctions("local_model", functions.Select(f =&gt; f.AsKernelFunction()));
/// </code>
/// Any other <c>Microsoft.Extensions.AI</c> consumer passes them as <see cref="ChatOptions.Tools"/>.
/// </summary>
public static class LocalModelFunctions
{
    /// <summary>Creates the functions for the models given.</summary>
    /// <param name="chat">A chat client for <c>generate_text</c>; null to leave it out.</param>
    /// <param name="embeddings">An embedding generator for <c>embed_text</c>; null to leave it out.</param>
    /// <param name="classifier">A classifier for <c>classify_text</c>; null to leave it out.</param>
    /// <returns>The functions (possibly none).</returns>
    public static IList<AIFunction> Create(IChatClient? chat = null, IEmbeddingGenerator<string, Embedding<float>>? embeddings = null, Classifier? classifier = null)
    {
        var functions = new List<AIFunction>();
        if (chat is not null)
        {
            functions.Add(AIFunctionFactory.Create(
                async ([Description("The prompt or question.")] string prompt, [Description("Most tokens to generate.")] int maxTokens = 128, CancellationToken cancellationToken = default) =>
                    (await chat.GetResponseAsync([new ChatMessage(ChatRole.User, prompt)], new ChatOptions { MaxOutputTokens = maxTokens }, cancellationToken).ConfigureAwait(false)).Text,
                "generate_text",
                "Generates text with the local language model: answers the prompt."));
        }

        if (embeddings is not null)
        {
            functions.Add(AIFunctionFactory.Create(
                async ([Description("The text to embed.")] string text, CancellationToken cancellationToken = default) =>
                    (await embeddings.GenerateAsync([text], cancellationToken: cancellationToken).ConfigureAwait(false))[0].Vector.ToArray(),
                "embed_text",
                "Embeds a text as a vector with the local encoder model (for similarity search)."));
        }

        if (classifier is not null)
        {
            functions.Add(AIFunctionFactory.Create(
                async ([Description("The text to classify.")] string text, CancellationToken cancellationToken = default) =>
                {
                    ClassificationResult result = (await classifier.ClassifyAsync([text], cancellationToken).ConfigureAwait(false))[0];
                    return new ClassificationAnswer(result.Label, result.Score);
                },
                "classify_text",
                $"Classifies a text into one of: {string.Join(", ", classifier.Labels)}; returns the label and its probability."));
        }

        return functions;
    }
}

/// <summary>What <c>classify_text</c> returns.</summary>
/// <param name="Label">The most likely label.</param>
/// <param name="Score">Its probability.</param>
public sealed record ClassificationAnswer(string Label, float Score);
