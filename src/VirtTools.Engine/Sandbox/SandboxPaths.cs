namespace VirtTools.Sandbox;

/// <summary>Where a system path really leads inside a tree, symlinks followed as the kernel's path walk would.</summary>
internal static class SandboxPaths
{
    /// <summary>
    /// <paramref name="systemPath"/> with every symlink on the way resolved, as a system path ("/sys/bus/pci/drivers/D/unbind"
    /// for "/sys/bus/pci/devices/X/driver/unbind"); null when the walk leaves <paramref name="rootPath"/> (a ".." above
    /// it, an absolute link target: in a capture that names the host's file, not the tree's) or loops.
    /// </summary>
    public static string? RealPath(string rootPath, string systemPath)
    {
        var real = Sysfs.RootConfinement.Walk(rootPath, systemPath, absoluteLinksLeave: true);
        var root = rootPath.TrimEnd('/');
        return real is null ? null : real.Length > root.Length ? real[root.Length..] : "/";
    }

    public static bool IsInside(string rootPath, string path) =>
        path == rootPath || path.StartsWith(rootPath.TrimEnd('/') + "/", StringComparison.Ordinal);
}
