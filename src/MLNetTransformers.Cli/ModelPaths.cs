namespace MLNetTransformers.Cli;

/// <summary>Resolves <c>--model</c> (a Hugging Face-layout folder or a plain <c>.onnx</c> file) to the ONNX file to load.</summary>
internal static class ModelPaths
{
    /// <summary>
    /// A file is used as is. In a folder the first of <c>onnx/model.onnx</c>, <c>model.onnx</c>, or the only <c>.onnx</c> file in
    /// <c>onnx/</c> or the folder itself is used.
    /// </summary>
    public static string ResolveOnnxFile(string model)
    {
        string full = Path.GetFullPath(model);
        if (File.Exists(full))
        {
            return full;
        }

        if (!Directory.Exists(full))
        {
            throw new CliException($"--model: no such file or folder: {full}");
        }

        foreach (string candidate in new[] { Path.Combine(full, "onnx", "model.onnx"), Path.Combine(full, "model.onnx") })
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        foreach (string directory in new[] { Path.Combine(full, "onnx"), full })
        {
            if (!Directory.Exists(directory))
            {
                continue;
            }

            string[] files = Directory.GetFiles(directory, "*.onnx");
            if (files.Length == 1)
            {
                return files[0];
            }

            if (files.Length > 1)
            {
                throw new CliException($"--model: {directory} holds several .onnx files ({string.Join(", ", files.Select(Path.GetFileName).Order(StringComparer.Ordinal))}); name the file to use.");
            }
        }

        throw new CliException($"--model: no .onnx file in {full} (looked for onnx/model.onnx, model.onnx, and a single .onnx file in onnx/ or the folder).");
    }
}
