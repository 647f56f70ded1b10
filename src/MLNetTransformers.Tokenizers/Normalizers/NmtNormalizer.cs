using System.Text;

namespace MLNetTransformers.Tokenizers.Normalizers;

/// <summary>SentencePiece's NMT clean-up: drops some control characters and maps others (and special spaces) to a space.</summary>
internal sealed class NmtNormalizer : Normalizer
{
    public override Core.NormalizedString Normalize(Core.NormalizedString text) => MapRunes(text, static (rune, output) =>
    {
        int c = rune.Value;
        if (c is (>= 0x0001 and <= 0x0008) or 0x000B or (>= 0x000E and <= 0x001F) or 0x007F or 0x008F or 0x009F)
        {
            return true; // removed
        }

        if (c is 0x0009 or 0x000A or 0x000C or 0x000D or 0x1680 or (>= 0x200B and <= 0x200F) or 0x2028 or 0x2029 or 0x2581 or 0xFEFF or 0xFFFD)
        {
            output.Append(' ');
            return true;
        }

        return false;
    });
}
