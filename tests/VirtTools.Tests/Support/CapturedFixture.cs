using System.Diagnostics;

namespace VirtTools.Tests.Support;

/// <summary>
/// The sysfs tree captured from a real Debian 6.1 kernel in the QEMU lab (tests/fixtures, see its README): an xHCI
/// bus with keyboard, tablet and storage device, 2-3 exported through usbip-host and re-imported as 4-1 on vhci_hcd
/// (8 controllers of 15+15 ports), an e1000 bound to vfio-pci in IOMMU group 2, and KSM.
/// </summary>
public static class CapturedFixture
{
    public const string ArchiveName = "qemu-debian-6.1-usbip-vfio.tgz";

    private static readonly Lazy<string> SharedCopy = new(() => Extract(NewTemporaryFolder("fixture")));

    /// <summary>The variable that points the tests at another capture of the same kind (e.g. a fresh one from the lab).</summary>
    public const string ArchiveVariable = "VIRTTOOLS_FIXTURE_ARCHIVE";

    /// <summary>tests/fixtures/qemu-debian-6.1-usbip-vfio.tgz in the repository, unless $VIRTTOOLS_FIXTURE_ARCHIVE names another.</summary>
    public static string ArchivePath =>
        Environment.GetEnvironmentVariable(ArchiveVariable) is { Length: > 0 } overridden
            ? Path.GetFullPath(overridden)
            : Path.Combine(RepositoryPaths.Fixtures, ArchiveName);

    /// <summary>One extraction shared by the whole test run. Read it; never write to it.</summary>
    public static string Shared => SharedCopy.Value;

    /// <summary>A private extraction a test may change; delete it with the returned handle.</summary>
    public static TemporaryTree CreateCopy()
    {
        var tree = new TemporaryTree("fixture-copy");
        Extract(tree.Path);
        return tree;
    }

    /// <summary>
    /// Extracts with the system's tar: on this machine it unpacks the 9,000 entries in about 0.2 s, where
    /// System.Formats.Tar takes seconds, and many tests each need a private copy.
    /// </summary>
    private static string Extract(string destination)
    {
        if (!File.Exists(ArchivePath))
            throw new FileNotFoundException($"The captured fixture is missing: {ArchivePath}. It is committed in tests/fixtures/; ${ArchiveVariable} overrides it.");
        var tar = new ProcessStartInfo("tar", new[] { "-xzf", ArchivePath, "-C", destination }) { RedirectStandardError = true };
        using var process = Process.Start(tar) ?? throw new InvalidOperationException("Cannot start tar.");
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"tar could not extract {ArchivePath}: {error}");
        return destination;
    }

    internal static string NewTemporaryFolder(string purpose)
    {
        var path = Path.Combine(ScratchRoot.Value, $"{purpose}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>
    /// Scratch trees live on tmpfs when the machine has one: creating and deleting a 9,000-file copy on this
    /// VM's ext4 (mounted with discard) costs seconds of system time per test, on tmpfs a tenth of that.
    /// Trees left by earlier runs that were killed are removed on first use.
    /// </summary>
    private static readonly Lazy<string> ScratchRoot = new(() =>
    {
        var parent = Directory.Exists("/dev/shm") && IsWritable("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        var root = Path.Combine(parent, "virttools-tests");
        Directory.CreateDirectory(root);
        foreach (var stale in Directory.EnumerateDirectories(root).Where(IsFromDeadRun)) TryDelete(stale);
        return root;
    });

    private static bool IsWritable(string directory)
    {
        try
        {
            var probe = Path.Combine(directory, $".virttools-probe-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>Folder names carry the test process id: "fixture-copy-1234-…".</summary>
    private static bool IsFromDeadRun(string folder)
    {
        var parts = Path.GetFileName(folder).Split('-');
        return parts.Length >= 3 && int.TryParse(parts[^2], out var pid) && pid != Environment.ProcessId
               && !Directory.Exists($"/proc/{pid}");
    }

    internal static void TryDelete(string folder)
    {
        try { Directory.Delete(folder, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
