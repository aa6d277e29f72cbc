using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Protocol;
using VirtTools.UsbIp.Server;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

public sealed class UsbIpServerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Server_offers_the_fixture_export_as_usbipd_describes_it()
    {
        await using var server = new UsbIpServerFixture();
        var device = Assert.Single(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout));
        var expected = UsbIpWireExamples.FixtureDevice;
        Assert.Equal((expected.Path, expected.BusId, expected.BusNumber, expected.DeviceNumber, expected.Speed),
            (device.Path, device.BusId, device.BusNumber, device.DeviceNumber, device.Speed));
        Assert.Equal((expected.VendorId, expected.ProductId, expected.ConfigurationValue, expected.NumConfigurations, expected.NumInterfaces),
            (device.VendorId, device.ProductId, device.ConfigurationValue, device.NumConfigurations, device.NumInterfaces));
        Assert.Equal(expected.Interfaces, device.Interfaces);
    }

    [Fact]
    public async Task A_device_already_in_use_is_left_out_of_the_list()
    {
        await using var server = new UsbIpServerFixture(available: false);
        Assert.Empty(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout));
    }

    [Fact]
    public async Task A_client_outside_the_allow_list_gets_an_empty_list_and_the_refusal_is_logged()
    {
        await using var server = new UsbIpServerFixture(allowed: ClientAllowList.Parse(new[] { "192.0.2.0/24" }));
        Assert.Empty(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout));
        Assert.Contains(server.Log, line => line.Contains("127.0.0.1") && line.Contains("not an allowed client"));
        Assert.Equal(1, server.Server.RefusedClients);
    }

    [Fact]
    public async Task Import_writes_the_socket_fd_to_usbip_sockfd_replies_with_the_device_and_logs_peer_and_busid()
    {
        await using var server = new UsbIpServerFixture(privateCopy: true);
        var (status, device) = await ImportAsync(server.Port, "2-3");
        Assert.Equal(UsbIpStatus.Ok, status);
        Assert.Equal("2-3", device!.BusId);
        Assert.Matches(@"^\d+\n$", server.Tree!.Read("/sys/bus/usb/devices/2-3/usbip_sockfd"));
        Assert.Contains(server.Log, line => line.StartsWith("127.0.0.1: imported 2-3", StringComparison.Ordinal));
        Assert.Equal(1, server.Server.Imports);
    }

    [Theory]
    [InlineData("9-9", true, UsbIpStatus.NoDevice)]
    [InlineData("2-3", false, UsbIpStatus.DeviceBusy)]
    public async Task Import_of_a_missing_or_busy_device_is_refused_with_its_status(string busId, bool available, UsbIpStatus expected)
    {
        await using var server = new UsbIpServerFixture(available);
        Assert.Equal((expected, (UsbIpDeviceRecord?)null), await ImportAsync(server.Port, busId));
        Assert.Equal(0, server.Server.Imports);
    }

    [Fact]
    public async Task Import_from_a_client_outside_the_allow_list_is_refused_and_logged()
    {
        await using var server = new UsbIpServerFixture(allowed: ClientAllowList.Parse(new[] { "10.0.0.0/8" }));
        Assert.Equal(UsbIpStatus.NotAvailable, (await ImportAsync(server.Port, "2-3")).Status);
        Assert.Contains(server.Log, line => line.Contains("refused import of 2-3"));
        Assert.Empty(((UsbIpServerFixture.RecordingHandoff)server.Handoff).HandedOver);
    }

    [Fact]
    public async Task The_connection_outlives_the_server_closing_its_descriptor_after_the_hand_off()
    {
        var kernel = new ReferenceTakingHandoff();
        await using var server = new UsbIpServerFixture(handoff: kernel);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, server.Port);
        await client.SendAsync(ImportRequest("2-3"), SocketFlags.None);
        var reply = new byte[UsbIpManagementCodec.ImportReplySize];
        await ReceiveAsync(client, reply);
        await WaitUntil(() => server.Server.ActiveConnections == 0);

        // The server has closed its fd; the reference "the kernel" took still reaches the client.
        var urb = new byte[48];
        UsbIpUrbCodec.WriteSubmitReply(urb, new UsbIpSubmitReply(new UsbIpHeaderBasic(UsbIpCommand.SubmitReply, 1, 0, UsbIpDirection.Out, 0), 0, 0, 0, 0, 0));
        Assert.Equal(48, kernel.Write(urb));
        var received = new byte[48];
        await ReceiveAsync(client, received);
        Assert.Equal(urb, received);
        kernel.Close();
    }

    [Fact]
    public async Task A_silent_peer_is_disconnected_when_its_request_deadline_passes()
    {
        await using var server = new UsbIpServerFixture(requestTimeout: TimeSpan.FromMilliseconds(200));
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, server.Port);
        using var limit = new CancellationTokenSource(Timeout);
        Assert.Equal(0, await client.ReceiveAsync(new byte[8], SocketFlags.None, limit.Token));
        await WaitUntil(() => server.Server.Timeouts == 1);
    }

    [Fact]
    public async Task Garbage_is_a_logged_protocol_error_and_the_server_keeps_serving()
    {
        await using var server = new UsbIpServerFixture();
        using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await client.ConnectAsync(IPAddress.Loopback, server.Port);
            await client.SendAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray(), SocketFlags.None);
            Assert.True(await ClosedByPeerAsync(client));
        }
        await WaitUntil(() => server.Server.ProtocolErrors == 1);
        Assert.Contains(server.Log, line => line.Contains("version"));
        Assert.Single(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout));
    }

    [Fact]
    public async Task Default_addresses_listen_on_IPv4_and_IPv6_loopback_alike()
    {
        await using var server = new UsbIpServerFixture(addresses: Array.Empty<IPAddress>());
        Assert.Single(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout));
        Assert.Single(await UsbIpClient.ListDevicesAsync("::1", server.Port, Timeout));
    }

    [Fact]
    public void Allow_list_matches_addresses_networks_and_IPv4_clients_seen_through_IPv6()
    {
        var list = ClientAllowList.Parse(new[] { "192.0.2.7", "10.0.0.0/8", "fd00::/8" });
        Assert.True(list.Allows(IPAddress.Parse("10.1.2.3")));
        Assert.True(list.Allows(IPAddress.Parse("::ffff:192.0.2.7")));
        Assert.True(list.Allows(IPAddress.Parse("fd12::1")));
        Assert.False(list.Allows(IPAddress.Parse("192.0.2.8")));
        Assert.False(ClientAllowList.LoopbackOnly.Allows(IPAddress.Parse("192.0.2.8")));
        Assert.Equal("UsbIpInvalidAllowedClient", Assert.Throws<VirtTools.Diagnostics.VirtToolsException>(() => ClientAllowList.Parse(new[] { "10.0.0.0/33" })).ErrorId);
    }

    /// <summary>True when the peer closed (FIN, or a reset because our unread bytes were discarded).</summary>
    private static async Task<bool> ClosedByPeerAsync(Socket socket)
    {
        using var limit = new CancellationTokenSource(Timeout);
        try
        {
            return await socket.ReceiveAsync(new byte[8], SocketFlags.None, limit.Token) == 0;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    internal static byte[] ImportRequest(string busId)
    {
        var request = new byte[UsbIpManagementCodec.ImportRequestSize];
        UsbIpManagementCodec.WriteImportRequest(request, busId);
        return request;
    }

    private static async Task<(UsbIpStatus Status, UsbIpDeviceRecord? Device)> ImportAsync(int port, string busId)
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, port);
        await client.SendAsync(ImportRequest(busId), SocketFlags.None);
        var reply = new byte[UsbIpManagementCodec.ImportReplySize];
        var length = await ReceiveAsync(client, reply);
        return UsbIpManagementCodec.DecodeImportReply(reply.AsSpan(0, length));
    }

    /// <summary>Reads until the buffer is full or the peer closes; the number of bytes read.</summary>
    private static async Task<int> ReceiveAsync(Socket socket, byte[] buffer)
    {
        using var limit = new CancellationTokenSource(Timeout);
        var total = 0;
        while (total < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None, limit.Token);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < Timeout, "the server did not get there in time");
            await Task.Delay(10);
        }
    }

    /// <summary>Stands in for usbip-host: takes its own reference to the socket (dup, as sockfd_lookup takes the file).</summary>
    private sealed class ReferenceTakingHandoff : IUsbIpSocketHandoff
    {
        private int _fd = -1;

        public void HandOver(string busId, Socket socket) => _fd = dup((int)socket.SafeHandle.DangerousGetHandle());

        public long Write(byte[] bytes) => write(_fd, bytes, bytes.Length);

        public void Close() => close(_fd);

        [DllImport("libc", SetLastError = true)] private static extern int dup(int fd);
        [DllImport("libc", SetLastError = true)] private static extern long write(int fd, byte[] buffer, long count);
        [DllImport("libc", SetLastError = true)] private static extern int close(int fd);
    }
}
