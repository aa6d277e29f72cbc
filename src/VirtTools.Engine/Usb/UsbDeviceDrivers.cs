using VirtTools.Sysfs;

namespace VirtTools.Usb;

/// <summary>
/// The device-level drivers a USB device is told apart by: the generic "usb" driver that configures it for its
/// interface drivers, and usbip-host, which holds it while it is shared over USB/IP and says how in usbip_status.
/// The USB area reads them as facts of the device; the USB/IP area builds on them.
/// </summary>
public static class UsbDeviceDrivers
{
    public const string Generic = "usb";
    public const string UsbIpHost = "usbip-host";
    public const string UsbIpStatusAttribute = "usbip_status";

    /// <summary>usbip_status of a device directory; null when absent or not a known state.</summary>
    public static UsbIpStatus? ReadUsbIpStatus(SysfsDirectory device) =>
        device.Int(UsbIpStatusAttribute) is int code && Enum.IsDefined(typeof(UsbIpStatus), code) ? (UsbIpStatus)code : null;
}
