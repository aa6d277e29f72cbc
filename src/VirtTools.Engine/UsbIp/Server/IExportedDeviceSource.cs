using VirtTools.UsbIp.Protocol;

namespace VirtTools.UsbIp.Server;

/// <summary>Where the server learns which devices it may offer: the devices bound to usbip-host, read anew per request.</summary>
public interface IExportedDeviceSource
{
    IReadOnlyList<ExportedDevice> ReadExportedDevices();
}

/// <summary>One device bound to usbip-host: its record as the protocol sends it and usbip-host's state.</summary>
public sealed record ExportedDevice(UsbIpDeviceRecord Record, UsbIpHostStatus Status);

/// <summary>usbip_status of a device bound to usbip-host (stub_dev.c: SDEV_ST_*).</summary>
public enum UsbIpHostStatus
{
    Unknown = 0,
    Available = 1,
    Used = 2,
    Error = 3,
}
