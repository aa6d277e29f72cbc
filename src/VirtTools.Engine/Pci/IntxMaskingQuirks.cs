namespace VirtTools.Pci;

/// <summary>
/// Devices the kernel marks broken_intx_masking in drivers/pci/quirks.c: DisINTx is implemented but does not
/// silence the line, so pci_intx_mask_supported() says no whatever config space shows.
/// </summary>
public static class IntxMaskingQuirks
{
    private static readonly HashSet<(int Vendor, int Device)> Broken = new()
    {
        (0x1425, 0x0030), // Chelsio T3
        (0x1814, 0x0601), // Ralink RT2800 802.11n PCI
        (0x1b7c, 0x0004), // Ceton InfiniTV4
        (0x10ec, 0x8169), // Realtek RTL8169
        (0x1102, 0x000b), // Creative Sound Blaster X-Fi (20K2)
        // Intel XL710/X710/XXV710 family and the X722 (i40e): the quirk lists them one by one.
        (0x8086, 0x1572), (0x8086, 0x1574), (0x8086, 0x1580), (0x8086, 0x1581), (0x8086, 0x1583),
        (0x8086, 0x1584), (0x8086, 0x1585), (0x8086, 0x1586), (0x8086, 0x1587), (0x8086, 0x1588),
        (0x8086, 0x1589), (0x8086, 0x158a), (0x8086, 0x158b), (0x8086, 0x37d0), (0x8086, 0x37d1),
        (0x8086, 0x37d2),
    };

    public static bool IsBroken(string? vendorId, string? deviceId) =>
        Sysfs.SysfsText.ParseHex(vendorId) is int vendor && Sysfs.SysfsText.ParseHex(deviceId) is int device
        && Broken.Contains((vendor, device));
}
