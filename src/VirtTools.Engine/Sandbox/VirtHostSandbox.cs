using System.Formats.Tar;
using System.IO.Compression;
using VirtTools.Sysfs;

namespace VirtTools.Sandbox;

/// <summary>
/// A host to test automation against: a tree laid out like "/" (from a snapshot, or the captured Debian 6.1 host that
/// ships in the module) whose kernel writes behave as the kernel would (<see cref="SandboxKernel"/>). Pass
/// <see cref="Root"/> as -Root, or set $env:VIRTTOOLS_ROOT to it.
/// </summary>
public sealed class VirtHostSandbox
{
    /// <summary>The captured tree embedded in the engine (tests/fixtures, see its README).</summary>
    public const string FixtureName = "qemu-debian-6.1-usbip-vfio.tgz";

    private VirtHostSandbox(string root, SandboxMarker marker)
    {
        Root = root;
        Id = marker.Id;
        Source = marker.Source;
        Created = marker.Created;
    }

    /// <summary>The folder to pass as -Root.</summary>
    public string Root { get; }

    /// <summary>What the tree was made from: "fixture:…" or the snapshot's path.</summary>
    public string Source { get; }

    public DateTimeOffset Created { get; }

    public Guid Id { get; }

    /// <summary>The sandbox's kernel, for what a test arranges (failures, probe errors) and reads back (writes).</summary>
    public SandboxKernel Kernel => SandboxKernel.For(new SystemRoot(Root)) ?? throw SandboxErrors.NotASandbox(Root);

    /// <summary>Every kernel-attribute write made in this sandbox by this process, in order.</summary>
    public IReadOnlyList<KernelWrite> Writes => Kernel.Writes;

    /// <summary>Makes the <paramref name="nth"/> next write to <paramref name="systemPath"/> fail with <paramref name="errno"/>.</summary>
    public VirtHostSandbox FailWrite(string systemPath, KernelErrno errno, int nth = 1)
    {
        Kernel.FailWrite(systemPath, errno, nth);
        return this;
    }

    /// <summary>A sandbox made from a snapshot (.tgz laid out like "/").</summary>
    public static VirtHostSandbox FromSnapshot(string archivePath, string? path = null)
    {
        var archive = System.IO.Path.GetFullPath(archivePath);
        if (!File.Exists(archive)) throw SandboxErrors.SnapshotNotFound(archive);
        using var file = File.OpenRead(archive);
        return Unpack(file, archive, archive, path);
    }

    /// <summary>A sandbox of the captured Debian 6.1 host: usbip export and import, an e1000 on vfio-pci, KSM.</summary>
    public static VirtHostSandbox FromFixture(string? path = null)
    {
        using var resource = typeof(VirtHostSandbox).Assembly.GetManifestResourceStream(typeof(VirtHostSandbox).Namespace + "." + FixtureName)
            ?? throw new InvalidOperationException($"The engine was built without its embedded {FixtureName}.");
        return Unpack(resource, FixtureName, "fixture:" + FixtureName, path);
    }

    /// <summary>Makes an existing tree a sandbox (a tree a test built or unpacked itself).</summary>
    public static VirtHostSandbox Adopt(string path, string source)
    {
        var root = new SystemRoot(path).Path;
        return new VirtHostSandbox(root, SandboxMarker.Create(root, source));
    }

    /// <summary>The sandbox at <paramref name="path"/>; NotAVirtHostSandbox when the folder has no marker.</summary>
    public static VirtHostSandbox Open(string path)
    {
        var root = new SystemRoot(path).Path;
        var marker = SandboxMarker.TryRead(root) ?? throw SandboxErrors.NotASandbox(root);
        return new VirtHostSandbox(root, marker);
    }

    /// <summary>
    /// Refuses a place where the sandbox would not survive its test: inside <paramref name="forbiddenFolder"/>
    /// (Pester's TestDrive, which Pester empties by walking it with symlinks followed).
    /// </summary>
    public static void CheckPlacement(string path, string? forbiddenFolder)
    {
        if (string.IsNullOrEmpty(forbiddenFolder)) return;
        var full = new SystemRoot(path).Path;
        var forbidden = new SystemRoot(forbiddenFolder).Path;
        if (SandboxPaths.IsInside(forbidden, full)) throw SandboxErrors.InsideTestDrive(full, forbidden);
    }

    /// <summary>A new folder under the temp directory.</summary>
    public static string DefaultPath() =>
        System.IO.Path.Combine(System.IO.Path.GetTempPath(), "virttools-sandbox-" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>
    /// Deletes the tree. Only a sandbox (a folder with a marker) is deleted, and symlinks are removed, never followed:
    /// a sysfs tree links everywhere, including, in a careless capture, to the host.
    /// </summary>
    public void Remove()
    {
        if (SandboxMarker.TryRead(Root)?.Id != Id) throw SandboxErrors.NotASandbox(Root);
        SandboxKernel.Forget(Root);
        DeleteTree(new DirectoryInfo(Root));
    }

    private static void DeleteTree(DirectoryInfo directory)
    {
        foreach (var entry in directory.EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo child && entry.LinkTarget is null) DeleteTree(child);
            else entry.Delete();
        }
        directory.Delete();
    }

    private static VirtHostSandbox Unpack(Stream archive, string archiveName, string source, string? path)
    {
        var root = new SystemRoot(path ?? DefaultPath()).Path;
        if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any()) throw SandboxErrors.PathNotEmpty(root);
        Directory.CreateDirectory(root);
        try
        {
            Extract(archive, root);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or FormatException or UnauthorizedAccessException)
        {
            DeleteTree(new DirectoryInfo(root));
            throw SandboxErrors.SnapshotInvalid(archiveName, e);
        }
        return new VirtHostSandbox(root, SandboxMarker.Create(root, source));
    }

    /// <summary>
    /// Unpacks folders, files and symlinks; symlink targets are kept as written, absolute ones too (a process's fd link
    /// to "/dev/vfio/2" is data the readers compare, never followed by a write). Nothing lands outside the root: no
    /// entry name may climb out, nor lead through a link the archive made earlier. Other entry kinds are skipped.
    /// </summary>
    private static void Extract(Stream archive, string root)
    {
        using var gzip = new GZipStream(archive, CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        // Where each folder really is, links followed. Entries come in order, so a link made later can only be under
        // a folder not yet looked up (the link's own path could not be a folder already): the answers stay true.
        var realFolders = new Dictionary<string, string?>(StringComparer.Ordinal);
        while (reader.GetNextEntry() is { } entry)
        {
            var systemPath = "/" + entry.Name.TrimStart('.').Trim('/');
            // The marker is made here, fresh; one carried in the archive is not this sandbox's.
            if (systemPath is "/" or "/" + SandboxMarker.FileName) continue;
            var parent = System.IO.Path.GetDirectoryName(systemPath)!;
            if (!realFolders.TryGetValue(parent, out var realParent)) realFolders[parent] = realParent = SandboxPaths.RealPath(root, parent);
            if (entry.Name.Split('/').Contains("..") || realParent is null)
                throw new InvalidDataException($"The entry '{entry.Name}' would land outside the sandbox.");
            var path = root + (realParent == "/" ? "" : realParent) + "/" + System.IO.Path.GetFileName(systemPath);
            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    Directory.CreateDirectory(path);
                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                    Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
                    entry.ExtractToFile(path, overwrite: false);
                    break;
                case TarEntryType.SymbolicLink:
                    Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
                    File.CreateSymbolicLink(path, entry.LinkName);
                    break;
            }
        }
    }

    public override string ToString() => Root;
}
