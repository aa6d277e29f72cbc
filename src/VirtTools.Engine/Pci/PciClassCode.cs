using System.Globalization;

namespace VirtTools.Pci;

/// <summary>Class codes as users type them: "0x0200", "0200", "02", "0x020000" match by prefix of the six hex digits.</summary>
public static class PciClassCode
{
    /// <summary>"0x020000" from the class attribute's value.</summary>
    public static string? Format(int? classCode) =>
        classCode is int c and >= 0 and <= 0xffffff ? "0x" + c.ToString("x6", CultureInfo.InvariantCulture) : null;

    /// <summary>The 24-bit value of a formatted class code ("0x060100" → 0x060100); null when there is none.</summary>
    public static int? Parse(string? classCode) =>
        classCode is { Length: 8 } && int.TryParse(classCode.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var c) ? c : null;

    /// <summary>Turns a filter into the hex prefix it stands for; false when it is not 2, 4 or 6 hex digits.</summary>
    public static bool TryParsePrefix(string? filter, out string prefix)
    {
        prefix = "";
        if (string.IsNullOrWhiteSpace(filter)) return false;
        var digits = filter.Trim().ToLowerInvariant();
        if (digits.StartsWith("0x", StringComparison.Ordinal)) digits = digits[2..];
        if (digits.Length is not (2 or 4 or 6) || !digits.All(Uri.IsHexDigit)) return false;
        prefix = digits;
        return true;
    }

    public static bool MatchesPrefix(string? classCode, string prefix) =>
        classCode is { Length: 8 } && classCode.AsSpan(2).StartsWith(prefix, StringComparison.OrdinalIgnoreCase);
}
