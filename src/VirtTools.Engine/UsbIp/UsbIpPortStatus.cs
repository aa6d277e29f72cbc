namespace VirtTools.UsbIp;

/// <summary>A vhci_hcd port's state, the <c>sta</c> column of its status file (the kernel's VDEV_ST_*).</summary>
public enum UsbIpPortStatus
{
    /// <summary>Nothing attached: <c>usbip attach</c> may use it.</summary>
    Free = 4,

    /// <summary>The controller is not ready (its root hub is not running); no attach can use it.</summary>
    NotAssigned = 5,

    /// <summary>A remote device is attached.</summary>
    InUse = 6,

    /// <summary>The connection failed; detach the port to free it.</summary>
    Error = 7,
}
