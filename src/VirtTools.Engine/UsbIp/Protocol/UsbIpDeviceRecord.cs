using VirtTools.Usb;

namespace VirtTools.UsbIp.Protocol;

/// <summary>
/// usbip_usb_device: how a server describes one exported device, in OP_REP_DEVLIST (followed by its interfaces)
/// and in OP_REP_IMPORT (without them).
/// </summary>
public sealed class UsbIpDeviceRecord
{
    /// <summary>The device's sysfs path on the server ("/sys/devices/pci0000:00/0000:00:01.0/usb2/2-3").</summary>
    public required string Path { get; init; }

    public required string BusId { get; init; }

    public uint BusNumber { get; init; }

    public uint DeviceNumber { get; init; }

    public UsbSpeed Speed { get; init; }

    public ushort VendorId { get; init; }

    public ushort ProductId { get; init; }

    public ushort BcdDevice { get; init; }

    public byte DeviceClass { get; init; }

    public byte DeviceSubClass { get; init; }

    public byte DeviceProtocol { get; init; }

    public byte ConfigurationValue { get; init; }

    public byte NumConfigurations { get; init; }

    /// <summary>bNumInterfaces as sent; in OP_REP_DEVLIST exactly this many interface records follow.</summary>
    public byte NumInterfaces { get; init; }

    /// <summary>The interface records of OP_REP_DEVLIST; empty in OP_REP_IMPORT.</summary>
    public IReadOnlyList<UsbIpInterfaceRecord> Interfaces { get; init; } = Array.Empty<UsbIpInterfaceRecord>();

    /// <summary>(busnum &lt;&lt; 16) | devnum: how URB headers and vhci's attach name the device.</summary>
    public uint DeviceId => (BusNumber << 16) | (DeviceNumber & 0xffff);
}
