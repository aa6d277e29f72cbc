using VirtTools.Usb;
using VirtTools.UsbIp.Protocol;

namespace VirtTools.UsbIp.Server;

/// <summary>
/// Where the server learns which devices it may offer: the devices bound to usbip-host, as current as the source
/// can know them (<see cref="SysfsExportedDeviceSource"/> reads sysfs each time; <see cref="CachedExportedDeviceSource"/>
/// keeps that reading until the kernel says something changed). Never throws for a device that vanishes meanwhile.
/// </summary>
public interface IExportedDeviceSource
{
    IReadOnlyList<ExportedDevice> ReadExportedDevices();
}

/// <summary>One device bound to usbip-host: its record as the protocol sends it and usbip_status (null when unreadable).</summary>
public sealed record ExportedDevice(UsbIpDeviceRecord Record, UsbIpStatus? Status);
