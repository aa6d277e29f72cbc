using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using VirtTools.Ksm;
using VirtTools.State;
using VirtTools.Sysfs;

namespace VirtTools.Sandbox;

/// <summary>
/// A .tgz of the parts of a host VirtTools reads (<see cref="SnapshotScope"/>), laid out like "/" so that it can be
/// unpacked and used as -Root, or turned into a sandbox. Symlinks stay symlinks with their targets as written; device
/// nodes become empty files with the node's mode; unreadable attributes (write-only, EIO) become empty files.
/// </summary>
public sealed class VirtHostSnapshot
{
    private readonly SystemRoot _source;
    private readonly TarWriter _tar;
    private readonly HashSet<string> _written = new(StringComparer.Ordinal);

    private VirtHostSnapshot(SystemRoot source, TarWriter tar, string path)
    {
        _source = source;
        _tar = tar;
        Path = path;
    }

    /// <summary>The archive written.</summary>
    public string Path { get; }

    /// <summary>The root it was taken from ("/" for the live host).</summary>
    public string Root => _source.Path;

    /// <summary>Entries in the archive: folders, files and symlinks.</summary>
    public int Entries => _written.Count;

    public long Length => new FileInfo(Path).Length;

    /// <summary>
    /// Captures <paramref name="source"/> into a new .tgz at <paramref name="archivePath"/> (replaced if it exists),
    /// through <see cref="AtomicFile"/>: never through a symlink, and mode 0600, since a host's state is its owner's to share.
    /// </summary>
    public static VirtHostSnapshot Save(SystemRoot source, string archivePath)
    {
        var path = System.IO.Path.GetFullPath(archivePath);
        VirtHostSnapshot? snapshot = null;
        AtomicFile.Write(path, AtomicFile.OwnerOnly, file =>
        {
            using var gzip = new GZipStream(file, CompressionLevel.Optimal, leaveOpen: true);
            using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
            snapshot = new VirtHostSnapshot(source, tar, path);
            snapshot.Capture();
        });
        return snapshot!;
    }

    private void Capture()
    {
        AddDirectory("/");
        var domains = new SysfsDirectory(_source.Resolve("/sys/devices")).EntryNames()
            .Where(n => n.StartsWith("pci", StringComparison.Ordinal)).Select(n => "/sys/devices/" + n);
        foreach (var tree in SnapshotScope.Trees.Concat(domains)) AddTree(tree);
        foreach (var file in SnapshotScope.Files) AddFile(file);
        foreach (var (folder, prefix) in SnapshotScope.OwnFiles)
            foreach (var name in Names(folder).Where(n => n.StartsWith(prefix, StringComparison.Ordinal))) AddFile(folder + "/" + name);
        foreach (var folder in SnapshotScope.NamesOnly) AddNames(folder);
        foreach (var device in SnapshotScope.Devices) AddDevice(device);
        foreach (var process in Names("/proc").Where(n => n.All(char.IsAsciiDigit))) AddProcess("/proc/" + process);
    }

    /// <summary>A subtree, walked without following links; a link at its top is kept and its target walked too.</summary>
    private void AddTree(string systemPath)
    {
        if (Follow(systemPath) is not { } real || !Directory.Exists(_source.Resolve(real))) return;
        AddDirectory(real);
        foreach (var entry in Children(real))
        {
            var child = real.TrimEnd('/') + "/" + entry.Name;
            if (entry.LinkTarget is not null) AddLink(child, entry.LinkTarget);
            else if (entry is DirectoryInfo) AddTree(child);
            else if (SnapshotScope.IsPlaceholder(entry.Name)) AddPlaceholder(child);
            else AddContent(child);
        }
    }

    private void AddFile(string systemPath)
    {
        if (Follow(systemPath) is { } real && File.Exists(_source.Resolve(real))) AddContent(real);
    }

    private void AddNames(string systemPath)
    {
        if (Follow(systemPath) is not { } real || !Directory.Exists(_source.Resolve(real))) return;
        AddDirectory(real);
        foreach (var entry in Children(real))
        {
            var child = real + "/" + entry.Name;
            if (entry is DirectoryInfo && entry.LinkTarget is null) AddDirectory(child);
            else AddPlaceholder(child);
        }
    }

    /// <summary>A node (or a folder of nodes, as /dev/vfio): present with its mode, its contents never opened.</summary>
    private void AddDevice(string systemPath)
    {
        if (Follow(systemPath) is not { } real) return;
        var resolved = _source.Resolve(real);
        if (Directory.Exists(resolved))
        {
            AddDirectory(real);
            foreach (var entry in Children(real)) AddPlaceholder(real + "/" + entry.Name);
        }
        else if (File.Exists(resolved)) AddPlaceholder(real);
    }

    private void AddProcess(string process)
    {
        foreach (var name in SnapshotScope.ProcessFiles) AddFile(process + "/" + name);
        if (QemuCommandLine.VmName(_source.ReadText(process + "/cmdline")) is not null) AddFile(process + "/cmdline");
        foreach (var fd in Names(process + "/fd"))
        {
            var target = new SysfsDirectory(_source.Resolve(process + "/fd")).LinkTarget(fd);
            if (target is not null && target.StartsWith(SnapshotScope.VfioNodes, StringComparison.Ordinal)) AddLink(process + "/fd/" + fd, target);
        }
    }

    /// <summary>
    /// Walks <paramref name="systemPath"/> as the readers will, recording each symlink on the way as a link (the
    /// components of its target too), and returns the path it really names (a system path); null when it does not
    /// exist or the walk loops.
    /// </summary>
    private string? Follow(string systemPath)
    {
        int links = 0;
        return Follow(systemPath, ref links) is { } real ? (real.Length == 0 ? "/" : real) : null;
    }

    private string? Follow(string systemPath, ref int links)
    {
        var current = "";
        foreach (var part in systemPath.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".") continue;
            if (part == "..") { current = current.Length == 0 ? "" : System.IO.Path.GetDirectoryName(current)!.TrimEnd('/'); continue; }
            var next = current + "/" + part;
            var info = new FileInfo(_source.Resolve(next));
            if (info.LinkTarget is { } target)
            {
                if (++links > 40) return null;
                AddLink(next, target);
                // An absolute target names a path of the captured system, found under the same root.
                var found = Follow(target.StartsWith('/') ? target : current + "/" + target, ref links);
                if (found is null) return null;
                next = found;
            }
            else if (!info.Exists && !Directory.Exists(info.FullName)) return null;
            current = next;
        }
        return current;
    }

    private void AddContent(string systemPath)
    {
        var resolved = _source.Resolve(systemPath);
        var content = Read(resolved);
        if (content is null) { AddPlaceholder(systemPath); return; }
        var entry = Entry(TarEntryType.RegularFile, systemPath, ModeOf(resolved));
        entry.DataStream = new MemoryStream(content);
        Write(systemPath, entry);
    }

    private void AddPlaceholder(string systemPath)
    {
        AddParent(systemPath);
        Write(systemPath, Entry(TarEntryType.RegularFile, systemPath, ModeOf(_source.Resolve(systemPath))));
    }

    private void AddLink(string systemPath, string target)
    {
        AddParent(systemPath);
        var entry = Entry(TarEntryType.SymbolicLink, systemPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        entry.LinkName = target;
        Write(systemPath, entry);
    }

    private void AddDirectory(string systemPath)
    {
        if (_written.Contains(systemPath)) return;
        if (systemPath != "/") AddParent(systemPath);
        var mode = Directory.Exists(_source.Resolve(systemPath)) ? ModeOf(_source.Resolve(systemPath))
            : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
              | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        Write(systemPath, Entry(TarEntryType.Directory, systemPath, mode));
    }

    private void AddParent(string systemPath)
    {
        var parent = System.IO.Path.GetDirectoryName(systemPath);
        if (parent is not null) AddDirectory(parent);
    }

    private void Write(string systemPath, PaxTarEntry entry)
    {
        if (!_written.Add(systemPath)) return;
        if (_written.Count > SnapshotScope.MaxEntries) throw SandboxErrors.SnapshotTooLarge(_source.Path, SnapshotScope.MaxEntries);
        _tar.WriteEntry(entry);
    }

    /// <summary>Entries are named "./sys/…", as `tar -czf x.tgz .` in the root names them.</summary>
    private static PaxTarEntry Entry(TarEntryType type, string systemPath, UnixFileMode mode) =>
        new(type, systemPath == "/" ? "./" : "." + systemPath + (type == TarEntryType.Directory ? "/" : "")) { Mode = mode };

    /// <summary>The whole file up to <see cref="SnapshotScope.MaxFileBytes"/>; null when unreadable or bigger.</summary>
    private static byte[]? Read(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
            using var buffer = new MemoryStream();
            var chunk = new byte[16384];
            int n;
            while ((n = stream.Read(chunk)) > 0)
            {
                buffer.Write(chunk, 0, n);
                if (buffer.Length > SnapshotScope.MaxFileBytes) return null;
            }
            return buffer.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException) { return null; }
    }

    private static UnixFileMode ModeOf(string path)
    {
        try { return (Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path) as FileSystemInfo).UnixFileMode; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return UnixFileMode.UserRead; }
    }

    private IEnumerable<FileSystemInfo> Children(string systemPath)
    {
        try
        {
            return new DirectoryInfo(_source.Resolve(systemPath)).GetFileSystemInfos()
                .OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return Array.Empty<FileSystemInfo>(); }
    }

    private IReadOnlyList<string> Names(string systemPath) => new SysfsDirectory(_source.Resolve(systemPath)).EntryNames();

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Path} ({Entries} entries from {Root})");
}
