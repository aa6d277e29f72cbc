using System.Net;
using System.Net.Sockets;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Server;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>
/// A plain import's connection goes to the kernel (usbip-host on the server, vhci_hcd on the client), which keeps its
/// own reference to the socket, so closing ours does not take it out of .NET's epoll set: both hand-offs take it out
/// first, or every packet the kernel receives would wake the process for the life of the import. The kernel's list of
/// each epoll set (/proc/self/fdinfo) says whether the socket is still watched.
/// </summary>
public sealed class PlainHandoffEpollTests
{
    [Fact]
    public async Task The_server_hand_off_to_usbip_host_takes_the_connection_out_of_the_epoll_sets()
    {
        var (accepted, peer) = await ConnectedPairWatchedByEpollAsync();
        using var _ = peer;
        using var tree = new TemporaryTree("handoff").File("/sys/bus/usb/devices/2-3/usbip_sockfd", "", newline: false);
        var fd = (int)accepted.SafeHandle.DangerousGetHandle();

        new SysfsSocketHandoff(new SystemRoot(tree.Path)).HandOver("2-3", accepted);

        Assert.DoesNotContain(fd, EpollSetsProbe.WatchedDescriptors());
        Assert.Equal($"{fd}\n", File.ReadAllText(tree.Resolve("/sys/bus/usb/devices/2-3/usbip_sockfd")));
        accepted.Dispose();
    }

    [Fact]
    public async Task The_client_import_prepared_for_vhci_hcd_leaves_the_epoll_sets()
    {
        var (connected, peer) = await ConnectedPairWatchedByEpollAsync();
        using var _ = peer;
        using var import = new UsbIpSocketImport(connected, UsbIpWireExamples.FixtureDevice);

        import.PrepareForKernel(UsbIpDeadPeerPolicy.Default);

        Assert.DoesNotContain(import.SocketFd, EpollSetsProbe.WatchedDescriptors());
        // The connection itself is untouched: what the peer sends still arrives (vhci_hcd reads it with blocking calls).
        peer.Send([7]);
        var buffer = new byte[1];
        Assert.Equal(1, connected.Receive(buffer));
    }

    /// <summary>A loopback connection whose first end did asynchronous I/O, as the import exchange does: .NET watches it.</summary>
    private static async Task<(Socket Watched, Socket Peer)> ConnectedPairWatchedByEpollAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accepting = listener.AcceptAsync();
        await peer.ConnectAsync(listener.LocalEndPoint!);
        var watched = await accepting;
        var receiving = watched.ReceiveAsync(new byte[1].AsMemory());
        peer.Send([1]);
        Assert.Equal(1, await receiving.AsTask().WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains((int)watched.SafeHandle.DangerousGetHandle(), EpollSetsProbe.WatchedDescriptors());
        return (watched, peer);
    }
}
