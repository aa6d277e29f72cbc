using System.Globalization;
using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>Processes holding /dev/vfio/&lt;group&gt; open (a running VM, a DPDK app): found through /proc/&lt;pid&gt;/fd links.</summary>
public static class VfioGroupHolders
{
    public static IReadOnlyList<(int ProcessId, string Name)> Find(SystemRoot root, int group)
    {
        var node = "/dev/vfio/" + group.ToString(CultureInfo.InvariantCulture);
        var holders = new List<(int, string)>();
        foreach (var pidText in root.Directory("/proc").EntryNames())
        {
            if (!int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            var process = root.Directory("/proc/" + pidText);
            // The links read as the system sees them ("/dev/vfio/2"), also on a captured root.
            if (process.EntryNames("fd").Any(fd => process.LinkTarget("fd/" + fd) == node))
                holders.Add((pid, process.String("comm") ?? "?"));
        }
        return holders;
    }
}
