using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace VirtTools.UsbIp.Server;

/// <summary>
/// The kernel's uevents: a NETLINK_KOBJECT_UEVENT socket bound to multicast group 1, where the kernel itself
/// broadcasts (group 2 is udev's re-broadcast, which needs a running udev and is not ours to depend on). .NET has no
/// AF_NETLINK address family, so the socket is created and bound here and then handed to <see cref="Socket"/>, which
/// waits for it asynchronously like any other. Opening it needs no privilege, but a container may refuse it.
/// </summary>
public sealed partial class NetlinkUeventChannel : IUeventChannel
{
    private const int AddressFamilyNetlink = 16, SocketRaw = 3, CloseOnExec = 0x80000, KobjectUevent = 15;
    private const uint KernelGroup = 1;
    private const int SocketAddressSize = 12; // sockaddr_nl: family u16, pad u16, pid u32, groups u32

    /// <summary>Room for bursts (a hub with many devices plugged at once) before the kernel drops uevents.</summary>
    private const int ReceiveBufferBytes = 1 << 20;

    private readonly Socket _socket;

    private NetlinkUeventChannel(Socket socket) => _socket = socket;

    /// <summary>Opens and binds the socket; a <see cref="SocketException"/> says why it cannot be had.</summary>
    public static NetlinkUeventChannel Open()
    {
        var fd = CreateSocket(AddressFamilyNetlink, SocketRaw | CloseOnExec, KobjectUevent);
        if (fd < 0) throw new SocketException(Marshal.GetLastPInvokeError());
        var handle = new SafeSocketHandle(fd, ownsHandle: true);
        try
        {
            Span<byte> address = stackalloc byte[SocketAddressSize];
            address.Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(address, AddressFamilyNetlink);
            BinaryPrimitives.WriteUInt32LittleEndian(address[8..], KernelGroup);
            if (Bind((int)handle.DangerousGetHandle(), address, address.Length) != 0) throw new SocketException(Marshal.GetLastPInvokeError());
            var socket = new Socket(handle);
            try { socket.ReceiveBufferSize = ReceiveBufferBytes; }
            catch (SocketException) { /* the default buffer still works; overflows are noticed */ }
            return new NetlinkUeventChannel(socket);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellation)
    {
        try
        {
            return await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellation).ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.NoBufferSpaceAvailable)
        {
            return UeventChannel.Overflow;
        }
    }

    public void Dispose() => _socket.Dispose();

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int CreateSocket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    private static partial int Bind(int fd, ReadOnlySpan<byte> address, int length);
}
