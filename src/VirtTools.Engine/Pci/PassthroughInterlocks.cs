using VirtTools.Diagnostics;
using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>
/// The ways handing a function to a stub driver costs users their machine: it holds a mounted filesystem, it carries
/// the default route, or it drives the boot console. Each found one is a refusal unless -Force.
/// </summary>
internal static class PassthroughInterlocks
{
    public static IEnumerable<VirtToolsException> Find(PciDeviceReader devices, PciDevice function)
    {
        var root = devices.Root;
        var directory = devices.DeviceDirectory(function.Address).Resolved();
        var mounts = MountedFilesystems(root, directory).ToList();
        if (mounts.Count > 0)
            yield return new VirtToolsException(PciErrors.InterlockMountedFilesystemId, FailureKind.ResourceBusy,
                $"{function.Address} backs mounted filesystems ({string.Join(", ", mounts)}); detaching it from the host would pull them away.",
                "Unmount them first (or pass -Force if you really mean to detach a disk controller that is in use).", function.Address.ToString());

        var route = DefaultRouteInterface(root, directory);
        if (route is not null)
            yield return new VirtToolsException(PciErrors.InterlockDefaultRouteId, FailureKind.ResourceBusy,
                $"{function.Address} carries the default route (interface {route}); detaching it would cut this host off the network.",
                "Move the default route to another interface first, or pass -Force from a console that does not depend on it.", function.Address.ToString());

        if (function.BootVga == true)
            yield return new VirtToolsException(PciErrors.InterlockBootVgaId, FailureKind.ResourceBusy,
                $"{function.Address} is the boot VGA device (boot_vga = 1); the host console would go dark.",
                "Pass through a secondary GPU, or pass -Force if the host runs headless.", function.Address.ToString());
    }

    /// <summary>
    /// Mount points whose source is a block device below the function (or a device stacked on one: LVM, md), and
    /// swap areas on such a device: swapping off a disk that just vanished takes the host down as surely as a mount.
    /// </summary>
    private static IEnumerable<string> MountedFilesystems(SystemRoot root, SysfsDirectory device)
    {
        var devices = new Dictionary<string, string>(StringComparer.Ordinal); // "254:1" → "vda1"
        foreach (var block in BlockDevicesBelow(device))
            AddWithHolders(root, block, devices, depth: 0);
        if (devices.Count == 0) return Array.Empty<string>();

        var names = devices.Values.Select(n => "/dev/" + n).ToHashSet(StringComparer.Ordinal);
        return MountPoints(root, devices, names).Concat(SwapAreas(root, names));
    }

    private static IEnumerable<string> MountPoints(SystemRoot root, Dictionary<string, string> devices, HashSet<string> names)
    {
        var mountInfo = root.ReadText("/proc/self/mountinfo");
        if (mountInfo is not null)
        {
            foreach (var line in mountInfo.Split('\n'))
            {
                var fields = line.Split(' ');
                if (fields.Length > 4 && devices.ContainsKey(fields[2])) yield return fields[4];
            }
            yield break;
        }
        foreach (var line in (root.ReadText("/proc/mounts") ?? "").Split('\n'))
        {
            var fields = line.Split(' ');
            if (fields.Length > 1 && names.Contains(fields[0])) yield return fields[1];
        }
    }

    /// <summary>/proc/swaps names the device as the kernel resolved it (/dev/dm-0, not /dev/mapper/…), so names match.</summary>
    private static IEnumerable<string> SwapAreas(SystemRoot root, HashSet<string> names) =>
        (root.ReadText("/proc/swaps") ?? "").Split('\n').Skip(1)
            .Select(line => line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length > 1 && fields[1] == "partition" && names.Contains(fields[0]))
            .Select(fields => "swap on " + fields[0]);

    private static void AddWithHolders(SystemRoot root, SysfsDirectory block, Dictionary<string, string> devices, int depth)
    {
        if (depth > 4 || block.String("dev") is not { } majorMinor || !devices.TryAdd(majorMinor, block.Name)) return;
        foreach (var holder in block.EntryNames("holders"))
            AddWithHolders(root, root.Directory("/sys/class/block/" + holder), devices, depth + 1);
    }

    /// <summary>Disks under the function's block/ directories and their partitions (subdirectories with a partition file).</summary>
    private static IEnumerable<SysfsDirectory> BlockDevicesBelow(SysfsDirectory device)
    {
        foreach (var blockDir in DirectoriesNamed(device.Path, "block", maxDepth: 5))
            foreach (var disk in new SysfsDirectory(blockDir).EntryNames().Select(n => new SysfsDirectory(blockDir + "/" + n)))
            {
                yield return disk;
                foreach (var part in disk.EntryNames().Select(disk.Child).Where(p => p.Has("partition"))) yield return part;
            }
    }

    /// <summary>The interface on the default route if it sits on this function (directly, or as a bond/bridge port of it).</summary>
    private static string? DefaultRouteInterface(SystemRoot root, SysfsDirectory device)
    {
        var interfaces = DirectoriesNamed(device.Path, "net", maxDepth: 3)
            .SelectMany(net => new SysfsDirectory(net).EntryNames()).ToList();
        if (interfaces.Count == 0) return null;
        var carried = new HashSet<string>(interfaces, StringComparer.Ordinal);
        foreach (var name in interfaces)
            if (root.Directory("/sys/class/net/" + name).LinkName("master") is { } master) carried.Add(master);

        foreach (var line in (root.ReadText("/proc/net/route") ?? "").Split('\n').Skip(1))
        {
            var fields = line.Split('\t', ' ').Where(f => f.Length > 0).ToArray();
            if (fields.Length > 7 && fields[1] == "00000000" && fields[7] == "00000000" && carried.Contains(fields[0])) return fields[0];
        }
        return null;
    }

    /// <summary>Real directories (not symlinks: sysfs links loop) called <paramref name="name"/> below <paramref name="top"/>.</summary>
    private static IEnumerable<string> DirectoriesNamed(string top, string name, int maxDepth)
    {
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true, MaxRecursionDepth = maxDepth, IgnoreInaccessible = true,
            AttributesToSkip = FileAttributes.ReparsePoint,
        };
        try { return Directory.EnumerateDirectories(top, name, options).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return Array.Empty<string>(); }
    }
}
