using System.Globalization;

namespace VirtTools.Sandbox;

/// <summary>One entry of a driver's id table: vendor/device (null = any), or a class, or vfio-pci's override-only wildcard.</summary>
internal sealed record PciIdMatch(int? Vendor, int? Device, int? ClassCode, bool IsOverrideOnly)
{
    public static readonly PciIdMatch OverrideOnly = new(null, null, null, true);

    public static PciIdMatch ForClass(int classCode) => new(null, null, classCode, false);

    /// <summary>"8086:100e" or "1af4:*".</summary>
    public static PciIdMatch Parse(string id)
    {
        var parts = id.Split(':');
        static int? Field(string s) => s == "*" ? null : int.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return new PciIdMatch(Field(parts[0]), Field(parts[1]), null, false);
    }

    /// <summary>new_id/remove_id text: at least "vvvv dddd" in hex, else null (EINVAL).</summary>
    public static PciIdMatch? FromNewId(string text)
    {
        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (fields.Length < 2) return null;
        if (!int.TryParse(fields[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var vendor)) return null;
        if (!int.TryParse(fields[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var device)) return null;
        return new PciIdMatch(vendor, device, null, false);
    }

    public bool Matches(PciFunctionFacts function) =>
        (Vendor is null || Vendor == function.Vendor) && (Device is null || Device == function.Device) &&
        (ClassCode is null || ClassCode == function.ClassCode);

    public bool Covers(PciIdMatch id) => (Vendor is null || Vendor == id.Vendor) && (Device is null || Device == id.Device) && ClassCode is null;

    public override string ToString() =>
        $"{Vendor?.ToString("x4", CultureInfo.InvariantCulture) ?? "*"}:{Device?.ToString("x4", CultureInfo.InvariantCulture) ?? "*"}";
}
