// A chat console: each line you type is added to the conversation and the answer streams back token by token.
// Run: dotnet run --project samples/ChatConsole [MODEL_DIR]   (an empty line or end of input quits; Ctrl-C stops an answer)
using Microsoft.Extensions.AI;
using MLNetTransformers.Extensions.AI;

string model = args.Length > 0 ? args[0] : Path.Combine(FindRepositoryRoot(), "models", "tiny-llama");
const string Zephyr =
    "{% for message in messages %}<|{{ message.role }}|>\n{{ message.content }}{{ eos_token }}\n{% endfor %}" +
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}";

using var chat = new OnnxChatClient(new OnnxChatClientOptions { ModelPath = model, ChatTemplate = Zephyr, DefaultMaxOutputTokens = 64 });
var history = new List<ChatMessage> { new(ChatRole.System, "You write short dictionary definitions.") };
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

while (true)
{
    Console.Write("> ");
    string? line = Console.ReadLine();
    if (string.IsNullOrWhiteSpace(line))
    {
        break;
    }

    history.Add(new ChatMessage(ChatRole.User, line));
    var answer = new System.Text.StringBuilder();
    try
    {
        await foreach (ChatResponseUpdate update in chat.GetStreamingResponseAsync(history, new ChatOptions { Temperature = 0.7f, TopP = 0.9f }, cancel.Token))
        {
            Console.Write(update.Text);
            answer.Append(update.Text);
        }
    }
    catch (OperationCanceledException)
    {
        Console.Write(" [stopped]");
    }

    Console.WriteLine();
    history.Add(new ChatMessage(ChatRole.Assistant, answer.ToString()));
}

static string FindRepositoryRoot()
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
