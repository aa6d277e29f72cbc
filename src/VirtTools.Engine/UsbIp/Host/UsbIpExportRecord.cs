using VirtTools.State;
using VirtTools.Sysfs;

namespace VirtTools.UsbIp.Host;

/// <summary>
/// A device Export-UsbIpDevice handed to usbip-host: the driver it came from, so Remove-UsbIpExport (from any shell)
/// can give it back. Kept under /run, like the match_busid table it complements: both are gone after a reboot.
/// </summary>
public sealed record UsbIpExportRecord
{
    public const string SystemPath = "/run/virttools/usbip-exports.json";

    public required string BusId { get; init; }

    /// <summary>The device-level driver before the export ("usb", the generic driver, almost always); null when unbound.</summary>
    public string? OriginalDriver { get; init; }

    public string? VendorId { get; init; }

    public string? ProductId { get; init; }

    public static JsonRecordStore<UsbIpExportRecord> Store(SystemRoot root) =>
        new(root, SystemPath, r => r.BusId, "UsbIpExportStateCorrupt", "Remove-UsbIpExport gives devices to whichever driver the kernel probes");
}
