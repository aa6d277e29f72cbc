namespace VirtTools.Usb;

/// <summary>
/// The usbfs calls the engine makes on a hub's /dev/bus/usb node. A root owns its usbfs (<see cref="Sysfs.SystemRoot.UsbFs"/>):
/// the real one opens the node under the root and calls ioctl(2); a sandbox's kernel models the hub's port owners.
/// Failures are those of .NET's own file calls for the errno: EACCES/EPERM as <see cref="UnauthorizedAccessException"/>,
/// ENOENT as <see cref="FileNotFoundException"/>, any other errno as an <see cref="IOException"/> whose HResult is the errno.
/// </summary>
public interface IUsbFs
{
    /// <summary>Opens the hub's node ("/dev/bus/usb/001/001"); the claims made through it last until it is disposed.</summary>
    IUsbFsHub OpenHub(string devicePath);
}

/// <summary>An open hub node: the owner of the ports claimed through it (closing it releases them, as usbdev_release does).</summary>
public interface IUsbFsHub : IDisposable
{
    /// <summary>USBDEVFS_CLAIM_PORT: EINVAL for a device that is not a hub or a port it lacks, EBUSY when another owner holds it.</summary>
    void ClaimPort(int port);

    /// <summary>USBDEVFS_RELEASE_PORT: ENOENT when this node does not hold the port.</summary>
    void ReleasePort(int port);
}
