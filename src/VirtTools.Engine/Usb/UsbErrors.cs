using VirtTools.Diagnostics;

namespace VirtTools.Usb;

/// <summary>The failures about local USB devices that readers and the export commands report the same way.</summary>
public static class UsbErrors
{
    public const string DeviceNotFound = "UsbDeviceNotFound";

    public static VirtToolsException NoDevice(string busId) => new(DeviceNotFound, FailureKind.NotFound,
        $"No USB device has the bus id '{busId}'.",
        "Run Get-UsbDevice -IncludeHub to see the bus ids present; a bus id names a physical port (\"1-1.2\"), so the device must be plugged in there.",
        busId);
}
