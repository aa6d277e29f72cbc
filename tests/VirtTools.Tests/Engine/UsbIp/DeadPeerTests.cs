using VirtTools.Usb;
using System.Net;
using System.Net.Sockets;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Server;
using VirtTools.UsbIp.Vhci;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>
/// Dead-peer detection: the keepalive and user-timeout options are on the very socket each side hands to its
/// kernel (usbip_sockfd on the server, vhci_hcd's attach on the client), read back with getsockopt.
/// </summary>
public sealed class DeadPeerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly UsbIpDeadPeerPolicy Short = UsbIpDeadPeerPolicy.Within(TimeSpan.FromSeconds(12));

    [Fact]
    public void By_default_a_dead_peer_is_dropped_within_a_minute_half_of_it_silent_then_three_probes()
    {
        var policy = UsbIpDeadPeerPolicy.Default;
        Assert.Equal((30, 10, 3, 60), ((int)policy.Idle.TotalSeconds, (int)policy.Interval.TotalSeconds, policy.Count, (int)policy.UserTimeout.TotalSeconds));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(12)]
    [InlineData(60)]
    [InlineData(43200)]
    public void Within_a_timeout_the_last_probe_goes_unanswered_when_the_user_timeout_runs_out(int seconds)
    {
        var policy = UsbIpDeadPeerPolicy.Within(TimeSpan.FromSeconds(seconds));
        Assert.Equal(TimeSpan.FromSeconds(seconds), policy.UserTimeout);
        Assert.True(policy.Idle >= TimeSpan.FromSeconds(1) && policy.Interval >= TimeSpan.FromSeconds(1), policy.ToString());
        Assert.True(policy.Idle + policy.Count * policy.Interval <= policy.UserTimeout, policy.ToString());
        Assert.True(policy.Idle.TotalSeconds <= 32767 && policy.Interval.TotalSeconds <= 32767, "TCP_KEEPIDLE and TCP_KEEPINTVL are capped at 32767 s");
    }

    [Theory]
    [InlineData(4)]
    [InlineData(43201)]
    public void Within_refuses_a_timeout_outside_its_range(int seconds) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => UsbIpDeadPeerPolicy.Within(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void The_server_writes_to_usbip_sockfd_the_descriptor_of_a_socket_that_carries_the_policy()
    {
        using var tree = new TemporaryTree("dead-peer").File("/sys/bus/usb/devices/1-1/usbip_sockfd", "", newline: false);
        var (client, accepted) = LoopbackPair();
        using (client)
        using (accepted)
        {
            new SysfsSocketHandoff(new SystemRoot(tree.Path), Short).HandOver("1-1", accepted);

            Assert.Equal($"{(int)accepted.SafeHandle.DangerousGetHandle()}\n", File.ReadAllText(tree.Resolve("/sys/bus/usb/devices/1-1/usbip_sockfd")));
            Assert.Equal(Expected(Short), SocketOptions.Of(accepted));
        }
    }

    [Fact]
    public async Task Through_our_server_the_socket_usbip_host_gets_carries_the_policy_not_the_servers_own_keepalive()
    {
        using var tree = new TemporaryTree("dead-peer").File("/sys/bus/usb/devices/2-3/usbip_sockfd", "", newline: false);
        var handoff = new ReadingHandoff(new SysfsSocketHandoff(new SystemRoot(tree.Path), Short));
        await using var server = new UsbIpServerFixture(handoff: handoff);

        using var import = await UsbIpClient.ImportAsync("127.0.0.1", server.Port, "2-3", Timeout);

        Assert.Equal(Expected(Short), handoff.Seen);
    }

    [Fact]
    public async Task The_client_writes_to_vhci_hcd_attach_the_descriptor_of_a_socket_that_carries_the_policy()
    {
        await using var server = new UsbIpServerFixture();
        using var kernel = Double.OnCapturedFixture();
        SocketOptions? seen = null;
        kernel.Usb.TakeSocket = fd => seen = SocketOptions.Of(fd);

        await new VhciAttacher(kernel.Root, UsbIpClient.Importer, Short).ConnectAsync("127.0.0.1", server.Port, UsbBusId.Parse("2-3"), Timeout);

        Assert.Equal(Expected(Short), seen);
    }

    [Fact]
    public async Task The_attacher_prepares_the_socket_before_it_hands_the_descriptor_over_with_the_default_policy_unless_given_one()
    {
        var given = new FakeImporter(FakeImporter.Device());
        var defaulted = new FakeImporter(FakeImporter.Device());
        using (var kernel = Double.OnCapturedFixture())
            await new VhciAttacher(kernel.Root, given, Short).ConnectAsync("192.0.2.10", 3240, UsbBusId.Parse("1-1"), Timeout);
        using (var kernel = Double.OnCapturedFixture())
            await new VhciAttacher(kernel.Root, defaulted).ConnectAsync("192.0.2.10", 3240, UsbBusId.Parse("1-1"), Timeout);

        Assert.Equal((Short, true), (given.PreparedWith, given.PreparedBeforeHandOver));
        Assert.Equal((UsbIpDeadPeerPolicy.Default, true), (defaulted.PreparedWith, defaulted.PreparedBeforeHandOver));
    }

    private static SocketOptions Expected(UsbIpDeadPeerPolicy policy) =>
        new(true, (int)policy.Idle.TotalSeconds, (int)policy.Interval.TotalSeconds, policy.Count, (int)policy.UserTimeout.TotalMilliseconds);

    private static (Socket Client, Socket Accepted) LoopbackPair()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        return (client, listener.Accept());
    }

    /// <summary>The dead-peer options as getsockopt reports them; TCP_USER_TIMEOUT in milliseconds.</summary>
    private sealed record SocketOptions(bool KeepAlive, int Idle, int Interval, int Count, int UserTimeoutMs)
    {
        public static SocketOptions Of(Socket socket)
        {
            var userTimeout = new byte[sizeof(int)];
            socket.GetRawSocketOption(6, 18, userTimeout); // IPPROTO_TCP, TCP_USER_TIMEOUT
            return new SocketOptions(
                (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive)! != 0,
                (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime)!,
                (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval)!,
                (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount)!,
                BitConverter.ToInt32(userTimeout));
        }

        /// <summary>The options of the socket behind a descriptor of this process, as the kernel looks it up; the descriptor stays open.</summary>
        public static SocketOptions Of(int fd)
        {
            using var socket = new Socket(new SafeSocketHandle((IntPtr)fd, ownsHandle: false));
            return Of(socket);
        }
    }

    /// <summary>The real hand-off, and the options of the socket as it was handed over (the server closes its descriptor after the reply).</summary>
    private sealed class ReadingHandoff(IUsbIpSocketHandoff inner) : IUsbIpSocketHandoff
    {
        public SocketOptions? Seen { get; private set; }

        public void HandOver(string busId, Socket socket)
        {
            inner.HandOver(busId, socket);
            Seen = SocketOptions.Of(socket);
        }
    }
}
