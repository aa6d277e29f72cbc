using System.ComponentModel;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace VirtTools.UsbIp.Tls;

/// <summary>
/// An AF_UNIX SOCK_STREAM socketpair(2), which .NET has no call for. usbip-host and vhci_hcd take any SOCK_STREAM
/// socket (they check only the type), so one end goes to the kernel while the other feeds the TLS relay. Both are
/// close-on-exec, as every .NET descriptor: the sysfs write that hands one over is made by this process.
/// </summary>
internal static partial class LocalSocketPair
{
    private const int AfUnix = 1, SockStream = 1, SockCloexec = 0x80000;

    public static (Socket Kernel, Socket Relay) Create()
    {
        Span<int> fds = stackalloc int[2];
        if (SocketPair(AfUnix, SockStream | SockCloexec, 0, ref MemoryMarshal.GetReference(fds)) != 0)
            throw new IOException($"socketpair failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
        return (Wrap(fds[0]), Wrap(fds[1]));
    }

    private static Socket Wrap(int fd) => new(new SafeSocketHandle(fd, ownsHandle: true));

    [LibraryImport("libc", EntryPoint = "socketpair", SetLastError = true)]
    private static partial int SocketPair(int domain, int type, int protocol, ref int fds);
}
