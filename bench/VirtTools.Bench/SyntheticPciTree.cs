using System.Globalization;

namespace VirtTools.Bench;

/// <summary>
/// A synthetic /sys of many PCI functions, shaped like the captured tree: /sys/bus/pci/devices links into
/// /sys/devices/pci0000:00/..., a host bridge, PCIe root ports (header type 1, pcieport, one MSI vector) each with
/// 64 functions below them (NICs and NVMe with MSI-X, SR-IOV-style VFs and a GPU bound to vfio-pci), 4 KiB
/// config files with a PCIe capability, msi_irqs files, one IOMMU group per function with its devices link.
/// </summary>
public static class SyntheticPciTree
{
    public const int FunctionsPerRootPort = 64;

    public sealed record Shape(int Functions, int RootPorts, int IommuGroups, int MsiVectors);

    private sealed record Kind(int Vendor, int Device, int Class, string Driver, string MsiMode, int Vectors, int Pin);

    private static readonly Kind HostBridge = new(0x8086, 0x29c0, 0x060000, "", "", 0, 0);
    private static readonly Kind RootPort = new(0x8086, 0x7a38, 0x060400, "pcieport", "msi", 1, 1);
    private static readonly Kind[] Endpoints =
    {
        new(0x8086, 0x10fb, 0x020000, "ixgbe", "msix", 8, 1),
        new(0x144d, 0xa808, 0x010802, "nvme", "msix", 4, 1),
        new(0x8086, 0x10ed, 0x020000, "vfio-pci", "msix", 3, 0),
        new(0x10de, 0x1eb8, 0x030200, "vfio-pci", "msi", 1, 1),
    };

    public static Shape Write(string root, int functionCount)
    {
        var tree = new SyntheticTree(root);
        foreach (var driver in new[] { "pcieport", "ixgbe", "nvme", "vfio-pci" }) tree.Directory("/sys/bus/pci/drivers/" + driver);
        tree.Attributes("/sys/devices/pci0000:00", ("uevent", ""));
        int rootPorts = Math.Max(1, (functionCount - 1 + FunctionsPerRootPort) / (FunctionsPerRootPort + 1));
        int endpoints = Math.Max(0, functionCount - 1 - rootPorts);
        int group = 0, irq = 24, vectors = 0;

        void Function(string parent, string address, Kind kind)
        {
            var path = $"{parent}/{address}";
            WriteFunction(tree, path, address, kind, group++, ref irq);
            vectors += kind.Vectors;
        }

        Function("/sys/devices/pci0000:00", "0000:00:00.0", HostBridge);
        for (int r = 0, written = 0; r < rootPorts; r++)
        {
            var port = string.Create(CultureInfo.InvariantCulture, $"0000:00:{1 + r / 8:x2}.{r % 8}");
            Function("/sys/devices/pci0000:00", port, RootPort);
            for (int e = 0; e < FunctionsPerRootPort && written < endpoints; e++, written++)
                Function($"/sys/devices/pci0000:00/{port}", string.Create(CultureInfo.InvariantCulture, $"0000:{r + 1:x2}:{e / 8:x2}.{e % 8}"),
                    Endpoints[(e / 8) % Endpoints.Length]);
        }
        return new Shape(group, rootPorts, group, vectors);
    }

    private static void WriteFunction(SyntheticTree tree, string path, string address, Kind kind, int group, ref int irq)
    {
        bool bridge = kind.Class >> 8 == 0x0604;
        int legacyIrq = kind.Pin == 0 ? 0 : 16 + group % 8;
        string Hex4(int value) => "0x" + value.ToString("x4", CultureInfo.InvariantCulture);
        var id = $"{kind.Vendor:X4}:{kind.Device:X4}";
        var modalias = $"pci:v0000{kind.Vendor:X4}d0000{kind.Device:X4}sv00008086sd00000000bc{kind.Class >> 16:X2}sc{(kind.Class >> 8) & 0xff:X2}i{kind.Class & 0xff:X2}";
        tree.Attributes(path,
            ("ari_enabled", "0"), ("broken_parity_status", "0"), ("class", "0x" + kind.Class.ToString("x6", CultureInfo.InvariantCulture)),
            ("consistent_dma_mask_bits", "64"), ("current_link_speed", "8.0 GT/s PCIe"), ("current_link_width", "4"), ("d3cold_allowed", "1"),
            ("device", Hex4(kind.Device)), ("dma_mask_bits", "64"), ("driver_override", kind.Driver == "vfio-pci" ? "vfio-pci" : "(null)"),
            ("enable", kind.Driver.Length > 0 ? "1" : "0"), ("irq", (kind.Vectors > 0 && kind.MsiMode == "msi" ? irq : legacyIrq).ToString(CultureInfo.InvariantCulture)),
            ("local_cpulist", "0-1"), ("local_cpus", "3"), ("max_link_speed", "8.0 GT/s PCIe"), ("max_link_width", "4"), ("modalias", modalias),
            ("msi_bus", "1"), ("numa_node", "-1"), ("power_state", "D0"), ("reset_method", bridge ? "pm bus" : "flr bus"),
            ("resource", "0x00000000febe0000 0x00000000febe3fff 0x0000000000140204\n0x0000000000000000 0x0000000000000000 0x0000000000000000"),
            ("revision", "0x01"), ("subsystem_device", "0x0000"), ("subsystem_vendor", "0x8086"),
            ("uevent", $"{(kind.Driver.Length > 0 ? "DRIVER=" + kind.Driver + "\n" : "")}PCI_CLASS={kind.Class:X}\nPCI_ID={id}\nPCI_SUBSYS_ID=8086:0000\nPCI_SLOT_NAME={address}\nMODALIAS={modalias}"),
            ("vendor", Hex4(kind.Vendor)));
        tree.Text(path + "/remove", "");
        tree.Text(path + "/rescan", "");
        tree.Text(path + "/resource0", "");
        tree.Bytes(path + "/config", Config(kind, legacyIrq));
        tree.Attributes(path + "/power", ("control", "on"), ("runtime_status", "active"));
        tree.Link(path + "/subsystem", "/sys/bus/pci");
        if (kind.Driver.Length > 0)
        {
            tree.Link(path + "/driver", "/sys/bus/pci/drivers/" + kind.Driver);
            tree.Link($"/sys/bus/pci/drivers/{kind.Driver}/{address}", path);
        }
        if (kind.Driver == "vfio-pci") tree.Directory(path + "/vfio-dev/vfio" + group.ToString(CultureInfo.InvariantCulture));
        for (int v = 0; v < kind.Vectors; v++) tree.Attribute($"{path}/msi_irqs/{irq++}", kind.MsiMode);
        if (kind.Vectors == 0) tree.Directory(path + "/msi_irqs");

        var groupPath = "/sys/kernel/iommu_groups/" + group.ToString(CultureInfo.InvariantCulture);
        tree.Attributes(groupPath, ("type", "DMA"), ("reserved_regions", "0x00000000fee00000 0x00000000feefffff msi"));
        tree.Link($"{groupPath}/devices/{address}", path);
        tree.Link(path + "/iommu_group", groupPath);
        tree.Link("/sys/bus/pci/devices/" + address, path);
    }

    /// <summary>4 KiB extended config space: the type 0/1 header, a capability list with a PCI Express capability.</summary>
    private static byte[] Config(Kind kind, int legacyIrq)
    {
        var config = new byte[4096];
        void Word(int offset, int value) { config[offset] = (byte)value; config[offset + 1] = (byte)(value >> 8); }
        Word(0x00, kind.Vendor);
        Word(0x02, kind.Device);
        Word(0x04, 0x0406);
        Word(0x06, 0x0010);
        config[0x08] = 0x01;
        config[0x09] = (byte)kind.Class;
        config[0x0a] = (byte)(kind.Class >> 8);
        config[0x0b] = (byte)(kind.Class >> 16);
        config[0x0e] = (byte)(kind.Class >> 8 == 0x0604 ? 1 : 0);
        config[0x34] = 0x40;
        config[0x3c] = (byte)legacyIrq;
        config[0x3d] = (byte)kind.Pin;
        config[0x40] = 0x10;
        Word(0x42, 0x0002);
        return config;
    }
}
