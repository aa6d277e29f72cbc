using Microsoft.Win32.SafeHandles;
using VirtTools.State;
using VirtTools.Sysfs;

namespace VirtTools.Usb;

/// <summary>
/// usbfs through open(2) and ioctl(2) on the node under the root (include/uapi/linux/usbdevice_fs.h). On a captured
/// tree the node is a plain file or missing, and the calls fail as they would there (ENOTTY, ENOENT).
/// </summary>
public sealed class LinuxUsbFs : IUsbFs
{
    /// <summary>_IOR('U', 24, unsigned int) and _IOR('U', 25, unsigned int).</summary>
    public const uint ClaimPortRequest = 0x80045518, ReleasePortRequest = 0x80045519;

    private readonly SystemRoot _root;

    public LinuxUsbFs(SystemRoot root) => _root = root;

    public IUsbFsHub OpenHub(string devicePath)
    {
        var path = _root.ResolveForWrite(devicePath);
        int fd = Libc.Open(path, Libc.ORdWr | Libc.OCloexec, 0);
        if (fd < 0) throw Libc.Failure("open", path);
        return new Hub(new SafeFileHandle(fd, ownsHandle: true), path);
    }

    private sealed class Hub(SafeFileHandle handle, string path) : IUsbFsHub
    {
        public void ClaimPort(int port) => Call(ClaimPortRequest, port, "USBDEVFS_CLAIM_PORT");

        public void ReleasePort(int port) => Call(ReleasePortRequest, port, "USBDEVFS_RELEASE_PORT");

        private void Call(uint request, int port, string name)
        {
            uint argument = (uint)port;
            bool added = false;
            handle.DangerousAddRef(ref added);
            try
            {
                if (Libc.Ioctl((int)handle.DangerousGetHandle(), request, ref argument) < 0) throw Libc.Failure($"{name} {port} on", path);
            }
            finally
            {
                if (added) handle.DangerousRelease();
            }
        }

        /// <summary>Closing the node releases every port it claimed (usbdev_release → usb_hub_release_all_ports).</summary>
        public void Dispose() => handle.Dispose();
    }
}
