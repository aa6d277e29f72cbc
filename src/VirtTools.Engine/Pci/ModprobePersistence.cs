using VirtTools.State;
using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>
/// What makes a passthrough survive reboot the way distributions expect: a modprobe.d file per stub driver with
/// `options &lt;stub&gt; ids=vvvv:dddd,...` (the stub claims those ids when it loads) and `softdep &lt;host driver&gt; pre: &lt;stub&gt;`
/// (the stub loads before the host driver can grab the device). The file is generated from the persisted records,
/// so adding and removing a function rewrites exactly its lines, and the last one removes the file.
/// modprobe runs what these files say as root at boot, so every name and id is checked against its grammar
/// (<see cref="PassthroughRecord.Problem"/>) before it becomes a line: a newline in a driver name would be a new command.
/// </summary>
public static class ModprobePersistence
{
    private const string Folder = "/etc/modprobe.d";

    public static string FilePath(string stubDriver) => $"{Folder}/virttools-{PassthroughRecord.RequireDriverName(stubDriver)}.conf";

    /// <summary>The file's lines for <paramref name="stubDriver"/>; empty when nothing is persisted for it (delete the file).</summary>
    public static IReadOnlyList<string> Lines(string stubDriver, IEnumerable<PassthroughRecord> records)
    {
        PassthroughRecord.RequireDriverName(stubDriver);
        var all = records.ToList();
        foreach (var record in all)
            if (record.Problem() is { } problem)
                throw PciErrors.PassthroughRecordInvalid(record.Address, problem);
        var persisted = all.Where(r => r.Persisted && r.Driver == stubDriver).ToList();
        if (persisted.Count == 0) return Array.Empty<string>();
        var ids = persisted.Where(r => r.VendorId is not null && r.DeviceId is not null)
            .Select(r => $"{r.VendorId}:{r.DeviceId}").Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var lines = new List<string>
        {
            "# Written by VirtTools Set-PciPassthrough -Persist; Remove-PciPassthrough -Persist removes these lines.",
            $"# Functions: {string.Join(", ", persisted.Select(r => r.Address).Order(StringComparer.Ordinal))}",
            $"options {stubDriver} ids={string.Join(",", ids)}",
        };
        lines.AddRange(persisted.Select(r => r.OriginalDriver).OfType<string>().Where(d => d != stubDriver)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(host => $"softdep {host} pre: {stubDriver}"));
        return lines;
    }

    /// <summary>
    /// Writes (or, with nothing persisted, deletes) <paramref name="stubDriver"/>'s file from <paramref name="records"/>,
    /// mode 0644 as distributions ship modprobe.d files, through <see cref="AtomicFile"/>.
    /// </summary>
    public static void Write(SystemRoot root, string stubDriver, IEnumerable<PassthroughRecord> records)
    {
        var lines = Lines(stubDriver, records);
        var path = root.ResolveForWrite(Folder) + "/" + Path.GetFileName(FilePath(stubDriver));
        if (lines.Count == 0) AtomicFile.Delete(path);
        else AtomicFile.WriteText(path, string.Join("\n", lines) + "\n", AtomicFile.Public);
    }

    /// <summary>The stub driver whose file <paramref name="filePath"/> (from <see cref="FilePath"/>) is.</summary>
    public static string StubDriverOf(string filePath) =>
        PassthroughRecord.RequireDriverName(Path.GetFileName(filePath)["virttools-".Length..^".conf".Length]);
}
