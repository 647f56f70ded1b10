using MLNetTransformers.Tokenizers;

namespace MLNetTransformers.Generation;

/// <summary>
/// A pretrained model in the Hugging Face / Optimum / transformers.js layout: <c>config.json</c>, tokenizer files, and ONNX
/// files in <c>onnx/</c> (<c>model.onnx</c> and variants such as <c>model_quantized.onnx</c>, <c>model_fp16.onnx</c>,
/// <c>model_q4.onnx</c>, <c>decoder_model_merged.onnx</c>). Opened from the folder or from one of its <c>.onnx</c> files.
/// Immutable; loading the tokenizer or a session is left to the caller.
/// </summary>
public sealed class ModelFolder
{
    private static readonly string[] DefaultModelNames = ["model.onnx", "decoder_model_merged.onnx"];

    private ModelFolder(string directory, string? modelFile)
    {
        Directory = directory;
        string config = System.IO.Path.Combine(directory, "config.json");
        Config = File.Exists(config) ? ModelConfig.Load(config) : null;
        ModelFile = modelFile ?? ResolveOnnxFile();
    }

    /// <summary>The folder's full path.</summary>
    public string Directory { get; }

    /// <summary><c>config.json</c>, or <see langword="null"/> when the folder has none.</summary>
    public ModelConfig? Config { get; }

    /// <summary>
    /// The ONNX file to run: the file the folder was opened from, else the default (<c>onnx/model.onnx</c>, <c>model.onnx</c>,
    /// <c>onnx/decoder_model_merged.onnx</c>, or the only <c>.onnx</c> file in <c>onnx/</c> or the folder).
    /// </summary>
    public string ModelFile { get; }

    /// <summary>Whether the folder has a tokenizer (<c>tokenizer.json</c> or <c>tokenizer.model</c>).</summary>
    public bool HasTokenizer =>
        File.Exists(System.IO.Path.Combine(Directory, "tokenizer.json")) || File.Exists(System.IO.Path.Combine(Directory, "tokenizer.model"));

    /// <summary>
    /// Opens a model folder, or the folder of an <c>.onnx</c> file: the file's own folder, or its parent when the file lies in
    /// an <c>onnx/</c> subfolder whose parent holds <c>config.json</c> or a tokenizer.
    /// </summary>
    /// <param name="path">A folder or an <c>.onnx</c> file.</param>
    /// <returns>The model folder.</returns>
    /// <exception cref="DirectoryNotFoundException">Neither a file nor a folder exists at <paramref name="path"/>.</exception>
    /// <exception cref="FileNotFoundException">A folder without any ONNX file.</exception>
    /// <exception cref="InvalidDataException"><c>config.json</c> is malformed, or a folder holds several candidate files.</exception>
    public static ModelFolder Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = System.IO.Path.GetFullPath(path);
        if (File.Exists(full))
        {
            string directory = System.IO.Path.GetDirectoryName(full)!;
            DirectoryInfo? parent = System.IO.Directory.GetParent(directory);
            if (string.Equals(System.IO.Path.GetFileName(directory), "onnx", StringComparison.Ordinal) && parent is not null && LooksLikeModelRoot(parent.FullName))
            {
                directory = parent.FullName;
            }

            return new ModelFolder(directory, full);
        }

        if (!System.IO.Directory.Exists(full))
        {
            throw new DirectoryNotFoundException($"No such model file or folder: {full}");
        }

        return new ModelFolder(full, null);
    }

    /// <summary>
    /// The path of an ONNX file of this model. <see langword="null"/> gives the default file; a variant name such as
    /// <c>quantized</c>, <c>fp16</c> or <c>q4</c> gives <c>onnx/model_{variant}.onnx</c>; a file name or relative path ending in
    /// <c>.onnx</c> is looked up in <c>onnx/</c> and then the folder. Paths may not leave the folder.
    /// </summary>
    /// <param name="variant">The variant, or <see langword="null"/>.</param>
    /// <returns>The full path of an existing file.</returns>
    /// <exception cref="FileNotFoundException">No such file (the message lists the files there are).</exception>
    /// <exception cref="ArgumentException">The variant names a path outside the folder.</exception>
    /// <exception cref="InvalidDataException">No default and several candidates.</exception>
    public string ResolveOnnxFile(string? variant = null)
    {
        if (variant is null)
        {
            foreach (string name in DefaultModelNames)
            {
                foreach (string candidate in new[] { System.IO.Path.Combine(Directory, "onnx", name), System.IO.Path.Combine(Directory, name) })
                {
                    if (File.Exists(candidate))
                    {
                        return candidate;
                    }
                }
            }

            foreach (string directory in new[] { System.IO.Path.Combine(Directory, "onnx"), Directory })
            {
                string[] files = System.IO.Directory.Exists(directory) ? System.IO.Directory.GetFiles(directory, "*.onnx") : [];
                if (files.Length == 1)
                {
                    return files[0];
                }

                if (files.Length > 1)
                {
                    throw new InvalidDataException($"{directory} holds several .onnx files ({string.Join(", ", files.Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal))}) and no model.onnx; name the one to use.");
                }
            }

            throw new FileNotFoundException($"No .onnx file in {Directory} (looked for onnx/model.onnx, model.onnx, onnx/decoder_model_merged.onnx, and a single .onnx file in onnx/ or the folder).", System.IO.Path.Combine(Directory, "onnx", "model.onnx"));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(variant);
        string relative = variant.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) ? variant : $"model_{variant}.onnx";
        if (System.IO.Path.IsPathRooted(relative) || relative.Replace('\\', '/').Split('/').Contains(".."))
        {
            throw new ArgumentException($"The model variant '{variant}' must be a name or a path inside {Directory}.", nameof(variant));
        }

        foreach (string candidate in new[] { System.IO.Path.Combine(Directory, "onnx", relative), System.IO.Path.Combine(Directory, relative) })
        {
            if (File.Exists(candidate))
            {
                return System.IO.Path.GetFullPath(candidate);
            }
        }

        string available = string.Join(", ", OnnxFiles().Select(f => System.IO.Path.GetRelativePath(Directory, f)));
        throw new FileNotFoundException(
            $"No model variant '{variant}' in {Directory} (looked for onnx/{relative} and {relative}; available: {(available.Length == 0 ? "none" : available)}).",
            System.IO.Path.Combine(Directory, "onnx", relative));
    }

    /// <summary>The <c>.onnx</c> files of the folder and its <c>onnx/</c> subfolder.</summary>
    /// <returns>Full paths, sorted.</returns>
    public IReadOnlyList<string> OnnxFiles() =>
        new[] { System.IO.Path.Combine(Directory, "onnx"), Directory }
            .Where(System.IO.Directory.Exists)
            .SelectMany(d => System.IO.Directory.GetFiles(d, "*.onnx"))
            .Order(StringComparer.Ordinal)
            .ToArray();

    /// <summary>Loads the folder's tokenizer (<c>tokenizer.json</c> with <c>tokenizer_config.json</c>, or <c>tokenizer.model</c>).</summary>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="FileNotFoundException">The folder has no tokenizer.</exception>
    /// <exception cref="InvalidDataException">A tokenizer file is malformed.</exception>
    public Tokenizer LoadTokenizer() => Tokenizer.FromDirectory(Directory);

    private static bool LooksLikeModelRoot(string directory) =>
        File.Exists(System.IO.Path.Combine(directory, "config.json"))
        || File.Exists(System.IO.Path.Combine(directory, "tokenizer.json"))
        || File.Exists(System.IO.Path.Combine(directory, "tokenizer.model"));
}
