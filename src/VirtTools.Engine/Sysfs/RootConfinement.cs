using VirtTools.Diagnostics;

namespace VirtTools.Sysfs;

/// <summary>
/// Where a write under a -Root tree really lands: the path walked component by component, every symlink followed the
/// way the kernel would follow it if the tree were "/" (an absolute target starts again at the root, "../" climbs),
/// and refused (<see cref="PathOutsideRootId"/>) the moment it climbs above the root. A captured or synthetic tree
/// is data someone else made; without this a link in it (usbip_sockfd -&gt; ../../../../etc/passwd) would aim our
/// writes at the host.
/// </summary>
public static class RootConfinement
{
    public const string PathOutsideRootId = SysfsErrors.PathOutsideRootId;

    /// <summary>As the kernel's own limit (MAXSYMLINKS): more links than this in one walk is a loop.</summary>
    public const int MaxSymlinks = 40;

    /// <summary>
    /// The path under <paramref name="rootPath"/> that <paramref name="systemPath"/> names, with no symlink left in the
    /// part that exists; components from the first missing one on are taken as written (a write there fails or
    /// creates, inside the root either way).
    /// </summary>
    public static string Resolve(string rootPath, string systemPath) =>
        Walk(rootPath, systemPath, absoluteLinksLeave: false) ?? throw new VirtToolsException(PathOutsideRootId, FailureKind.InvalidData,
            $"{systemPath} leads outside the root {rootPath}: a symlink in the tree points above it (or the links loop). Nothing was written.",
            $"Check the symlinks along {systemPath} under {rootPath} (ls -l); a -Root tree must not link outside itself.", systemPath);

    /// <summary>
    /// The walk behind <see cref="Resolve"/>: null when it climbs above the root, follows more than
    /// <see cref="MaxSymlinks"/> links, or (with <paramref name="absoluteLinksLeave"/>, as a sandbox wants: in a capture
    /// an absolute link names the host's file) meets an absolute link.
    /// </summary>
    internal static string? Walk(string rootPath, string systemPath, bool absoluteLinksLeave)
    {
        var root = rootPath.TrimEnd('/');
        var at = new List<string>();
        var pending = new LinkedList<string>(Components(systemPath));
        int links = 0;
        bool missing = false;
        while (pending.First is { } first)
        {
            var component = first.Value;
            pending.RemoveFirst();
            if (component == ".") continue;
            if (component == "..")
            {
                if (at.Count == 0) return null;
                at.RemoveAt(at.Count - 1);
                continue;
            }
            var candidate = Join(root, at) + "/" + component;
            var target = missing ? null : new FileInfo(candidate).LinkTarget;
            if (target is null)
            {
                // Past the first missing component there is nothing to follow: the rest is taken as written.
                missing = missing || !Path.Exists(candidate);
                at.Add(component);
                continue;
            }
            if (++links > MaxSymlinks) return null;
            if (target.StartsWith('/'))
            {
                if (absoluteLinksLeave) return null;
                at.Clear();
            }
            foreach (var part in Components(target).Reverse()) pending.AddFirst(part);
        }
        return Join(root, at);
    }

    private static IEnumerable<string> Components(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);

    private static string Join(string root, List<string> components) =>
        components.Count == 0 ? root : root + "/" + string.Join('/', components);
}
