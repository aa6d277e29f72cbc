using System.Globalization;

namespace VirtTools.Pci;

/// <summary>
/// PCI function addresses as the kernel names them in sysfs: "DDDD:BB:DD.F", lowercase hex. Users may leave the
/// domain out ("05:06.0"), as lspci prints it; that means domain 0000.
/// </summary>
public static class PciAddress
{
    public const string DefaultDomain = "0000";

    /// <summary>The canonical "0000:05:06.0" form of an address, or null when the text is not a PCI address.</summary>
    public static string? Normalize(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var parts = text.Trim().Split(':');
        if (parts.Length == 2) parts = new[] { DefaultDomain, parts[0], parts[1] };
        if (parts.Length != 3) return null;
        var slot = parts[2].Split('.');
        if (slot.Length != 2) return null;
        if (!TryHex(parts[0], 4, 0xffff, out var domain) || !TryHex(parts[1], 2, 0xff, out var bus)
            || !TryHex(slot[0], 2, 0x1f, out var device) || !TryHex(slot[1], 1, 7, out var function))
            return null;
        return string.Create(CultureInfo.InvariantCulture, $"{domain:x4}:{bus:x2}:{device:x2}.{function:x}");
    }

    /// <summary>
    /// A user's wildcard pattern made comparable with canonical addresses: lowercase, and "0000:" put in front
    /// of a pattern that names bus, device and function but no domain ("05:*" → "0000:05:*").
    /// </summary>
    public static string NormalizePattern(string pattern)
    {
        var p = pattern.Trim().ToLowerInvariant();
        var colons = p.Count(c => c == ':');
        return colons == 1 && !p.StartsWith('*') ? DefaultDomain + ":" + p : p;
    }

    private static bool TryHex(string text, int maxDigits, int max, out int value)
    {
        value = 0;
        return text.Length >= 1 && text.Length <= maxDigits
               && int.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
               && value <= max;
    }
}
