using VirtTools.Usb;
using VirtTools.UsbIp.Protocol;

namespace VirtTools.UsbIp.Client;

/// <summary>A device a USB/IP server offers (one record of its OP_REP_DEVLIST), with names from usb.ids.</summary>
public sealed class UsbIpRemoteDevice
{
    public required string ComputerName { get; init; }

    public int TcpPort { get; init; }

    /// <summary>The device's busid on the server: what Connect-UsbIpDevice -BusId takes.</summary>
    public required UsbBusId BusId { get; init; }

    /// <summary>The device's sysfs path on the server.</summary>
    public required string Path { get; init; }

    public int BusNumber { get; init; }

    public int DeviceNumber { get; init; }

    /// <summary>(BusNumber &lt;&lt; 16) | DeviceNumber, as vhci's attach and the URB headers name the device.</summary>
    public long DeviceId { get; init; }

    public UsbSpeed Speed { get; init; }

    /// <summary>1.5, 12, 480, 5000 or 10000; null when the server does not know.</summary>
    public double? SpeedMbps { get; init; }

    public required UsbId UsbId { get; init; }

    /// <summary>The vendor id as four lowercase hex digits ("046d").</summary>
    public string VendorId => UsbId.VendorId;

    public string ProductId => UsbId.ProductId;

    public string? VendorName { get; init; }

    public string? ProductName { get; init; }

    /// <summary>bDeviceClass as two hex digits ("00": defined per interface).</summary>
    public required string DeviceClass { get; init; }

    public string? DeviceClassName { get; init; }

    public int ConfigurationValue { get; init; }

    public int NumConfigurations { get; init; }

    public IReadOnlyList<UsbIpRemoteInterface> Interfaces { get; init; } = Array.Empty<UsbIpRemoteInterface>();

    public override string ToString() => $"{ComputerName}:{BusId}";
}

/// <summary>One interface of a remote device: number, class triple as hex, and the class name from usb.ids.</summary>
public sealed record UsbIpRemoteInterface(int Number, string Class, string SubClass, string Protocol, string? ClassName)
{
    public override string ToString() => $"{Number}: {Class}/{SubClass}/{Protocol}" + (ClassName is null ? "" : $" {ClassName}");
}
