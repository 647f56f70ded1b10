using System.CommandLine;
using MLNetTransformers.Generation;
using MLNetTransformers.Generation.Decoding;

namespace MLNetTransformers.Cli.Commands;

/// <summary>The generation options of <c>mlnt generate</c>, shared with <c>mlnt score --task generate</c>.</summary>
internal sealed class GenerationCliOptions
{
    public Option<int?> MaxNewTokens { get; } = new("--max-new-tokens") { Description = "Most tokens to generate (default: generation_config.json, else 20)." };

    public Option<bool> Greedy { get; } = new("--greedy") { Description = "Pick the most likely token at every step (the default unless a sampling option is given)." };

    public Option<float?> Temperature { get; } = new("--temperature") { Description = "Sampling temperature (> 0; 0 means greedy)." };

    public Option<int?> TopK { get; } = new("--top-k") { Description = "Sample among the K most likely tokens (0 = all)." };

    public Option<float?> TopP { get; } = new("--top-p") { Description = "Sample among the most likely tokens holding probability P, in (0, 1]." };

    public Option<float?> MinP { get; } = new("--min-p") { Description = "Drop tokens less likely than M times the most likely one, in [0, 1]." };

    public Option<ulong?> Seed { get; } = new("--seed") { Description = "Random seed: the same seed gives the same output." };

    public Option<float?> RepetitionPenalty { get; } = new("--repetition-penalty") { Description = "Penalty for tokens already present (> 0; 1 = none)." };

    public Option<int> NumBeams { get; } = new("--num-beams") { Description = "Beam search width (1 = no beam search). Beam search prints the best sequence when it is done.", DefaultValueFactory = _ => 1 };

    public Option<string[]> Stop { get; } = new("--stop") { Description = "Stop when this text is generated (trimmed from the output). Repeatable.", Arity = ArgumentArity.ZeroOrMore };

    public void AddTo(Command command)
    {
        command.Options.Add(MaxNewTokens);
        command.Options.Add(Greedy);
        command.Options.Add(Temperature);
        command.Options.Add(TopK);
        command.Options.Add(TopP);
        command.Options.Add(MinP);
        command.Options.Add(Seed);
        command.Options.Add(RepetitionPenalty);
        command.Options.Add(NumBeams);
        command.Options.Add(Stop);
    }

    /// <summary>Builds the generation options, mapping invalid values to exit code 2 naming the option.</summary>
    public GenerationOptions Build(ParseResult parse, int numReturnSequences = 1, PromptTruncation truncation = PromptTruncation.None)
    {
        int beams = parse.GetValue(NumBeams);
        if (beams < 1)
        {
            throw new CliException($"--num-beams: expected a positive number, got {beams}.");
        }

        bool sampling = !parse.GetValue(Greedy)
            && (parse.GetValue(Temperature) is not null || parse.GetValue(TopK) is not null || parse.GetValue(TopP) is not null
                || parse.GetValue(MinP) is not null || parse.GetValue(Seed) is not null);
        try
        {
            return new GenerationOptions
            {
                MaxNewTokens = parse.GetValue(MaxNewTokens),
                DoSample = sampling,
                Temperature = parse.GetValue(Temperature) ?? 1f,
                TopK = parse.GetValue(TopK) ?? 50,
                TopP = parse.GetValue(TopP) ?? 1f,
                MinP = parse.GetValue(MinP),
                Seed = parse.GetValue(Seed),
                RepetitionPenalty = parse.GetValue(RepetitionPenalty) ?? 1f,
                StopStrings = parse.GetValue(Stop) is { Length: > 0 } stops ? stops : null,
                NumBeams = beams,
                NumReturnSequences = numReturnSequences,
                Truncation = truncation,
            };
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new CliException($"--{Kebab(ex.ParamName)}: {ex.Message.Split(" (Parameter", 2)[0]}");
        }
    }

    private static string Kebab(string? name) => string.Concat((name ?? "option").Select((c, i) => char.IsUpper(c) ? (i > 0 ? "-" : string.Empty) + char.ToLowerInvariant(c) : c.ToString()));
}
