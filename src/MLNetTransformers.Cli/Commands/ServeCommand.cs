using System.CommandLine;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using SessionOptions = MLNetTransformers.OnnxRuntime.SessionOptions;
using Microsoft.Extensions.Logging;
using MLNetTransformers.Extensions.AI;
using MLNetTransformers.Generation;
using MLNetTransformers.Generation.Encoding;
using MLNetTransformers.Generation.Decoding;
using MLNetTransformers.OnnxRuntime;
using MLNetTransformers.Server;

namespace MLNetTransformers.Cli.Commands;

/// <summary>
/// <c>mlnt serve --model DIR [--urls http://127.0.0.1:8080] [--api-key K] ...</c>: an OpenAI-compatible HTTP server
/// (<see cref="OpenAiServer"/>) over one <see cref="OnnxChatClient"/>; runs until Ctrl-C. With <c>--load-test</c> it starts the
/// server, drives it with concurrent streaming clients, reports, and exits.
/// </summary>
internal static partial class ServeCommand
{
    /// <summary>The template used when the model has none and <c>--chat-template</c> is not given: Zephyr's markup
    /// (<c>&lt;|role|&gt;\ncontent&lt;/s&gt;</c>), which needs nothing but the EOS token.</summary>
    internal const string FallbackChatTemplate =
        "{% for message in messages %}<|{{ message.role }}|>\n{{ message.content }}{{ eos_token }}\n{% endfor %}" +
        "{% if add_generation_prompt %}<|assistant|>\n{% endif %}";

    public static Command Create(CliConsole console)
    {
        var model = new Option<string>("--model") { Description = "A decoder model folder (Hugging Face layout).", Required = true };
        var urls = new Option<string>("--urls") { Description = "Addresses to listen on, ';'-separated (port 0: a free port).", DefaultValueFactory = _ => OpenAiServerOptions.DefaultUrls };
        var apiKey = new Option<string?>("--api-key") { Description = "Require 'Authorization: Bearer KEY' on /v1/* (default: no key; also read from MLNT_API_KEY)." };
        var chatTemplate = new Option<string?>("--chat-template") { Description = "A chat template: a file, Jinja text, or the name of one of the tokenizer's templates (default: the model's; for a model without one, a built-in Zephyr-style template)." };
        var dtype = new Option<string?>("--dtype") { Description = $"The ONNX variant: {string.Join(", ", ModelFolder.Dtypes)} (default: onnx/model.onnx)." };
        var maxBody = new Option<long>("--max-body-bytes") { Description = "Largest request body (413 beyond).", DefaultValueFactory = _ => 1 << 20 };
        var maxPrompt = new Option<int?>("--max-prompt-tokens") { Description = "Most prompt tokens per request (default: the model's context minus 1)." };
        var maxTokensLimit = new Option<int?>("--max-tokens-limit") { Description = "Largest max_tokens a request may ask for (default: the model's context)." };
        var maxQueue = new Option<int>("--max-queue") { Description = "Most requests waiting to join the batch (429 beyond).", DefaultValueFactory = _ => 256 };
        var maxBatch = new Option<int>("--max-batch") { Description = "Most requests decoded together.", DefaultValueFactory = _ => 16 };
        var loadTest = new Option<bool>("--load-test") { Description = "Start the server, run concurrent streaming chat clients against it, report (JSON with --json) and exit." };
        var loadClients = new Option<int>("--load-clients") { Description = "Concurrent clients of --load-test.", DefaultValueFactory = _ => 32 };
        var loadSeconds = new Option<int>("--load-seconds") { Description = "Duration of --load-test in seconds.", DefaultValueFactory = _ => 60 };
        var loadTokens = new Option<int>("--load-max-tokens") { Description = "max_tokens of each --load-test request.", DefaultValueFactory = _ => 64 };
        var json = new Option<bool>("--json") { Description = "--load-test: write the report as one JSON object on stdout." };
        var embeddingModel = new Option<string?>("--embedding-model") { Description = "An encoder model folder served on /v1/embeddings (mean pooling, L2-normalized; default: none, /v1/embeddings answers 501)." };
        var runtime = new RuntimeOptions();
        var command = new Command("serve", "Serve a decoder model over an OpenAI-compatible HTTP API (/v1/models, /v1/completions, /v1/chat/completions, /v1/embeddings, /health).")
        {
            model, urls, apiKey, chatTemplate, dtype, maxBody, maxPrompt, maxTokensLimit, maxQueue, maxBatch, loadTest, loadClients, loadSeconds, loadTokens, json, embeddingModel,
        };
        runtime.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                Positive(parse.GetValue(maxBody), "--max-body-bytes");
                Positive(parse.GetValue(maxPrompt) ?? 1, "--max-prompt-tokens");
                Positive(parse.GetValue(maxTokensLimit) ?? 1, "--max-tokens-limit");
                Positive(parse.GetValue(maxQueue) + 1, "--max-queue");
                Positive(parse.GetValue(maxBatch), "--max-batch");
                bool load = parse.GetValue(loadTest);
                Positive(parse.GetValue(loadClients), "--load-clients");
                Positive(parse.GetValue(loadSeconds), "--load-seconds");
                Positive(parse.GetValue(loadTokens), "--load-max-tokens");
                string listen = parse.GetValue(urls)!;
                if (load && parse.GetResult(urls) is null or { Implicit: true })
                {
                    listen = "http://127.0.0.1:0";
                }

                SessionOptions sessionOptions = runtime.CreateSessionOptions(console, parse);
                LogLevel level = parse.GetValue(runtime.Verbose) ? LogLevel.Debug : LogLevel.Information;
                using var loggers = new CliLoggerFactory(console, level);
                ILogger logger = loggers.CreateLogger("mlnt.serve");
                ModelFolder folder;
                try
                {
                    folder = ModelFolder.Open(parse.GetValue(model)!, parse.GetValue(dtype));
                }
                catch (ArgumentException ex) when (ex.ParamName == "dtype")
                {
                    throw new CliException($"--dtype: {ex.Message.Split(" (Parameter", 2)[0]}", ExitCodes.BadInput, ex);
                }
                catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or ArgumentException)
                {
                    throw new CliException($"--model: {ex.Message}", ExitCodes.BadInput, ex);
                }

                using var generator = new Generator(folder, sessionOptions);
                if (generator.Tokenizer is null)
                {
                    throw new CliException($"--model: {folder.Directory} has no tokenizer.json; the server needs one.");
                }

                string? template = ResolveTemplate(parse.GetValue(chatTemplate));
                if (template is null && generator.Tokenizer.Config.ChatTemplate is null)
                {
                    LogFallbackTemplate(logger, folder.Directory);
                    template = FallbackChatTemplate;
                }

                OnnxChatClient chat;
                try
                {
                    chat = new OnnxChatClient(generator, new OnnxChatClientOptions { ChatTemplate = template, MaxQueueLength = parse.GetValue(maxQueue), MaxBatchSize = parse.GetValue(maxBatch) }, loggers.CreateLogger<OnnxChatClient>());
                }
                catch (NotSupportedException ex)
                {
                    throw new CliException($"--model: {ex.Message}", ExitCodes.BadInput, ex);
                }

                using OnnxEmbeddingGenerator? embeddings = OpenEmbeddings(parse.GetValue(embeddingModel), sessionOptions);
                using (chat)
                {
                    var options = new OpenAiServerOptions
                    {
                        EmbeddingGenerator = embeddings,
                        Urls = listen,
                        ApiKey = parse.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("MLNT_API_KEY"),
                        MaxRequestBodyBytes = parse.GetValue(maxBody),
                        MaxPromptTokens = parse.GetValue(maxPrompt),
                        MaxTokensLimit = parse.GetValue(maxTokensLimit),
                    };
                    WebApplication app;
                    try
                    {
                        app = OpenAiServer.Create(chat, options, loggers);
                    }
                    catch (FormatException ex)
                    {
                        throw new CliException($"--urls: {ex.Message}", ExitCodes.BadInput, ex);
                    }

                    await using (app.ConfigureAwait(false))
                    {
                        if (!load)
                        {
                            await OpenAiServer.RunAsync(app, addresses => console.Err.WriteLine($"mlnt: serving '{chat.ModelId}' (OpenAI-compatible API under /v1) on {string.Join(", ", addresses)}; Ctrl-C stops"), cancellationToken).ConfigureAwait(false);
                            console.Err.WriteLine("mlnt: server stopped");
                            return ExitCodes.Success;
                        }

                        await app.StartAsync(cancellationToken).ConfigureAwait(false);
                        string address = OpenAiServer.GetListeningUrls(app)[0];
                        console.Err.WriteLine($"mlnt: load test against {address}: {parse.GetValue(loadClients)} streaming clients for {parse.GetValue(loadSeconds)} s");
                        ServeLoadTest.Report report = await ServeLoadTest.RunAsync(new Uri(address), chat.ModelId, options.ApiKey, parse.GetValue(loadClients), TimeSpan.FromSeconds(parse.GetValue(loadSeconds)), parse.GetValue(loadTokens), cancellationToken).ConfigureAwait(false);
                        await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
                        ServeLoadTest.Write(console, report, parse.GetValue(json));
                        return report.Failed == 0 ? ExitCodes.Success : ExitCodes.Failure;
                    }
                }
            }
            catch (Exception ex)
            {
                return console.Fail(ex);
            }
        });
        return command;
    }

    /// <summary>The encoder for /v1/embeddings, or null when none is asked for; a bad folder is a bad-input error.</summary>
    private static OnnxEmbeddingGenerator? OpenEmbeddings(string? path, SessionOptions sessionOptions)
    {
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }

        try
        {
            Embedder embedder = Embedder.Open(path, new EmbedderOptions { Normalize = true }, sessionOptions);
            return new OnnxEmbeddingGenerator(embedder, ownsEmbedder: true);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or ArgumentException)
        {
            throw new CliException($"--embedding-model: {ex.Message}", ExitCodes.BadInput, ex);
        }
    }

    /// <summary>A file's text, or the value itself (template source or a template name); null when not given.</summary>
    private static string? ResolveTemplate(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        return !value.Contains('{', StringComparison.Ordinal) && File.Exists(value) ? File.ReadAllText(value) : value;
    }

    private static void Positive(long value, string name)
    {
        if (value < 1)
        {
            throw new CliException($"{name}: expected a positive number, got {value.ToString(CultureInfo.InvariantCulture)}.");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Model} has no chat template; using the built-in Zephyr-style template (<|role|> lines ending in EOS). Pass --chat-template to choose one.")]
    private static partial void LogFallbackTemplate(ILogger logger, string model);
}

/// <summary>An <see cref="ILoggerFactory"/> writing this invocation's log lines to its stderr: the server's own categories at the
/// given level, the framework's (<c>Microsoft.*</c>) at warning and up.</summary>
internal sealed class CliLoggerFactory(CliConsole console, LogLevel level) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName)
    {
        LogLevel minimum = categoryName.StartsWith("Microsoft.", StringComparison.Ordinal) && level < LogLevel.Warning ? LogLevel.Warning : level;
        return console.CreateLogger(categoryName, minimum);
    }

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }
}
