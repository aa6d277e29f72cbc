using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>
/// The IOMMU group's reserved_regions: "0x%016llx 0x%016llx type" per line, start and inclusive end. A direct
/// region (an Intel RMRR, an AMD unity map) is memory the firmware keeps using the device for DMA into: on
/// intel-iommu the kernel refuses to attach a group with a direct region that is not relaxable to a VM; relaxable ones
/// (USB, graphics) are allowed, but the firmware's DMA goes on inside the guest.
/// </summary>
public static class ReservedRegions
{
    public const string Check = "ReservedRegions";

    public static PciReadinessFinding Judge(SystemRoot root, PciDevice device)
    {
        if (device.IommuGroup is not int group)
            return new(Check, PciReadinessResult.Unknown, $"{device.SysfsPath}/iommu_group: missing", "The function is in no IOMMU group.");
        var path = $"{IommuGroupReader.GroupsPath}/{group}/reserved_regions";
        if (root.ReadText(path) is not { } text)
            return new(Check, PciReadinessResult.Unknown, $"{path}: missing", "This kernel does not show reserved regions (before 4.11).");
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var direct = lines.Where(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, _, var type] && type.StartsWith("direct", StringComparison.Ordinal)).ToList();
        if (direct.Count == 0)
            return new(Check, PciReadinessResult.Pass, $"{path}: {(lines.Length == 0 ? "empty" : string.Join(", ", lines))}",
                "No direct-mapped (RMRR) region: nothing the firmware keeps using.");
        return new(Check, PciReadinessResult.Warn, $"{path}: {string.Join(", ", direct)}",
            "The firmware keeps DMA into a direct region (RMRR): intel-iommu refuses a VM a group whose region is 'direct' (only 'direct-relaxable' is allowed), and BIOS features such as USB legacy or graphics keep using it.");
    }
}
