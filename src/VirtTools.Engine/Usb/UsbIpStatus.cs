namespace VirtTools.Usb;

/// <summary>usbip-host's <c>usbip_status</c> for an exported device (the kernel's SDEV_ST_*).</summary>
public enum UsbIpStatus
{
    /// <summary>Bound and waiting for a client to import it.</summary>
    Available = 1,

    /// <summary>A client imported it; the kernel holds the connection's socket.</summary>
    InUse = 2,

    /// <summary>The connection failed; the device needs unbinding and binding again.</summary>
    Error = 3,
}
