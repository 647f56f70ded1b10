using MLNetTransformers.Tokenizers;

namespace MLNetTransformers.Generation;

/// <summary>
/// A pretrained model in the Hugging Face / Optimum / transformers.js layout: <c>config.json</c>, tokenizer files, and ONNX
/// files in <c>onnx/</c> (<c>model.onnx</c> and variants such as <c>model_quantized.onnx</c>, <c>model_fp16.onnx</c>,
/// <c>model_q4.onnx</c>, <c>decoder_model_merged.onnx</c>, a <c>decoder_model.onnx</c> + <c>decoder_with_past_model.onnx</c>
/// pair). Opened from the folder or from one of its <c>.onnx</c> files, optionally choosing the variant by a dtype named as
/// transformers.js names them (see <see cref="Open(string, string?)"/>).
/// Immutable; loading the tokenizer or a session is left to the caller.
/// </summary>
public sealed class ModelFolder
{
    private const string PairPrefillName = "decoder_model";
    private const string PairDecodeName = "decoder_with_past_model";

    // transformers.js's dtype → file suffix table (utils/dtypes.js), plus "quantized" for the suffix itself.
    private static readonly Dictionary<string, string> DtypeSuffixes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["fp32"] = string.Empty,
        ["fp16"] = "_fp16",
        ["q8"] = "_quantized",
        ["quantized"] = "_quantized",
        ["int8"] = "_int8",
        ["uint8"] = "_uint8",
        ["q4"] = "_q4",
        ["q4f16"] = "_q4f16",
        ["bnb4"] = "_bnb4",
    };

    private ModelFolder(string directory, string? modelFile, string? dtype)
    {
        Directory = directory;
        string config = System.IO.Path.Combine(directory, "config.json");
        Config = File.Exists(config) ? ModelConfig.Load(config) : null;
        Dtype = dtype;
        if (modelFile is not null)
        {
            ModelFile = modelFile;
            WithPastModelFile = PairPartner(modelFile);
        }
        else
        {
            (ModelFile, WithPastModelFile) = dtype is null ? ResolveDefault() : ResolveDtype(dtype);
        }
    }

    /// <summary>The dtype the variant was chosen by (<c>fp32</c>, <c>fp16</c>, <c>q8</c>, <c>int8</c>, <c>uint8</c>, <c>q4</c>,
    /// <c>q4f16</c>, <c>bnb4</c>), or <see langword="null"/> for the default file.</summary>
    public string? Dtype { get; }

    /// <summary>
    /// The decode graph of a decoder pair (<c>decoder_with_past_model*.onnx</c>) when <see cref="ModelFile"/> is the pair's prefill
    /// graph (<c>decoder_model*.onnx</c>); otherwise <see langword="null"/>.
    /// </summary>
    public string? WithPastModelFile { get; }

    /// <summary>The dtype names <see cref="Open(string, string?)"/> accepts.</summary>
    public static IReadOnlyCollection<string> Dtypes => DtypeSuffixes.Keys;

    /// <summary>The folder's full path.</summary>
    public string Directory { get; }

    /// <summary><c>config.json</c>, or <see langword="null"/> when the folder has none.</summary>
    public ModelConfig? Config { get; }

    /// <summary>
    /// The ONNX file to run: the file the folder was opened from, else the file of the dtype's variant, else the default
    /// (<c>onnx/model.onnx</c>, <c>model.onnx</c>, <c>onnx/decoder_model_merged.onnx</c>, the pair's <c>onnx/decoder_model.onnx</c>, or
    /// the only <c>.onnx</c> file in <c>onnx/</c> or the folder).
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
    public static ModelFolder Open(string path) => Open(path, null);

    /// <summary>
    /// Opens a model folder choosing the ONNX variant by dtype, as transformers.js does: <c>fp32</c> → <c>model.onnx</c>,
    /// <c>fp16</c> → <c>model_fp16.onnx</c>, <c>q8</c> (or <c>quantized</c>) → <c>model_quantized.onnx</c>, <c>int8</c>,
    /// <c>uint8</c>, <c>q4</c>, <c>q4f16</c>, <c>bnb4</c> → <c>model_{dtype}.onnx</c>. For each dtype the candidates are, in
    /// <c>onnx/</c> and then the folder: <c>model{suffix}.onnx</c>, <c>decoder_model_merged{suffix}.onnx</c>, the pair
    /// <c>decoder_model{suffix}.onnx</c> + <c>decoder_with_past_model{suffix}.onnx</c>, and <c>decoder_model{suffix}.onnx</c> alone.
    /// Which decoder layout a file has is read from its graph when it is loaded, not from its name.
    /// </summary>
    /// <param name="path">A folder or an <c>.onnx</c> file (then <paramref name="dtype"/> must be <see langword="null"/>).</param>
    /// <param name="dtype">The dtype, or <see langword="null"/> for the default file.</param>
    /// <returns>The model folder.</returns>
    /// <exception cref="DirectoryNotFoundException">Neither a file nor a folder exists at <paramref name="path"/>.</exception>
    /// <exception cref="FileNotFoundException">No file for the dtype (the message lists the files there are).</exception>
    /// <exception cref="ArgumentException">An unknown dtype (the message lists the known ones), or a dtype with a file path.</exception>
    /// <exception cref="InvalidDataException"><c>config.json</c> is malformed, or a folder holds several candidate files.</exception>
    public static ModelFolder Open(string path, string? dtype)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (dtype is not null && !DtypeSuffixes.ContainsKey(dtype))
        {
            throw new ArgumentException($"Unknown dtype '{dtype}'; expected one of {string.Join(", ", DtypeSuffixes.Keys)}.", nameof(dtype));
        }

        string full = System.IO.Path.GetFullPath(path);
        if (File.Exists(full))
        {
            string directory = System.IO.Path.GetDirectoryName(full)!;
            DirectoryInfo? parent = System.IO.Directory.GetParent(directory);
            if (string.Equals(System.IO.Path.GetFileName(directory), "onnx", StringComparison.Ordinal) && parent is not null && LooksLikeModelRoot(parent.FullName))
            {
                directory = parent.FullName;
            }

            if (dtype is not null)
            {
                throw new ArgumentException($"A dtype ('{dtype}') chooses among a folder's files; {full} is a file.", nameof(dtype));
            }

            return new ModelFolder(directory, full, null);
        }

        if (!System.IO.Directory.Exists(full))
        {
            throw new DirectoryNotFoundException($"No such model file or folder: {full}");
        }

        return new ModelFolder(full, null, dtype?.ToLowerInvariant());
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
            return ResolveDefault().Model;
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

    /// <summary>The default files: the fp32 candidates, else the only <c>.onnx</c> file of <c>onnx/</c> or the folder.</summary>
    private (string Model, string? WithPast) ResolveDefault()
    {
        if (FindCandidates(string.Empty) is { } found)
        {
            return found;
        }

        foreach (string directory in new[] { System.IO.Path.Combine(Directory, "onnx"), Directory })
        {
            string[] files = System.IO.Directory.Exists(directory) ? System.IO.Directory.GetFiles(directory, "*.onnx") : [];
            if (files.Length == 1)
            {
                return (files[0], null);
            }

            if (files.Length > 1)
            {
                throw new InvalidDataException($"{directory} holds several .onnx files ({string.Join(", ", files.Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal))}) and no model.onnx; name the one to use.");
            }
        }

        throw new FileNotFoundException($"No .onnx file in {Directory} (looked for {CandidateList(string.Empty)}, and a single .onnx file in onnx/ or the folder).", System.IO.Path.Combine(Directory, "onnx", "model.onnx"));
    }

    private (string Model, string? WithPast) ResolveDtype(string dtype)
    {
        string suffix = DtypeSuffixes[dtype];
        if (FindCandidates(suffix) is { } found)
        {
            return found;
        }

        string available = string.Join(", ", OnnxFiles().Select(f => System.IO.Path.GetRelativePath(Directory, f)));
        throw new FileNotFoundException(
            $"No {dtype} model in {Directory} (looked for {CandidateList(suffix)}; available: {(available.Length == 0 ? "none" : available)}).",
            System.IO.Path.Combine(Directory, "onnx", $"model{suffix}.onnx"));
    }

    /// <summary>model{suffix}, decoder_model_merged{suffix}, the pair, then decoder_model{suffix} alone; in onnx/ and then the folder.</summary>
    private (string Model, string? WithPast)? FindCandidates(string suffix)
    {
        foreach (string name in new[] { "model", "decoder_model_merged", PairPrefillName })
        {
            foreach (string directory in new[] { System.IO.Path.Combine(Directory, "onnx"), Directory })
            {
                string candidate = System.IO.Path.Combine(directory, name + suffix + ".onnx");
                if (File.Exists(candidate))
                {
                    return (candidate, PairPartner(candidate));
                }
            }
        }

        return null;
    }

    private static string CandidateList(string suffix) =>
        $"onnx/model{suffix}.onnx, onnx/decoder_model_merged{suffix}.onnx, onnx/{PairPrefillName}{suffix}.onnx (+ {PairDecodeName}{suffix}.onnx) and the same in the folder";

    /// <summary>decoder_with_past_model{suffix}.onnx beside a decoder_model{suffix}.onnx, when it exists.</summary>
    private static string? PairPartner(string modelFile)
    {
        string name = System.IO.Path.GetFileName(modelFile);
        if (!name.StartsWith(PairPrefillName, StringComparison.Ordinal) || name.StartsWith("decoder_model_merged", StringComparison.Ordinal))
        {
            return null;
        }

        string partner = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(modelFile)!, PairDecodeName + name[PairPrefillName.Length..]);
        return File.Exists(partner) ? partner : null;
    }

    private static bool LooksLikeModelRoot(string directory) =>
        File.Exists(System.IO.Path.Combine(directory, "config.json"))
        || File.Exists(System.IO.Path.Combine(directory, "tokenizer.json"))
        || File.Exists(System.IO.Path.Combine(directory, "tokenizer.model"));
}
