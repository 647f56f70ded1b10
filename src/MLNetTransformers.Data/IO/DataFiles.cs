namespace MLNetTransformers.Data.IO;

/// <summary>File opening with errors that name the file, and format choice by extension.</summary>
internal static class DataFiles
{
    public static FileStream OpenRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException($"The data file '{path}' does not exist.", path, e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new FileNotFoundException($"The data file '{path}' does not exist (no such directory).", path, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"The data file '{path}' cannot be read: {e.Message}", e);
        }
    }

    public static FileStream Create(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"The data file '{path}' cannot be written: {e.Message}", e);
        }
    }

    public static char SeparatorFor(string path, char? separator)
    {
        if (separator is char c)
        {
            return c is '"' or '\r' or '\n' ? throw new ArgumentException($"'{c}' cannot separate fields.", nameof(separator)) : c;
        }

        string ext = Path.GetExtension(path);
        return ext.Equals(".tsv", StringComparison.OrdinalIgnoreCase) || ext.Equals(".tab", StringComparison.OrdinalIgnoreCase) ? '\t' : ',';
    }

    public static DataFileFormat FormatOf(string path)
    {
        string ext = Path.GetExtension(path).ToUpperInvariant();
        return ext switch
        {
            ".CSV" or ".TXT" or ".TSV" or ".TAB" => DataFileFormat.Text,
            ".JSONL" or ".NDJSON" => DataFileFormat.JsonLines,
            ".IDV" => DataFileFormat.Binary,
            _ => throw new ArgumentException(
                $"Cannot tell the format of '{path}' from its extension; use .csv, .tsv, .jsonl or .idv, or a format-specific method.", nameof(path)),
        };
    }
}

/// <summary>The file formats of the loaders and savers.</summary>
internal enum DataFileFormat
{
    Text,
    JsonLines,
    Binary,
}
