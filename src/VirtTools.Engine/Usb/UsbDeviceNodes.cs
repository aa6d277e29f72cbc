using System.Globalization;
using System.Text.RegularExpressions;
using VirtTools.Sysfs;
using VirtTools.Usb;

namespace VirtTools.Usb;

/// <summary>
/// The device nodes a USB device brings, read from sysfs: its own /dev/bus/usb/BBB/DDD and, below it, the nodes of
/// the kinds a desktop uses (hidraw, ttyUSB/ttyACM, sd* disks and their partitions, input/event*). Other nodes the
/// kernel makes for it (bsg, sg, hiddev) are left out on purpose: they pass raw commands to the device or the bus.
/// Each node is a directory whose uevent names DEVNAME, MAJOR and MINOR; symlinks (subsystem, driver, device) are
/// not followed, and the walk is bounded in depth and size whatever the tree holds.
/// </summary>
public static partial class UsbDeviceNodes
{
    public const int MaxDepth = 16;
    public const int MaxDirectories = 4096;

    /// <summary>More nodes than one USB device brings (a hub is never imported): a listing stops there.</summary>
    public const int MaxNodes = 64;

    /// <summary>The nodes of the device with this local bus id, the device's own first; null when sysfs has no such device.</summary>
    public static IReadOnlyList<DeviceNode>? Find(SystemRoot root, UsbBusId localBusId)
    {
        var device = root.Directory("/sys/bus/usb/devices/" + localBusId);
        if (!device.Exists) return null;
        var top = new DirectoryInfo(device.Resolved().Path);
        var nodes = new List<DeviceNode>();
        var pending = new Queue<(DirectoryInfo Directory, int Depth)>();
        pending.Enqueue((top, 0));
        var seen = 0;
        while (pending.Count > 0 && seen++ < MaxDirectories && nodes.Count < MaxNodes)
        {
            var (directory, depth) = pending.Dequeue();
            if (Node(directory, isTop: directory == top) is { } node) nodes.Add(node);
            if (depth == MaxDepth) continue;
            foreach (var child in Children(directory)) pending.Enqueue((child, depth + 1));
        }
        // The device's own node is what a USB library opens first; the rest in a stable order.
        return nodes.Take(1).Concat(nodes.Skip(1).OrderBy(n => n.Path, StringComparer.Ordinal)).ToList();
    }

    /// <summary>
    /// Whether an interface of the device is bound to usb-storage: it brings a disk, which the SCSI scan adds after
    /// the USB node (usb-storage's delay_use, then the scan), so nodes without a disk are not complete yet.
    /// </summary>
    public static bool AwaitsDisk(SystemRoot root, UsbBusId localBusId)
    {
        var device = root.Directory("/sys/bus/usb/devices/" + localBusId);
        if (!device.Exists) return false;
        try
        {
            return new DirectoryInfo(device.Resolved().Path).EnumerateDirectories(localBusId + ":*")
                .Any(i => new SysfsDirectory(i.FullName).LinkName("driver") == StorageDriver);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // the device went away while it was read
        }
    }

    private const string StorageDriver = "usb-storage";

    /// <summary>The node a sysfs device directory stands for; null when it has none, or none of the kinds given to containers.</summary>
    private static DeviceNode? Node(DirectoryInfo directory, bool isTop)
    {
        var uevent = SysfsText.ReadFile(directory.FullName + "/uevent");
        if (uevent is null) return null;
        string? name = null;
        int? major = null, minor = null;
        foreach (var line in uevent.Split('\n'))
        {
            if (line.StartsWith("DEVNAME=", StringComparison.Ordinal)) name = line[8..];
            else if (line.StartsWith("MAJOR=", StringComparison.Ordinal)) major = Number(line[6..]);
            else if (line.StartsWith("MINOR=", StringComparison.Ordinal)) minor = Number(line[6..]);
        }
        if (name is null || major is null || minor is null) return null;
        var pattern = isTop ? UsbDevicePattern() : ChildPattern();
        if (!pattern.IsMatch(name) || !DeviceNode.IsDevicePath("/dev/" + name)) return null;
        var isBlock = new SysfsDirectory(directory.FullName).LinkName("subsystem") == "block";
        return new DeviceNode("/dev/" + name, isBlock, major.Value, minor.Value);
    }

    /// <summary>The real subdirectories, in name order; symlinked ones are links to elsewhere in sysfs and are skipped.</summary>
    private static IEnumerable<DirectoryInfo> Children(DirectoryInfo directory)
    {
        try
        {
            return directory.EnumerateDirectories()
                .Where(d => (d.Attributes & FileAttributes.ReparsePoint) == 0)
                .OrderBy(d => d.Name, StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Array.Empty<DirectoryInfo>(); // the device went away while it was read
        }
    }

    private static int? Number(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    [GeneratedRegex(@"^bus/usb/[0-9]{3}/[0-9]{3}\z")]
    private static partial Regex UsbDevicePattern();

    [GeneratedRegex(@"^(hidraw[0-9]+|ttyUSB[0-9]+|ttyACM[0-9]+|sd[a-z]+[0-9]*|input/event[0-9]+)\z")]
    private static partial Regex ChildPattern();
}
