using VirtTools.Tests.Support;

namespace VirtTools.Tests.Engine.Pci;

/// <summary>Writes PCI functions into a TemporaryTree the way sysfs lays them out (device dir + bus link).</summary>
internal static class SyntheticPci
{
    /// <summary>A function with the attributes every kernel has; callers add the rest.</summary>
    /// <param name="under">The device directory of the bridge the function sits behind; the root bus when null.</param>
    public static string Function(this TemporaryTree tree, string address, string vendor = "0x8086", string device = "0x100e",
        string cls = "0x020000", int irq = 11, byte[]? config = null, string? driver = null, int enable = 1, string? under = null)
    {
        var dir = $"{under ?? "/sys/devices/pci0000:00"}/{address}";
        var up = string.Concat(Enumerable.Repeat("../", dir.Count(c => c == '/') - 1)); // from dir's children to /sys
        tree.File(dir + "/vendor", vendor).File(dir + "/device", device).File(dir + "/class", cls)
            .File(dir + "/irq", irq.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .File(dir + "/enable", enable.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Link($"/sys/bus/pci/devices/{address}", "../../.." + dir[4..]);
        if (config is not null) tree.Bytes(dir + "/config", config);
        if (driver is not null)
        {
            tree.Directory($"/sys/bus/pci/drivers/{driver}");
            tree.Link(dir + "/driver", $"{up}bus/pci/drivers/{driver}");
        }
        return dir;
    }

    /// <summary>msi_irqs/N files holding "msi" or "msix", as kernels since 3.13 write them.</summary>
    public static TemporaryTree Msi(this TemporaryTree tree, string deviceDir, string kind, params int[] irqs)
    {
        foreach (var irq in irqs) tree.File($"{deviceDir}/msi_irqs/{irq}", kind);
        return tree;
    }

    /// <summary>Puts functions in IOMMU group <paramref name="group"/>: the iommu_group links both ways, as the kernel makes them.</summary>
    public static TemporaryTree Group(this TemporaryTree tree, int group, params string[] deviceDirs)
    {
        tree.Directory($"/sys/kernel/iommu_groups/{group}/devices");
        foreach (var dir in deviceDirs)
        {
            var up = string.Concat(Enumerable.Repeat("../", dir.Count(c => c == '/') - 1));
            tree.Link(dir + "/iommu_group", $"{up}kernel/iommu_groups/{group}");
            tree.Link($"/sys/kernel/iommu_groups/{group}/devices/{Path.GetFileName(dir)}", "../../../.." + dir[4..]);
        }
        return tree;
    }

    /// <summary>
    /// A PCI Express config space (4096 bytes): the Express capability at 0x40 (FLR in Device Capabilities when asked)
    /// and, when <paramref name="acsControl"/> is given, an ACS extended capability at 0x100 with every feature.
    /// </summary>
    public static byte[] Express(bool flr = false, ushort? acsControl = null, byte headerType = 0)
    {
        var bytes = Config(status: 0x0010, headerType: headerType, length: 4096);
        bytes[0x34] = 0x40;
        bytes[0x40] = 0x10; // PCI Express capability, last in the list
        if (flr) bytes[0x44 + 3] = 0x10; // Device Capabilities bit 28
        if (acsControl is ushort control)
        {
            bytes[0x100] = 0x0D; bytes[0x102] = 0x01; // ACS, version 1, no next
            bytes[0x104] = 0x1F; // SV TB RR CR UF supported
            bytes[0x106] = (byte)control; bytes[0x107] = (byte)(control >> 8);
        }
        return bytes;
    }

    /// <summary>A 64-byte header (what a non-root read returns), or 256 bytes when conventional is asked for.</summary>
    public static byte[] Config(ushort command = 0x0007, ushort status = 0, byte headerType = 0, byte line = 11, byte pin = 1, int length = 64)
    {
        var bytes = new byte[length];
        bytes[0] = 0x86; bytes[1] = 0x80;
        bytes[4] = (byte)command; bytes[5] = (byte)(command >> 8);
        bytes[6] = (byte)status; bytes[7] = (byte)(status >> 8);
        bytes[0x0E] = headerType;
        bytes[0x3C] = line;
        bytes[0x3D] = pin;
        return bytes;
    }
}
