using System.Text;
using System.Text.RegularExpressions;
using MLNetTransformers.Onnx.Protos;

namespace MLNetTransformers.Onnx.Quantization;

/// <summary>Include/exclude node patterns (see <see cref="QuantizationOptions.IncludeNodes"/>).</summary>
internal sealed class NodeSelection
{
    private readonly Regex[] _include;
    private readonly Regex[] _exclude;

    public NodeSelection(IEnumerable<string> include, IEnumerable<string> exclude)
    {
        _include = include.Select(Compile).ToArray();
        _exclude = exclude.Select(Compile).ToArray();
    }

    /// <summary>True when an include list was given and matches the node: failures to quantize it are errors, not skips.</summary>
    public bool IsExplicitlyIncluded(NodeProto node) => _include.Length > 0 && Any(_include, node);

    /// <summary>True when the node is excluded, or an include list was given and does not match it.</summary>
    public bool IsExcluded(NodeProto node) => (_include.Length > 0 && !Any(_include, node)) || Any(_exclude, node);

    private static bool Any(Regex[] patterns, NodeProto node) =>
        patterns.Any(p => p.IsMatch(node.Name) || node.Output.Any(o => p.IsMatch(o)));

    private static Regex Compile(string pattern)
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        if (pattern.IndexOfAny(['*', '?']) < 0)
        {
            return new Regex(Regex.Escape(pattern), RegexOptions.CultureInvariant);
        }

        var builder = new StringBuilder("^");
        foreach (char c in pattern)
        {
            builder.Append(c switch
            {
                '*' => ".*",
                '?' => ".",
                _ => Regex.Escape(c.ToString()),
            });
        }

        return new Regex(builder.Append('$').ToString(), RegexOptions.CultureInvariant | RegexOptions.Singleline);
    }
}
