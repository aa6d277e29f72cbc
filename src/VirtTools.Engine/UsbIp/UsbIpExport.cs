using VirtTools.Usb;

namespace VirtTools.UsbIp;

/// <summary>
/// A device shared through usbip-host: bound to the driver, listed in its match_busid table, or both. A bus id in
/// the table whose device is unplugged is still shown (<see cref="IsPresent"/> false): usbip-host binds it again
/// when it comes back.
/// </summary>
public sealed class UsbIpExport
{
    public required UsbBusId BusId { get; init; }

    /// <summary>usbip_status while bound; null when the device is not bound to usbip-host.</summary>
    public UsbIpStatus? Status { get; init; }

    /// <summary>The device is bound to usbip-host now.</summary>
    public bool IsBound { get; init; }

    /// <summary>
    /// Who holds the device: the subject of its client's certificate when it came over TLS, else its "address:port";
    /// null when nobody does or the server that handed it over did not say (a stock usbipd keeps no record).
    /// </summary>
    public string? Client => Holder?.Client;

    /// <summary>The holding client's "address:port" ("[::1]:50123" for IPv6).</summary>
    public string? ClientAddress => Holder?.Endpoint;

    /// <summary>The subject of the holding client's verified certificate; null without TLS or a client certificate.</summary>
    public string? ClientIdentity => Holder?.Subject;

    /// <summary>The "sha256:" fingerprint of the holding client's certificate; null as <see cref="ClientIdentity"/>.</summary>
    public string? ClientFingerprint => Holder?.Fingerprint;

    /// <summary>The record the managed server wrote when it handed the device over, while it is current; null otherwise.</summary>
    public Host.UsbIpHolderRecord? Holder { get; init; }

    /// <summary>The bus id is in usbip-host's match_busid table (16 entries, lost when the module unloads).</summary>
    public bool IsInMatchTable { get; init; }

    /// <summary>A device sits at this bus id now.</summary>
    public bool IsPresent => Device is not null;

    public int? BusNumber => Device?.BusNumber;

    public int? DeviceNumber => Device?.DeviceNumber;

    public UsbId? UsbId => Device?.UsbId;

    public string? VendorId => Device?.VendorId;

    public string? ProductId => Device?.ProductId;

    public string? VendorName => Device?.VendorName;

    public string? ProductName => Device?.ProductName;

    public string? Manufacturer => Device?.Manufacturer;

    public string? Product => Device?.Product;

    public string? SerialNumber => Device?.SerialNumber;

    public double? SpeedMbps => Device?.SpeedMbps;

    public string? Description => Device?.Description;

    public string? SysfsPath => Device?.SysfsPath;

    /// <summary>The device as Get-UsbDevice shows it; null when nothing is plugged in at this bus id.</summary>
    public UsbDevice? Device { get; init; }

    public required string Root { get; init; }

    public override string ToString() => BusId.ToString();
}
