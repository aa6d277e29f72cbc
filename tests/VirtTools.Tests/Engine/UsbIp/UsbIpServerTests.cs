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
    public async Task A_client_outside_the_allow_list_is_closed_at_accept_without_a_slot_and_the_refusal_is_logged()
    {
        await using var server = new UsbIpServerFixture(allowed: ClientAllowList.Parse(new[] { "127.0.0.1" }));
        // Reset before the server read anything: the request the client had not even sent is moot.
        Assert.True(await ClosedAtOnceAsync(IPAddress.Parse("127.0.0.2"), server.Port));
        await WaitUntil(() => server.Server.RefusedClients == 1);
        Assert.Equal(0, server.Server.ActiveConnections);
        Assert.Contains(server.Log, line => line == "127.0.0.2: not an allowed client; connection closed at once.");
        Assert.Single(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout));
    }

    [Fact]
    public async Task Import_writes_the_socket_fd_to_usbip_sockfd_replies_with_the_device_and_logs_peer_and_busid()
    {
        await using var server = new UsbIpServerFixture(privateCopy: true);
        var (status, device) = await ImportAsync(server.Port, "2-3");
        Assert.Equal(UsbIpReplyStatus.Ok, status);
        Assert.Equal("2-3", device!.BusId);
        Assert.Matches(@"^\d+\n$", server.Tree!.Read("/sys/bus/usb/devices/2-3/usbip_sockfd"));
        Assert.Contains(server.Log, line => line.StartsWith("127.0.0.1: imported 2-3", StringComparison.Ordinal));
        Assert.Equal(1, server.Server.Imports);
    }

    [Theory]
    [InlineData("9-9", true, UsbIpReplyStatus.NoDevice)]
    [InlineData("2-3", false, UsbIpReplyStatus.DeviceBusy)]
    public async Task Import_of_a_missing_or_busy_device_is_refused_with_its_status(string busId, bool available, UsbIpReplyStatus expected)
    {
        await using var server = new UsbIpServerFixture(available);
        Assert.Equal((expected, (UsbIpDeviceRecord?)null), await ImportAsync(server.Port, busId));
        Assert.Equal(0, server.Server.Imports);
    }

    [Fact]
    public async Task Import_from_a_client_outside_the_allow_list_is_never_read()
    {
        await using var server = new UsbIpServerFixture(allowed: ClientAllowList.Parse(new[] { "10.0.0.0/8" }));
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, server.Port);
            await client.SendAsync(ImportRequest("2-3"), SocketFlags.None);
            Assert.True(await ClosedByPeerAsync(client));
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown)
        {
            // Reset by the server before the request went out.
        }
        await WaitUntil(() => server.Server.RefusedClients == 1);
        Assert.Empty(((UsbIpServerFixture.RecordingHandoff)server.Handoff).HandedOver);
        Assert.DoesNotContain(server.Log, line => line.Contains("2-3"));
    }

    [Theory]
    [InlineData("\n10.0.0.9: imported 1-1", "\"\\x0a10.0.0.9: imported 1-1\"")]
    [InlineData("../../../../etc/passwd", "\"../../../../etc/passwd\"")]
    [InlineData("2-3\n", "\"2-3\\x0a\"")]
    [InlineData("2-3/usbip_sockfd", "\"2-3/usbip_sockfd\"")]
    [InlineData("0-3", "\"0-3\"")]
    [InlineData("\u00ff\u00ff2-3", "\"\\xc3\\xbf\\xc3\\xbf2-3\"")]
    public async Task An_import_bus_id_that_is_not_one_is_refused_with_NoDevice_in_one_escaped_log_line(string busId, string logged)
    {
        await using var server = new UsbIpServerFixture();
        Assert.Equal((UsbIpReplyStatus.NoDevice, (UsbIpDeviceRecord?)null), await ImportAsync(server.Port, busId));
        var line = Assert.Single(server.Log, line => line.Contains("refused: the bus id"));
        Assert.StartsWith($"127.0.0.1: import of {logged} refused: the bus id ", line);
        Assert.DoesNotContain('\n', line);
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
    public async Task With_no_address_the_server_listens_on_loopback_only_in_both_families()
    {
        await using var server = new UsbIpServerFixture(addresses: Array.Empty<IPAddress>());
        // ::1 exists unless IPv6 is off on the machine; then 127.0.0.1 alone is the promised loopback.
        Assert.Equal("127.0.0.1", server.Server.Address[0]);
        Assert.Subset(new HashSet<string> { "127.0.0.1", "::1" }, server.Server.Address.ToHashSet());
        Assert.Single(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout));
        if (server.Server.Address.Contains("::1")) Assert.Single(await UsbIpClient.ListDevicesAsync("::1", server.Port, Timeout));
        // A wildcard socket would accept on every loopback address; one bound to 127.0.0.1 refuses 127.0.0.2.
        using var other = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(async () => await other.ConnectAsync(IPAddress.Parse("127.0.0.2"), server.Port));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        Assert.Contains(server.Log, line => line.StartsWith($"listening on 127.0.0.1:{server.Port}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_denied_flood_is_logged_as_one_line_and_counted()
    {
        await using var server = new UsbIpServerFixture(allowed: ClientAllowList.Parse(new[] { "127.0.0.1" }));
        for (var i = 0; i < 200; i++) Assert.True(await ClosedAtOnceAsync(IPAddress.Parse("127.0.0.2"), server.Port));
        await WaitUntil(() => server.Server.RefusedClients == 200);
        await server.Server.StopAsync();
        Assert.Single(server.Log, line => line == "127.0.0.2: not an allowed client; connection closed at once.");
        Assert.Contains("127.0.0.2: 200 connections denied in the last 10 s", server.Log);
    }

    /// <summary>
    /// Connects from <paramref name="source"/>, asks for the device list as usbip does (the kernel hands the server a
    /// connection once its first bytes are in), and waits for the server to close: true when it did, with no reply.
    /// </summary>
    internal static async Task<bool> ClosedAtOnceAsync(IPAddress source, int port)
    {
        try
        {
            using var socket = await ConnectFromAsync(source, port);
            var request = new byte[UsbIpProtocol.OpCommonSize];
            UsbIpManagementCodec.WriteOpCommon(request, UsbIpOperation.RequestDeviceList, UsbIpReplyStatus.Ok);
            await socket.SendAsync(request, SocketFlags.None);
            return await ClosedByPeerAsync(socket);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown)
        {
            return true;
        }
    }

    /// <summary>A loopback client whose source address is <paramref name="source"/> (any of 127.0.0.0/8 works on Linux).</summary>
    internal static async Task<Socket> ConnectFromAsync(IPAddress source, int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(source, 0));
            await socket.ConnectAsync(IPAddress.Loopback, port);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>True when the peer closed (FIN, or a reset because our unread bytes were discarded).</summary>
    internal static async Task<bool> ClosedByPeerAsync(Socket socket)
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

    private static async Task<(UsbIpReplyStatus Status, UsbIpDeviceRecord? Device)> ImportAsync(int port, string busId)
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
