using System.Formats.Tar;
using System.IO.Compression;

namespace VirtTools.Tests.Support;

/// <summary>
/// The sysfs tree captured from a real Debian 6.1 kernel in the QEMU lab (../shared/fixtures): an xHCI bus with
/// keyboard, tablet and storage device, 2-3 exported through usbip-host and re-imported as 4-1 on vhci_hcd
/// (8 controllers of 15+15 ports), an e1000 bound to vfio-pci in IOMMU group 2, and KSM.
/// </summary>
public static class CapturedFixture
{
    public const string ArchiveName = "qemu-debian-6.1-usbip-vfio.tgz";

    private static readonly Lazy<string> SharedCopy = new(() => Extract(NewTemporaryFolder("fixture")));

    public static string ArchivePath => Path.Combine(RepositoryPaths.Shared, "fixtures", ArchiveName);

    /// <summary>One extraction shared by the whole test run. Read it; never write to it.</summary>
    public static string Shared => SharedCopy.Value;

    /// <summary>A private copy a test may change; delete it with the returned handle.</summary>
    public static TemporaryTree CreateCopy()
    {
        var tree = new TemporaryTree("fixture-copy");
        // Copying the shared extraction is far cheaper than extracting the archive again (TarFile takes seconds).
        CopyTree(Shared, tree.Path);
        return tree;
    }

    /// <summary>Copies files and directories, recreating symlinks as links (sysfs is full of them, some looping).</summary>
    private static void CopyTree(string source, string destination)
    {
        foreach (var entry in new DirectoryInfo(source).EnumerateFileSystemInfos())
        {
            var target = Path.Combine(destination, entry.Name);
            if (entry.LinkTarget is { } link) File.CreateSymbolicLink(target, link);
            else if (entry is DirectoryInfo) { Directory.CreateDirectory(target); CopyTree(entry.FullName, target); }
            else File.Copy(entry.FullName, target);
        }
    }

    private static string Extract(string destination)
    {
        if (!File.Exists(ArchivePath))
            throw new FileNotFoundException($"The captured fixture is missing: {ArchivePath}. Clone the repository with ../shared beside it, or set VIRTTOOLS_SHARED.");
        using var file = File.OpenRead(ArchivePath);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        TarFile.ExtractToDirectory(gzip, destination, overwriteFiles: true);
        return destination;
    }

    internal static string NewTemporaryFolder(string purpose)
    {
        var path = Path.Combine(Path.GetTempPath(), "virttools-tests", $"{purpose}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }
}
