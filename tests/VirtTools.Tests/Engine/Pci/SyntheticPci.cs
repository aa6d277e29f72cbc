using VirtTools.Tests.Support;

namespace VirtTools.Tests.Engine.Pci;

/// <summary>Writes PCI functions into a TemporaryTree the way sysfs lays them out (device dir + bus link).</summary>
internal static class SyntheticPci
{
    /// <summary>A function with the attributes every kernel has; callers add the rest.</summary>
    public static string Function(this TemporaryTree tree, string address, string vendor = "0x8086", string device = "0x100e",
        string cls = "0x020000", int irq = 11, byte[]? config = null, string? driver = null, int enable = 1)
    {
        var dir = $"/sys/devices/pci0000:00/{address}";
        tree.File(dir + "/vendor", vendor).File(dir + "/device", device).File(dir + "/class", cls)
            .File(dir + "/irq", irq.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .File(dir + "/enable", enable.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Link($"/sys/bus/pci/devices/{address}", $"../../../devices/pci0000:00/{address}");
        if (config is not null) tree.Bytes(dir + "/config", config);
        if (driver is not null)
        {
            tree.Directory($"/sys/bus/pci/drivers/{driver}");
            tree.Link(dir + "/driver", $"../../../bus/pci/drivers/{driver}");
        }
        return dir;
    }

    /// <summary>msi_irqs/N files holding "msi" or "msix", as kernels since 3.13 write them.</summary>
    public static TemporaryTree Msi(this TemporaryTree tree, string deviceDir, string kind, params int[] irqs)
    {
        foreach (var irq in irqs) tree.File($"{deviceDir}/msi_irqs/{irq}", kind);
        return tree;
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
