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

    /// <summary>What is wrong with a field, or null: the bus id and the driver end up in sysfs paths.</summary>
    public string? Problem() =>
        RecordField.UsbBusId("busId", BusId)
        ?? (OriginalDriver is null ? null : RecordField.DriverName("originalDriver", OriginalDriver))
        ?? (VendorId is null ? null : RecordField.HexId("vendorId", VendorId))
        ?? (ProductId is null ? null : RecordField.HexId("productId", ProductId));

    public static JsonRecordStore<UsbIpExportRecord> Store(SystemRoot root) =>
        new(root, SystemPath, r => r.BusId, r => r.Problem(), UsbIpErrors.ExportStateCorruptId, UsbIpErrors.ExportRecordInvalidId,
            "Remove-UsbIpExport gives devices to whichever driver the kernel probes");
}
