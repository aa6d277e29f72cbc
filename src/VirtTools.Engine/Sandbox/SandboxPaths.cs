namespace VirtTools.Sandbox;

/// <summary>Where a system path really leads inside a tree, symlinks followed as the kernel's path walk would.</summary>
internal static class SandboxPaths
{
    /// <summary>The kernel's limit on links followed in one path walk (MAXSYMLINKS).</summary>
    private const int MaxLinks = 40;

    /// <summary>
    /// <paramref name="systemPath"/> with every symlink on the way resolved, as a system path ("/sys/bus/pci/drivers/D/unbind"
    /// for "/sys/bus/pci/devices/X/driver/unbind"); null when the walk leaves <paramref name="rootPath"/> (a ".." above
    /// it, an absolute link target: in a capture that names the host's file, not the tree's) or loops.
    /// </summary>
    public static string? RealPath(string rootPath, string systemPath)
    {
        int links = 0;
        var real = Walk(rootPath.TrimEnd('/'), systemPath, ref links);
        return real is null ? null : real.Length > rootPath.TrimEnd('/').Length ? real[rootPath.TrimEnd('/').Length..] : "/";
    }

    public static bool IsInside(string rootPath, string path) =>
        path == rootPath || path.StartsWith(rootPath.TrimEnd('/') + "/", StringComparison.Ordinal);

    /// <summary>One component at a time from the root; a link's target is walked the same way from the link's folder.</summary>
    private static string? Walk(string root, string systemPath, ref int links)
    {
        var current = root;
        foreach (var part in systemPath.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".") continue;
            if (part == "..")
            {
                if (current == root) return null;
                current = Path.GetDirectoryName(current)!;
                continue;
            }
            var next = current + "/" + part;
            if (new FileInfo(next).LinkTarget is { } target)
            {
                if (++links > MaxLinks || Path.IsPathRooted(target)) return null;
                next = Walk(root, current[root.Length..] + "/" + target, ref links);
                if (next is null) return null;
            }
            current = next;
        }
        return current;
    }
}
