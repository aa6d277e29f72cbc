namespace VirtTools.Sandbox;

/// <summary>Where a system path really leads inside a tree, symlinks followed as the kernel's path walk would.</summary>
internal static class SandboxPaths
{
    /// <summary>The kernel's limit on links followed in one path walk (MAXSYMLINKS).</summary>
    private const int MaxLinks = 40;

    /// <summary>
    /// <paramref name="systemPath"/> with every symlink on the way resolved, as a system path ("/sys/bus/pci/drivers/D/unbind"
    /// for "/sys/bus/pci/devices/X/driver/unbind"); null when a link leaves <paramref name="rootPath"/> or loops.
    /// An absolute link target leaves the tree: in a capture it names the host's file, not the tree's.
    /// </summary>
    public static string? RealPath(string rootPath, string systemPath)
    {
        var current = rootPath;
        int links = 0;
        foreach (var part in systemPath.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.GetFullPath(Path.Combine(current, part));
            while (new FileInfo(current).LinkTarget is { } target)
            {
                if (++links > MaxLinks || Path.IsPathRooted(target)) return null;
                current = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(current)!, target));
            }
            if (!IsInside(rootPath, current)) return null;
        }
        return current.Length > rootPath.Length ? current[rootPath.Length..] : "/";
    }

    public static bool IsInside(string rootPath, string path) =>
        path == rootPath || path.StartsWith(rootPath.TrimEnd('/') + "/", StringComparison.Ordinal);
}
