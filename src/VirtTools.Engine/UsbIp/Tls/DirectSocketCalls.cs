using System.ComponentModel;
using System.Runtime.InteropServices;

namespace VirtTools.UsbIp.Tls;

/// <summary>
/// The system calls a relay makes on its TCP connection itself, past .NET's socket engine (see <see cref="RelayConnection"/>).
/// </summary>
internal static partial class DirectSocketCalls
{
    private const int GetFlags = 3, SetFlags = 4, NonBlocking = 0x800; // F_GETFL, F_SETFL, O_NONBLOCK (x86-64 and arm64)
    private const int Interrupted = 4, NoSignal = 0x4000, WaitAll = 0x100; // EINTR, MSG_NOSIGNAL, MSG_WAITALL

    /// <summary>
    /// Clears O_NONBLOCK, which .NET sets for good once a socket did asynchronous I/O: a read then waits in the kernel,
    /// and a shutdown still wakes it. False when fcntl failed.
    /// </summary>
    public static bool TryMakeBlocking(int fd)
    {
        var flags = Fcntl(fd, GetFlags, 0);
        return flags >= 0 && ((flags & NonBlocking) == 0 || Fcntl(fd, SetFlags, flags & ~NonBlocking) == 0);
    }

    /// <summary>recv(2) on a blocking descriptor: the bytes read, 0 at the end of the stream.</summary>
    public static int Receive(int fd, Span<byte> buffer) => Receive(fd, buffer, 0);

    /// <summary>
    /// recv(2) with MSG_WAITALL: returns once the whole buffer is filled, or with less at the end of the stream, on an
    /// error or a shutdown of the socket (which still wakes it), or on a signal.
    /// </summary>
    public static int ReceiveAll(int fd, Span<byte> buffer) => Receive(fd, buffer, WaitAll);

    private static unsafe int Receive(int fd, Span<byte> buffer, int flags)
    {
        fixed (byte* bytes = buffer)
        {
            while (true)
            {
                var n = Recv(fd, bytes, buffer.Length, flags);
                if (n >= 0) return (int)n;
                ThrowUnlessInterrupted("recv");
            }
        }
    }

    /// <summary>send(2) until every byte is taken (a blocking send may take part of them).</summary>
    public static unsafe void SendAll(int fd, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* start = bytes)
        {
            var sent = 0;
            while (sent < bytes.Length)
            {
                var n = Send(fd, start + sent, bytes.Length - sent, NoSignal);
                if (n >= 0) sent += (int)n;
                else ThrowUnlessInterrupted("send");
            }
        }
    }

    private static void ThrowUnlessInterrupted(string call)
    {
        var error = Marshal.GetLastPInvokeError();
        if (error != Interrupted) throw new IOException($"{call} on the relayed connection failed: {new Win32Exception(error).Message}", new Win32Exception(error));
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static unsafe partial nint Recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static unsafe partial nint Send(int fd, byte* buffer, nint length, int flags);
}
