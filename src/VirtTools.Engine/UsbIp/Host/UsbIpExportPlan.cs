using VirtTools.Sysfs;
using VirtTools.Usb;

namespace VirtTools.UsbIp.Host;

/// <summary>
/// What Export-UsbIpDevice or Remove-UsbIpExport will do to one device, decided after every check and before any
/// write, so -WhatIf can list the writes and the confirmation can say whether a client loses the device.
/// </summary>
public sealed class UsbIpExportPlan
{
    internal UsbIpExportPlan(UsbBusId busId, UsbDevice? device, IReadOnlyList<AttributeWrite> writes, string toDriver)
    {
        BusId = busId;
        Device = device;
        Writes = writes;
        ToDriver = toDriver;
    }

    public UsbBusId BusId { get; }

    /// <summary>The device as it was when planned; null for a match_busid entry whose device is unplugged.</summary>
    public UsbDevice? Device { get; }

    /// <summary>The device-level driver it has now (export: the one a rollback restores).</summary>
    public string? FromDriver => Device?.Driver;

    /// <summary>The kernel attribute writes, in order.</summary>
    public IReadOnlyList<AttributeWrite> Writes { get; }

    /// <summary>
    /// The driver the device ends up on: usbip-host for an export; for a removal the driver remembered at export,
    /// else "usb" (the generic driver that then probes the interface drivers).
    /// </summary>
    public string ToDriver { get; }

    /// <summary>Removal: a client imported the device (usbip_status 2) and loses it.</summary>
    public bool IsInUse => Device?.UsbIpStatus == UsbIpStatus.InUse;

    /// <summary>Export of a device usbip-host already holds: nothing to write.</summary>
    public bool ChangesNothing => Writes.Count == 0;

    /// <summary>The device and then each write, one per line, for -WhatIf and -Confirm.</summary>
    public IEnumerable<string> Describe()
    {
        yield return $"{BusId} ({Device?.VendorId ?? "????"}:{Device?.ProductId ?? "????"} {Device?.Description}): {FromDriver ?? "no driver"} -> {ToDriver}";
        foreach (var write in Writes) yield return "  " + write;
    }
}
