using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace VirtTools.Pci;

/// <summary>
/// A PCI function's address: domain, bus, device, function. Its text is the kernel's sysfs name, "DDDD:BB:DD.F" in
/// lowercase hex; users may leave the domain out ("05:06.0"), as lspci prints it, which means domain 0000. Each part
/// has its full width ("5:0.0" is no address), in either case. Ordered by
/// the numbers, so a sorted list reads like lspci. PowerShell binds a string to it through the public static Parse.
/// </summary>
public readonly record struct PciAddress : IComparable<PciAddress>, IComparable
{
    public const string DefaultDomain = "0000";

    public PciAddress(int domain, int bus, int device, int function)
    {
        if (domain is < 0 or > 0xffff) throw new ArgumentOutOfRangeException(nameof(domain), domain, "A PCI domain is 0 to ffff.");
        if (bus is < 0 or > 0xff) throw new ArgumentOutOfRangeException(nameof(bus), bus, "A PCI bus is 0 to ff.");
        if (device is < 0 or > 0x1f) throw new ArgumentOutOfRangeException(nameof(device), device, "A PCI device is 0 to 1f.");
        if (function is < 0 or > 7) throw new ArgumentOutOfRangeException(nameof(function), function, "A PCI function is 0 to 7.");
        Domain = domain;
        Bus = bus;
        Device = device;
        Function = function;
    }

    public int Domain { get; }
    public int Bus { get; }
    public int Device { get; }
    public int Function { get; }

    /// <summary>The address in the text, with or without its domain; false when the text is not a PCI address.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out PciAddress address)
    {
        address = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var parts = text.Trim().Split(':');
        if (parts.Length == 2) parts = new[] { DefaultDomain, parts[0], parts[1] };
        if (parts.Length != 3) return false;
        var slot = parts[2].Split('.');
        if (slot.Length != 2) return false;
        if (!TryHex(parts[0], 4, 0xffff, out var domain) || !TryHex(parts[1], 2, 0xff, out var bus)
            || !TryHex(slot[0], 2, 0x1f, out var device) || !TryHex(slot[1], 1, 7, out var function))
            return false;
        address = new PciAddress(domain, bus, device, function);
        return true;
    }

    /// <summary>The address in the text; a FormatException naming the text when it is none (what a parameter binding shows).</summary>
    public static PciAddress Parse(string text) => TryParse(text, out var address)
        ? address
        : throw new FormatException($"'{text}' is not a PCI address: give DDDD:BB:DD.F (0000:05:06.0) or BB:DD.F (05:06.0).");

    /// <summary>The address a directory or link name is, only when it is the kernel's canonical spelling ("0000:05:06.0").</summary>
    public static bool TryParseKernelName([NotNullWhen(true)] string? name, out PciAddress address) =>
        TryParse(name, out address) && address.ToString() == name;

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

    /// <summary>"05:06.0": what lspci prints for domain 0000, the full text for any other.</summary>
    public string ToShortString() => Domain == 0
        ? string.Create(CultureInfo.InvariantCulture, $"{Bus:x2}:{Device:x2}.{Function:x}")
        : ToString();

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Domain:x4}:{Bus:x2}:{Device:x2}.{Function:x}");

    public int CompareTo(PciAddress other) =>
        (Domain, Bus, Device, Function).CompareTo((other.Domain, other.Bus, other.Device, other.Function));

    int IComparable.CompareTo(object? other) => other switch
    {
        null => 1,
        PciAddress address => CompareTo(address),
        _ => throw new ArgumentException("Compare a PciAddress with a PciAddress.", nameof(other)),
    };

    public static bool operator <(PciAddress left, PciAddress right) => left.CompareTo(right) < 0;
    public static bool operator >(PciAddress left, PciAddress right) => left.CompareTo(right) > 0;
    public static bool operator <=(PciAddress left, PciAddress right) => left.CompareTo(right) <= 0;
    public static bool operator >=(PciAddress left, PciAddress right) => left.CompareTo(right) >= 0;

    /// <summary>Exactly <paramref name="digits"/> hex digits, as the kernel and lspci write each part.</summary>
    private static bool TryHex(string text, int digits, int max, out int value)
    {
        value = 0;
        return text.Length == digits
               && int.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
               && value <= max;
    }
}
