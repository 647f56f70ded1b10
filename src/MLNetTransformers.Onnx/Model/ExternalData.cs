using System.IO.MemoryMappedFiles;
using MLNetTransformers.Onnx.Protos;

namespace MLNetTransformers.Onnx.Model;

/// <summary>Where one tensor's bytes live outside the model file (<c>TensorProto.external_data</c>).</summary>
/// <param name="Location">The file, relative to the model's folder.</param>
/// <param name="Offset">The byte offset in that file.</param>
/// <param name="Length">The byte length, or -1 for "to the end of the file".</param>
public sealed record ExternalDataReference(string Location, long Offset, long Length)
{
    /// <summary>Reads and validates a tensor's external-data entries.</summary>
    /// <param name="tensor">A tensor with <c>data_location = EXTERNAL</c>.</param>
    /// <param name="file">The model file (for messages).</param>
    /// <returns>The reference.</returns>
    /// <exception cref="InvalidDataException">A key is missing or malformed, or the location escapes the model's folder.</exception>
    public static ExternalDataReference FromTensor(TensorProto tensor, string file)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        string? location = null;
        long offset = 0, length = -1;
        foreach (StringStringEntryProto entry in tensor.ExternalData)
        {
            switch (entry.Key)
            {
                case "location":
                    location = entry.Value;
                    break;
                case "offset" when !long.TryParse(entry.Value, System.Globalization.CultureInfo.InvariantCulture, out offset) || offset < 0:
                case "length" when !long.TryParse(entry.Value, System.Globalization.CultureInfo.InvariantCulture, out length) || length < 0:
                    throw new InvalidDataException($"{file}: initializer '{tensor.Name}': external_data {entry.Key} '{entry.Value}' is not a non-negative integer.");
            }
        }

        if (string.IsNullOrEmpty(location))
        {
            throw new InvalidDataException($"{file}: initializer '{tensor.Name}': external_data has no location.");
        }

        CheckLocation(location, tensor.Name, file);
        return new ExternalDataReference(location, offset, length);
    }

    /// <summary>
    /// Rejects a location that could read outside the model's folder: absolute paths, drive or UNC roots, and any <c>..</c> segment.
    /// </summary>
    internal static void CheckLocation(string location, string tensorName, string file)
    {
        string normalized = location.Replace('\\', '/');
        bool escapes = Path.IsPathRooted(location) || normalized.StartsWith('/') || (normalized.Length > 1 && normalized[1] == ':')
            || normalized.Split('/').Any(segment => segment == "..");
        if (escapes)
        {
            throw new InvalidDataException($"{file}: initializer '{tensorName}': external data location '{location}' must be a relative path inside the model's folder.");
        }
    }
}

/// <summary>
/// Reads external tensor data through memory maps, one per file, opened on first use: weights are not read until asked for.
/// Thread-safe. Disposing unmaps the files.
/// </summary>
internal sealed class ExternalDataStore(string directory, string modelFile) : IDisposable
{
    private readonly Dictionary<string, (MemoryMappedFile Map, long Length)> _files = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public string Directory { get; } = directory;

    public IReadOnlyCollection<string> OpenedFiles
    {
        get
        {
            lock (_gate)
            {
                return _files.Keys.ToArray();
            }
        }
    }

    /// <summary>Copies the referenced bytes.</summary>
    public byte[] Read(ExternalDataReference reference, string tensorName)
    {
        var (map, fileLength) = Open(reference.Location, tensorName);
        long length = reference.Length >= 0 ? reference.Length : fileLength - reference.Offset;
        if (reference.Offset + length > fileLength || length > int.MaxValue)
        {
            throw new InvalidDataException(
                $"{modelFile}: initializer '{tensorName}': external data {reference.Location} [{reference.Offset}, +{length}) is outside the file ({fileLength} bytes).");
        }

        var bytes = new byte[length];
        if (length > 0)
        {
            using MemoryMappedViewStream view = map.CreateViewStream(reference.Offset, length, MemoryMappedFileAccess.Read);
            view.ReadExactly(bytes);
        }

        return bytes;
    }

    private (MemoryMappedFile Map, long Length) Open(string location, string tensorName)
    {
        lock (_gate)
        {
            if (_files.TryGetValue(location, out var open))
            {
                return open;
            }

            string path = Path.GetFullPath(Path.Combine(Directory, location));
            string root = Path.GetFullPath(Directory).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
            if (!path.StartsWith(root, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"{modelFile}: initializer '{tensorName}': external data location '{location}' resolves outside the model's folder.");
            }

            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"{modelFile}: initializer '{tensorName}': external data file not found: {path}", path);
            }

            long length = new FileInfo(path).Length;
            MemoryMappedFile map = length == 0
                ? MemoryMappedFile.CreateNew(null, 1)
                : MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            _files[location] = (map, length);
            return (map, length);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var (map, _) in _files.Values)
            {
                map.Dispose();
            }

            _files.Clear();
        }
    }
}
