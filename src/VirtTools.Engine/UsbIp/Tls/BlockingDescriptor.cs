using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace VirtTools.UsbIp.Tls;

/// <summary>
/// Makes a socket's descriptor blocking again for a relay pump. Once a .NET socket has done asynchronous I/O (the TLS
/// handshake did), .NET keeps its descriptor non-blocking and emulates a blocking Receive by parking the caller until
/// its epoll thread sees the socket readable: one more thread wake-up for every read that waits, on every hop of every
/// URB. The relay owns the connection from its start and only its pumps use it, so with O_NONBLOCK cleared the kernel
/// wakes the pump itself. A shutdown still wakes a read blocked there, which is how a relay ends.
/// </summary>
internal static partial class BlockingDescriptor
{
    private const int GetFlags = 3, SetFlags = 4, NonBlocking = 0x800; // F_GETFL, F_SETFL, O_NONBLOCK (x86-64 and arm64)

    /// <summary>False when fcntl failed; the socket then stays as .NET left it, which works, one wake-up slower.</summary>
    public static bool TryRestore(Socket socket)
    {
        var fd = (int)socket.SafeHandle.DangerousGetHandle();
        var flags = Fcntl(fd, GetFlags, 0);
        return flags >= 0 && ((flags & NonBlocking) == 0 || Fcntl(fd, SetFlags, flags & ~NonBlocking) == 0);
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);
}
