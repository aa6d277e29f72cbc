namespace VirtTools.Pci;

/// <summary>
/// What makes a passthrough survive reboot the way distributions expect: a modprobe.d file per stub driver with
/// `options &lt;stub&gt; ids=vvvv:dddd,...` (the stub claims those ids when it loads) and `softdep &lt;host driver&gt; pre: &lt;stub&gt;`
/// (the stub loads before the host driver can grab the device). The file is generated from the persisted records,
/// so adding and removing a function rewrites exactly its lines, and the last one removes the file.
/// </summary>
public static class ModprobePersistence
{
    public static string FilePath(string stubDriver) => $"/etc/modprobe.d/virttools-{stubDriver}.conf";

    /// <summary>The file's lines for <paramref name="stubDriver"/>; empty when nothing is persisted for it (delete the file).</summary>
    public static IReadOnlyList<string> Lines(string stubDriver, IEnumerable<PassthroughRecord> records)
    {
        var persisted = records.Where(r => r.Persisted && r.Driver == stubDriver).ToList();
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
}
