using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Usb;

namespace VirtTools.Config;

/// <summary>
/// usbip.exports rules against the host: the one local device each match names (at whatever bus id it has now)
/// is bound to usbip-host. A match that fits several devices is refused whole before anything is applied.
/// </summary>
internal static class UsbIpExportDrift
{
    public const string AmbiguousErrorId = ConfigErrors.ExportAmbiguousId;

    public static IEnumerable<DriftItem> Evaluate(SystemRoot root, VirtHostConfig config, IUsbIpExportApplier exporter)
    {
        var rules = config.UsbIp?.Exports ?? Array.Empty<UsbIpExportRule>();
        if (rules.Count == 0) return Array.Empty<DriftItem>();
        var candidates = Exportable(root).ToList();
        var matches = rules.Select(rule => candidates.Where(rule.Match.Matches).ToList()).ToList();
        var ambiguous = rules.Zip(matches).Where(pair => pair.Second.Count > 1)
            .Select(pair => $"{pair.First.Location ?? config.Path}: the export match {pair.First.Match} fits {pair.Second.Count} devices ({string.Join(", ", pair.Second.Select(d => d.BusId))})")
            .ToList();
        if (ambiguous.Count > 0)
            throw new VirtToolsException(AmbiguousErrorId, FailureKind.InvalidData,
                $"The host profile '{config.Path}' does not name one device per export on this host; nothing was applied:\n  " + string.Join("\n  ", ambiguous),
                "Add the serial to the match (Get-UsbDevice shows SerialNumber), or name the device by busId.", config.Path);
        return rules.Zip(matches).Select(pair => Item(root, pair.First, pair.Second.SingleOrDefault(), exporter)).ToList();
    }

    /// <summary>Devices usbip-host could take: not hubs, and not devices imported through vhci (the kernel refuses that loop).</summary>
    public static IEnumerable<UsbDevice> Exportable(SystemRoot root) =>
        new UsbDeviceReader(root).GetDevices().Where(d => !d.IsHub && !d.IsImported);

    private static DriftItem Item(SystemRoot root, UsbIpExportRule rule, UsbDevice? device, IUsbIpExportApplier exporter)
    {
        bool inSync = device?.IsExported == true;
        return new DriftItem
        {
            Drift = new VirtHostDrift
            {
                Area = VirtHostArea.UsbIpExport,
                Item = rule.Match.ToString(),
                Desired = "exported",
                Actual = device is null ? null
                    : inSync ? $"exported at {device.BusId} ({device.UsbIpStatus?.ToString() ?? "status unknown"})"
                    : $"at {device.BusId} on {device.Driver ?? "no driver"}",
                InSync = inSync,
                Location = rule.Location,
                Root = root.Path,
            },
            PlanFix = inSync ? null : () => Fix(root, rule, device, exporter),
        };
    }

    private static DriftFix Fix(SystemRoot root, UsbIpExportRule rule, UsbDevice? device, IUsbIpExportApplier exporter)
    {
        if (device is null)
            return DriftFix.Skip($"Export {rule.Match}", "No device that this match names is plugged in; it is exported once it is (the virttools agent watches for it).");
        var action = $"Export {device.BusId} ({device.Description ?? device.VendorId + ":" + device.ProductId}) through usbip-host";
        return new DriftFix(action, cancellation => exporter.Export(root, device.BusId, cancellation), SyncOutcome.RolledBack);
    }
}
