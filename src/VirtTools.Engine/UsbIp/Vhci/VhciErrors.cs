using System.Globalization;
using VirtTools.Diagnostics;
using VirtTools.Usb;

namespace VirtTools.UsbIp.Vhci;

/// <summary>The failures of attaching to and detaching from vhci_hcd ports.</summary>
public static class VhciErrors
{
    public const string NotLoaded = "VhciNotLoaded";
    public const string NoFreePort = "VhciNoFreePort";
    public const string PortNotInUse = "UsbIpPortNotInUse";
    public const string AttachFailed = "VhciAttachFailed";
    public const string PermissionDenied = "PermissionDenied";

    public static VirtToolsException NoController(string? target) => new(NotLoaded, FailureKind.NotInstalled,
        "There is no vhci_hcd controller: the vhci-hcd driver, which imported USB/IP devices attach to, is not loaded.",
        "Load it with 'modprobe vhci-hcd' (and add vhci-hcd to /etc/modules-load.d to load it at boot).", target);

    /// <summary>
    /// Every port of the hub the device needs is taken. The message states the capacity: how many ports of that
    /// speed each controller has, how many controllers, how many ports are in use; both counts are build options of
    /// the vhci-hcd module (the kernel refused to turn them into module parameters), so the fix is fewer imports or
    /// a module built with more.
    /// </summary>
    public static VirtToolsException NoFree(VhciHubCapacity hub, int controllers, UsbBusId busId)
    {
        var kind = hub.Hub == VhciHub.SuperSpeed ? "SuperSpeed (USB 3)" : "high-speed (USB 2)";
        var message = string.Create(CultureInfo.InvariantCulture,
            $"No free {kind} vhci_hcd port for device {busId}: all {hub.Ports} are in use ({controllers} controller{(controllers == 1 ? "" : "s")} × {hub.PortsPerController} {kind} ports; {hub.Ports - hub.Free} not free, {hub.InUse} of them with a device attached).");
        return new VirtToolsException(NoFreePort, FailureKind.LimitExceeded, message,
            "Detach devices you no longer need (Get-UsbIpPort -InUse | Disconnect-UsbIpDevice). For more ports, the vhci-hcd module must be built with "
            + "larger CONFIG_USBIP_VHCI_HC_PORTS (ports per hub, at most 15) and CONFIG_USBIP_VHCI_NR_HCS (controllers, at most 128): "
            + "they are build options, not module parameters.",
            busId);
    }

    /// <summary>Attaching and detaching write root-only files: refused before anything is imported.</summary>
    public static VirtToolsException NotRoot(string? target) => new(PermissionDenied, FailureKind.PermissionDenied,
        "Attaching and detaching USB/IP devices writes vhci_hcd's attach and detach files, which only root may write.",
        "Run as root (sudo).", target);

    public static VirtToolsException NotInUse(int port, Exception? cause = null) => new(PortNotInUse, FailureKind.InvalidArgument,
        string.Create(CultureInfo.InvariantCulture, $"vhci_hcd port {port} has no device attached: there is nothing to disconnect."),
        "Run Get-UsbIpPort -InUse to see the ports that hold imported devices.", port, cause);

    /// <summary>The kernel refused the attach for another reason than a taken port or a missing privilege.</summary>
    public static VirtToolsException Refused(int port, UsbBusId busId, Sysfs.KernelWriteException cause, string kernelSaid)
    {
        var why = cause.Errno switch
        {
            Sysfs.KernelErrno.EINVAL => "it rejected the socket or the device's speed (EINVAL)",
            Sysfs.KernelErrno.EAGAIN => "the controller is not ready (EAGAIN)",
            _ => cause.Message,
        };
        return new VirtToolsException(AttachFailed, FailureKind.DeviceError,
            string.Create(CultureInfo.InvariantCulture, $"vhci_hcd refused to attach {busId} to port {port}: {why}.{kernelSaid}"),
            "See the kernel log (dmesg | grep vhci) for the reason.", busId, cause);
    }

    /// <summary>The attach worked but its record could not be written, so the attach was undone.</summary>
    public static VirtToolsException RecordNotWritten(string path, UsbBusId busId, Exception cause) => new(AttachFailed, FailureKind.OperationFailed,
        $"The attach record {path} could not be written ({cause.Message}); the device was detached again.",
        "Check that /run/vhci_hcd is a directory this user may write (run as root).", busId, cause);
}
