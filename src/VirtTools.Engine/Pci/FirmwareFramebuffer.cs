using System.Globalization;
using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>
/// A firmware framebuffer (efifb, vesafb, simpledrm's BOOTFB) living in one of the function's BARs, as /proc/iomem
/// shows it. vfio-pci evicts it when a VGA function is bound, taking the host console with it; until then it holds the
/// BAR. /proc/iomem shows real addresses to root only (zeros otherwise).
/// </summary>
public static class FirmwareFramebuffer
{
    public const string Check = "Framebuffer";
    private static readonly string[] Names = { "efifb", "vesafb", "BOOTFB", "simple-framebuffer", "simpledrm" };

    public static PciReadinessFinding Judge(SystemRoot root, PciDevice device)
    {
        var resourcePath = device.SysfsPath + "/resource";
        if (PciBar.Read(root, resourcePath) is not { } bars)
            return new(Check, PciReadinessResult.Unknown, $"{resourcePath}: missing", "The function's BARs could not be read.");
        if (root.ReadText("/proc/iomem") is not { } iomem)
            return new(Check, PciReadinessResult.Unknown, "/proc/iomem: missing", "The memory map could not be read.");
        var entries = iomem.Split('\n').Select(ParseIomem).OfType<(ulong Start, ulong End, string Name)>().ToList();
        if (entries.Count > 0 && entries.All(e => e.Start == 0 && e.End == 0))
            return new(Check, PciReadinessResult.Unknown, "/proc/iomem: addresses shown as zero (not root)",
                "Only root sees the memory map's addresses: run as root to see whether a firmware framebuffer sits in a BAR.");
        var framebuffers = entries.Where(e => Names.Any(n => e.Name.StartsWith(n, StringComparison.Ordinal))
                                              && bars.Any(b => e.Start <= b.End && b.Start <= e.End)).ToList();
        if (framebuffers.Count == 0)
            return new(Check, PciReadinessResult.Pass, $"/proc/iomem: no framebuffer in the {bars.Count} BARs of {resourcePath}",
                "No firmware framebuffer holds the function's memory.");
        return new(Check, PciReadinessResult.Warn,
            string.Join("; ", framebuffers.Select(f => string.Create(CultureInfo.InvariantCulture, $"/proc/iomem: {f.Start:x}-{f.End:x} : {f.Name}"))),
            "A firmware framebuffer lives in a BAR: binding vfio-pci evicts it and the host console goes dark (boot with video=efifb:off or initcall_blacklist=sysfb_init to free it earlier).");
    }

    /// <summary>"    fd000000-fdffffff : efifb", nested by indentation.</summary>
    private static (ulong, ulong, string)? ParseIomem(string line)
    {
        int colon = line.IndexOf(" : ", StringComparison.Ordinal);
        if (colon < 0) return null;
        var range = line[..colon].Trim().Split('-');
        return range.Length == 2 && PciBar.Hex(range[0]) is ulong start && PciBar.Hex(range[1]) is ulong end
            ? (start, end, line[(colon + 3)..].Trim()) : null;
    }
}
