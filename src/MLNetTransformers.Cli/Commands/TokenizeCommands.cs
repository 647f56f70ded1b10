using System.CommandLine;
using System.Globalization;
using MLNetTransformers.Tokenizers;

namespace MLNetTransformers.Cli.Commands;

/// <summary><c>mlnt tokenize</c> and <c>mlnt detokenize</c>.</summary>
internal static class TokenizeCommands
{
    public static Command CreateTokenize(CliConsole console)
    {
        var model = ModelOption();
        var text = new Option<string?>("--text") { Description = "The text to tokenize (one input)." };
        var file = new Option<string?>("--file") { Description = "A UTF-8 file: each line is one input." };
        var json = new Option<bool>("--json") { Description = "One JSON object per input line: {\"ids\", \"tokens\", \"offsets\"}." };
        var noSpecial = new Option<bool>("--no-special") { Description = "Do not add the special tokens of the tokenizer's post-processor." };
        var command = new Command("tokenize", "Tokenize text with a model's tokenizer (ids, tokens, and offsets in UTF-16 units of each input line).")
        {
            model, text, file, json, noSpecial,
        };
        command.SetAction(parse => Run(console, () =>
        {
            Tokenizer tokenizer = LoadTokenizer(parse.GetValue(model)!);
            bool addSpecial = !parse.GetValue(noSpecial);
            bool asJson = parse.GetValue(json);
            foreach (string input in Inputs(parse.GetValue(text), parse.GetValue(file)))
            {
                TokenEncoding encoding = tokenizer.Encode(input, addSpecial);
                if (asJson)
                {
                    console.WriteJsonLine(w =>
                    {
                        w.WriteStartArray("ids");
                        foreach (int id in encoding.Ids)
                        {
                            w.WriteNumberValue(id);
                        }

                        w.WriteEndArray();
                        w.WriteStartArray("tokens");
                        foreach (string token in encoding.Tokens)
                        {
                            w.WriteStringValue(token);
                        }

                        w.WriteEndArray();
                        w.WriteStartArray("offsets");
                        foreach (var (start, end) in encoding.Offsets)
                        {
                            w.WriteStartArray();
                            w.WriteNumberValue(start);
                            w.WriteNumberValue(end);
                            w.WriteEndArray();
                        }

                        w.WriteEndArray();
                    });
                }
                else
                {
                    console.Out.WriteLine(string.Join(' ', encoding.Ids));
                }
            }
        }));
        return command;
    }

    public static Command CreateDetokenize(CliConsole console)
    {
        var model = ModelOption();
        var ids = new Option<string>("--ids") { Description = "Comma-separated token ids, e.g. 1,2,3.", Required = true };
        var skipSpecial = new Option<bool>("--skip-special") { Description = "Leave out special tokens." };
        var json = new Option<bool>("--json") { Description = "Write {\"text\": ...} instead of the plain text." };
        var command = new Command("detokenize", "Decode token ids to text.") { model, ids, skipSpecial, json };
        command.SetAction(parse => Run(console, () =>
        {
            int[] values = ParseIds(parse.GetValue(ids)!);
            Tokenizer tokenizer = LoadTokenizer(parse.GetValue(model)!);
            string decoded;
            try
            {
                decoded = tokenizer.Decode(values, parse.GetValue(skipSpecial));
            }
            catch (ArgumentOutOfRangeException ex)
            {
                throw new CliException($"--ids: {ex.Message.Split(" (Parameter", 2)[0]}");
            }

            if (parse.GetValue(json))
            {
                console.WriteJsonLine(w => w.WriteString("text", decoded));
            }
            else
            {
                console.Out.WriteLine(decoded);
            }
        }));
        return command;
    }

    internal static Option<string> ModelOption() =>
        new("--model") { Description = "A model folder (tokenizer.json or tokenizer.model), or a tokenizer.json file.", Required = true };

    /// <summary>Loads the tokenizer of <c>--model</c>; bad files are exit code 2 with the loader's message.</summary>
    internal static Tokenizer LoadTokenizer(string model)
    {
        string full = Path.GetFullPath(model);
        try
        {
            if (File.Exists(full))
            {
                return full.EndsWith(".model", StringComparison.OrdinalIgnoreCase) ? Tokenizer.FromSentencePiece(full) : Tokenizer.FromFile(full);
            }

            if (Directory.Exists(full))
            {
                return Tokenizer.FromDirectory(full);
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or NotSupportedException or FileNotFoundException)
        {
            throw new CliException($"--model: {ex.Message}", ExitCodes.BadInput, ex);
        }

        throw new CliException($"--model: no such file or folder: {full}");
    }

    internal static IEnumerable<string> Inputs(string? text, string? file)
    {
        if ((text is null) == (file is null))
        {
            throw new CliException("give exactly one of --text or --file.");
        }

        if (text is not null)
        {
            return [text];
        }

        string full = Path.GetFullPath(file!);
        if (!File.Exists(full))
        {
            throw new CliException($"--file: no such file: {full}");
        }

        return File.ReadLines(full);
    }

    private static int[] ParseIds(string text)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out ids[i]))
            {
                throw new CliException($"--ids: '{parts[i]}' is not an integer (expected comma-separated ids, e.g. 1,2,3).");
            }
        }

        return ids;
    }

    /// <summary>Runs a command body, mapping exceptions to the one-line error and exit code.</summary>
    internal static int Run(CliConsole console, Action body)
    {
        try
        {
            body();
            return ExitCodes.Success;
        }
        catch (Exception ex)
        {
            return console.Fail(ex);
        }
    }
}
