using System.Globalization;

namespace VirtTools.Usb;

/// <summary>
/// A downstream port of a hub, named as the kernel names its port device: the port a device hangs off is its parent
/// hub plus the last number of its bus id ("1-2.3" is port 3 of hub "1-2", "1-2" is port 2 of the root hub "usb1").
/// USBDEVFS_CLAIM_PORT takes this pair: the hub's usbfs node and the 1-based port number.
/// </summary>
public readonly record struct HubPort(UsbBusId HubBusId, int Port)
{
    /// <summary>The port the device at <paramref name="busId"/> is plugged into; false for a root hub.</summary>
    public static bool TryFrom(UsbBusId busId, out HubPort port)
    {
        port = busId.Parent is { } hub && busId.Port is { } number ? new HubPort(hub, number) : default;
        return !busId.IsRootHub;
    }

    /// <summary>The name of the port's sysfs device ("usb1-port2", "1-2-port3").</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{HubBusId}-port{Port}");
}
