using VirtTools.Diagnostics;
using VirtTools.Sysfs;

namespace VirtTools.Usb;

/// <summary>The failures about local USB devices that readers and the export commands report the same way.</summary>
public static class UsbErrors
{
    public const string DeviceNotFound = "UsbDeviceNotFound";
    public const string NotAPortId = "UsbNotAPort";
    public const string HubNotFoundId = "UsbHubNotFound";
    public const string PortClaimBusyId = "UsbPortClaimBusy";
    public const string PortNotClaimableId = "UsbPortNotClaimable";
    public const string PortClaimDeniedId = "UsbPortClaimDenied";
    public const string PortClaimFailedId = "UsbPortClaimFailed";

    public static VirtToolsException NoDevice(string busId) => new(DeviceNotFound, FailureKind.NotFound,
        $"No USB device has the bus id '{busId}'.",
        "Run Get-UsbDevice -IncludeHub to see the bus ids present; a bus id names a physical port (\"1-1.2\"), so the device must be plugged in there.",
        busId);

    public static VirtToolsException NotAPort(UsbBusId busId) => new(NotAPortId, FailureKind.InvalidArgument,
        $"'{busId}' names no hub port: a port is a device bus id such as 1-2 or 1-2.3 (a root hub such as usb1 hangs off no port).",
        "Give the bus id a device gets when it is plugged into the port (Get-UsbDevice shows them).", busId);

    public static VirtToolsException NoHub(UsbBusId busId, HubPort port) => new(HubNotFoundId, FailureKind.NotFound,
        $"Port {port.Port} of hub '{port.HubBusId}' cannot be claimed for '{busId}': the hub is not there (or has no usbfs node).",
        "Check the bus id with Get-UsbDevice -IncludeHub; the hub must be plugged in for its ports to be claimed.", busId);

    /// <summary>A usbfs call on the hub's node failed (<paramref name="step"/>: open, claim or release), said in the terms of its errno.</summary>
    public static VirtToolsException PortClaimFailed(UsbBusId busId, HubPort port, string hubNode, string step, Exception cause)
    {
        var errno = SysfsWriter.ErrnoOf(cause);
        var what = $"{(step == "open" ? "Opening" : step == "claim" ? "Claiming port " + port.Port + " on" : "Releasing port " + port.Port + " on")} {hubNode} (hub '{port.HubBusId}', for '{busId}') failed";
        return errno switch
        {
            KernelErrno.EBUSY => new(PortClaimBusyId, FailureKind.ResourceBusy,
                $"{what}: the port is already claimed, by usbip-host while it exports the device plugged there or by another program holding the hub's node.",
                $"If usbip-host holds it, the device is already shared; otherwise find the holder with 'fuser -v {hubNode}' and stop it.", busId, cause),
            KernelErrno.EINVAL or KernelErrno.ENOTTY => new(PortNotClaimableId, FailureKind.InvalidArgument,
                $"{what}: {(errno == KernelErrno.ENOTTY ? "the node is not a usbfs device (a captured tree has plain files)" : $"'{port.HubBusId}' is not a hub with a port {port.Port}")}.",
                "Check the bus id with Get-UsbDevice -IncludeHub: the parent must be a hub, and the port one it has (its maxchild).", busId, cause),
            KernelErrno.EACCES or KernelErrno.EPERM => new(PortClaimDeniedId, FailureKind.PermissionDenied,
                $"{what}: permission denied.", "Run as root (sudo): claiming a port needs write access to the hub's usbfs node.", busId, cause),
            KernelErrno.ENOENT when step == "release" => new(PortClaimFailedId, FailureKind.OperationFailed,
                $"{what}: the kernel says this node does not hold the port (ENOENT).", "Nothing to release; look at what else claims the port (fuser -v " + hubNode + ").", busId, cause),
            _ => new(PortClaimFailedId, FailureKind.OperationFailed,
                $"{what}: {cause.Message} ({errno}).", "See the kernel log (dmesg); the hub may have been unplugged.", busId, cause),
        };
    }
}
