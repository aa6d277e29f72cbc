using System.Globalization;
using System.Text.RegularExpressions;
using VirtTools.Diagnostics;
using VirtTools.State;
using VirtTools.Sysfs;
using VirtTools.UsbIp.Vhci;

namespace VirtTools.UsbIp.Containers;

/// <summary>A port's device given to a container, as the ledger keeps it: the port and its attach record with the container's lines.</summary>
public sealed record ContainerGrantEntry(int Port, VhciPortRecord Record)
{
    public ContainerGrant Grant => Record.Container!;
}

/// <summary>
/// What was given to which container, kept apart from usbip's records: one file per port and container under
/// /run/virttools/container-grants ("port5@desk042", mode 0600 in a 0700 folder, written through
/// <see cref="AtomicFile"/>: inside the root, no symlink followed), holding the attach record with the container's
/// lines. The /run/vhci_hcd record alone is not enough to take the nodes back once the device is gone: the kernel
/// frees a port whose device went away without a word to /run/vhci_hcd, and <c>usbip attach</c> or
/// <c>usbip detach</c> overwrite or remove that file knowing nothing of containers. An entry is written before a
/// node is added and removed only once every node is taken back, so a crash in between leaves it to the next sweep.
/// </summary>
public static partial class ContainerGrantLedger
{
    public const string Directory = "/run/virttools/container-grants";

    /// <summary>A record with <see cref="ContainerGrant.MaxNodes"/> nodes is a few kilobytes; a bigger file is not ours.</summary>
    public const int MaxFileBytes = 16 * 1024;

    /// <summary>More entries than any host has ports (usbcore allows 31 buses of 15 + 15 vhci ports each); the rest is not read.</summary>
    public const int MaxEntries = 1024;

    private const UnixFileMode FolderMode = (UnixFileMode)0b111_000_000;
    private const UnixFileMode ParentMode = (UnixFileMode)0b111_101_101;

    /// <summary>Writes (or replaces) the entry of this port and the record's container.</summary>
    public static void Write(SystemRoot root, int port, VhciPortRecord record)
    {
        if (record.Container is not { } grant) throw new ArgumentException("Only a record that names a container goes in the ledger.", nameof(record));
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("Container grants exist on Linux only.");
        var folder = root.ResolveForWrite(Directory);
        if (!System.IO.Directory.Exists(folder))
        {
            // /run/virttools holds public records (0755); only this folder is root's alone.
            var parent = Path.GetDirectoryName(folder)!;
            if (!System.IO.Directory.Exists(parent)) System.IO.Directory.CreateDirectory(parent, ParentMode);
            System.IO.Directory.CreateDirectory(folder, FolderMode);
        }
        AtomicFile.WriteText(folder + "/" + FileName(port, grant.Name), record.ToFileText(), AtomicFile.OwnerOnly);
    }

    /// <summary>Removes the entry of this port and container; none there is no error.</summary>
    public static void Delete(SystemRoot root, int port, string container) =>
        AtomicFile.Delete(root.ResolveForWrite(Directory) + "/" + FileName(port, container));

    /// <summary>
    /// The entries, of one container or of all, in file-name order; a file that is not an entry (a foreign name, a
    /// symlink, too big, a record that does not name the container of its file name) is left out and left alone.
    /// </summary>
    public static IReadOnlyList<ContainerGrantEntry> Read(SystemRoot root, string? container = null)
    {
        var folder = root.ResolveForWrite(Directory);
        IEnumerable<string> names;
        try
        {
            names = System.IO.Directory.Exists(folder)
                ? System.IO.Directory.EnumerateFiles(folder).Select(Path.GetFileName).OfType<string>().Take(MaxEntries).Order(StringComparer.Ordinal).ToList()
                : Array.Empty<string>();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Array.Empty<ContainerGrantEntry>();
        }
        var entries = new List<ContainerGrantEntry>();
        foreach (var name in names)
        {
            var match = EntryName().Match(name);
            if (!match.Success || container is not null && match.Groups[2].Value != container) continue;
            if (ReadRecord(folder + "/" + name) is not { Container: { } grant } record || grant.Name != match.Groups[2].Value) continue;
            entries.Add(new ContainerGrantEntry(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), record));
        }
        return entries;
    }

    private static VhciPortRecord? ReadRecord(string path)
    {
        try
        {
            return VhciPortRecord.Parse(AtomicFile.ReadText(path, MaxFileBytes));
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or VirtToolsException)
        {
            return null;
        }
    }

    private static string FileName(int port, string container) =>
        ContainerNameText.FindProblem(container) is { } problem ? throw ContainerErrors.InvalidName(container, problem)
        : string.Create(CultureInfo.InvariantCulture, $"port{port}@{container}");

    [GeneratedRegex(@"^port([0-9]{1,5})@([A-Za-z0-9_][A-Za-z0-9_.-]{0,63})\z")]
    private static partial Regex EntryName();
}
