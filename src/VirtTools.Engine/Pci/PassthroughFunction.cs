using System.Globalization;
using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>
/// What passthrough needs to know about one PCI function, read fresh from sysfs each time (the driver link is
/// the truth after every write).
/// </summary>
internal sealed record PassthroughFunction(string Address, SysfsDirectory Device, string? VendorId, string? DeviceId,
    int? ClassCode, string? Driver, string? DriverOverride, int? IommuGroup, bool IsBridge, bool IsBootVga)
{
    public const string DevicesPath = "/sys/bus/pci/devices";

    public string Ids => $"{VendorId ?? "????"}:{DeviceId ?? "????"}";

    public string DriverOverridePath => $"{DevicesPath}/{Address}/driver_override";

    /// <summary>The function at a full address ("0000:00:02.0"); null when this root has no such function.</summary>
    public static PassthroughFunction? Read(SystemRoot root, string address)
    {
        var device = root.Directory($"{DevicesPath}/{address}");
        if (!device.Exists) return null;
        var driverOverride = device.String("driver_override");
        var group = device.LinkName("iommu_group");
        int? classCode = device.Hex("class");
        return new PassthroughFunction(address, device, device.Id("vendor"), device.Id("device"), classCode,
            device.LinkName("driver"), driverOverride is null or "(null)" or "" ? null : driverOverride,
            int.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out var g) ? g : null,
            IsBridgeHeader(device, classCode), device.Int("boot_vga") == 1);
    }

    /// <summary>A bridge has header type 1 (PCI-PCI) or 2 (CardBus) in config space; without config, its class says so.</summary>
    private static bool IsBridgeHeader(SysfsDirectory device, int? classCode)
    {
        try
        {
            using var config = new FileStream(device.Combine("config"), FileMode.Open, FileAccess.Read);
            if (config.Length > 0x0e)
            {
                config.Position = 0x0e;
                return (config.ReadByte() & 0x7f) is 1 or 2;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return classCode >> 8 is 0x0604 or 0x0607;
    }
}
