using VirtTools.Usb;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using VirtTools.Diagnostics;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Protocol;
using VirtTools.UsbIp.Server;
using VirtTools.UsbIp.Vhci;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>The network half of Connect: OP_REQ_IMPORT over TCP on 127.0.0.1, against our own server and scripted peers.</summary>
public sealed class UsbIpImportTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Connect_imports_from_our_server_attaches_the_socket_and_the_connection_outlives_our_descriptor()
    {
        var serverKernel = new KernelReference();
        await using var server = new UsbIpServerFixture(handoff: serverKernel);
        using var kernel = Double.OnCapturedFixture();
        Socket? clientKernel = null;
        kernel.Usb.TakeSocket = fd => clientKernel = KernelReference.Dup(fd);

        var port = await new VhciAttacher(kernel.Root, UsbIpClient.Importer).ConnectAsync("127.0.0.1", server.Port, UsbBusId.Parse("2-3"), Timeout);

        Assert.Equal((16, VhciHub.SuperSpeed, UsbIpPortStatus.InUse), (port.Port, port.Hub, port.Status));
        Assert.Matches(@"^16 \d+ 131074 5\n$", kernel.Writes.Single(w => w.SystemPath.EndsWith("/attach", StringComparison.Ordinal)).Text);
        Assert.Equal($"127.0.0.1 {server.Port} 2-3\n", kernel.Tree.Read("/run/vhci_hcd/port16"));
        Assert.Equal(("127.0.0.1", server.Port, "2-3"), (port.RemoteHost, port.RemoteTcpPort, port.RemoteBusId?.ToString()));

        // Both processes' descriptors are closed now; the kernels' references still carry URB traffic.
        using (clientKernel)
        using (serverKernel.Socket)
        {
            var urb = new byte[UsbIpProtocol.UrbHeaderSize];
            urb[3] = 1; // USBIP_CMD_SUBMIT
            await clientKernel!.SendAsync(urb, SocketFlags.None);
            var received = new byte[urb.Length];
            using var limit = new CancellationTokenSource(Timeout);
            await serverKernel.Socket!.ReceiveExactlyForTestAsync(received, limit.Token);
            Assert.Equal(urb, received);
        }
    }

    /// <summary>What each status means is the codec's table (UsbIpManagementCodecTests); here it must arrive through the wire.</summary>
    [Theory]
    [InlineData(UsbIpReplyStatus.NotAvailable)]
    [InlineData(UsbIpReplyStatus.DeviceBusy)]
    [InlineData(UsbIpReplyStatus.DeviceError)]
    [InlineData(UsbIpReplyStatus.NoDevice)]
    [InlineData(UsbIpReplyStatus.Error)]
    public async Task Each_refusal_status_becomes_its_own_error_naming_the_server_and_busid(UsbIpReplyStatus status)
    {
        var reply = new byte[UsbIpProtocol.OpCommonSize];
        UsbIpManagementCodec.WriteImportReply(reply, status, null);
        var (error, port) = await ImportFromScriptedServerAsync(reply);
        var expected = UsbIpReplyStatusMessages.ToFailure(status, $"127.0.0.1:{port}", "1-1");
        Assert.Equal((expected.ErrorId, expected.Message, expected.RecommendedAction), (error.ErrorId, error.Message, error.RecommendedAction));
        Assert.Equal("1-1", error.Target);
    }

    [Fact]
    public async Task A_reply_about_another_busid_is_refused_as_usbip_refuses_it()
    {
        var reply = new byte[UsbIpManagementCodec.ImportReplySize];
        UsbIpManagementCodec.WriteImportReply(reply, UsbIpReplyStatus.Ok, FakeImporter.Device("1-2"));
        var (error, _) = await ImportFromScriptedServerAsync(reply);
        Assert.Equal(UsbIpProtocolException.Unexpected, error.ErrorId);
        Assert.Contains("with device 1-2", error.Message);
    }

    [Fact]
    public async Task A_reply_cut_short_is_a_truncated_message_not_a_hang()
    {
        var full = new byte[UsbIpManagementCodec.ImportReplySize];
        UsbIpManagementCodec.WriteImportReply(full, UsbIpReplyStatus.Ok, FakeImporter.Device("1-1"));
        var (error, _) = await ImportFromScriptedServerAsync(full[..100]);
        Assert.Equal(UsbIpProtocolException.Truncated, error.ErrorId);
    }

    [Fact]
    public async Task A_refused_import_leaves_every_vhci_port_untouched()
    {
        await using var server = new UsbIpServerFixture();
        using var kernel = Double.OnEmptyTree();
        kernel.Usb.AddVhci(controllers: 1, portsPerHub: 2);
        var error = await Assert.ThrowsAsync<VirtToolsException>(() =>
            new VhciAttacher(kernel.Root, UsbIpClient.Importer).ConnectAsync("127.0.0.1", server.Port, UsbBusId.Parse("9-9"), Timeout));
        Assert.Equal("UsbIpDeviceNotFound", error.ErrorId);
        Assert.Empty(kernel.Writes);
        Assert.Null(kernel.Tree.Read("/run/vhci_hcd/port0"));
    }

    /// <summary>Imports 1-1 from a one-shot peer on 127.0.0.1 that reads the request and sends <paramref name="reply"/>, then closes.</summary>
    private static async Task<(VirtToolsException Error, int Port)> ImportFromScriptedServerAsync(byte[] reply)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var serving = Task.Run(async () =>
        {
            using var peer = await listener.AcceptAsync();
            using var limit = new CancellationTokenSource(Timeout);
            await peer.ReceiveExactlyForTestAsync(new byte[UsbIpManagementCodec.ImportRequestSize], limit.Token);
            await peer.SendAsync(reply, SocketFlags.None);
        });
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var error = await Assert.ThrowsAnyAsync<VirtToolsException>(() => UsbIpClient.ImportAsync("127.0.0.1", port, "1-1", Timeout));
        await serving;
        return (error, port);
    }

    /// <summary>Stands in for a kernel that takes its own reference to a socket (sockfd_lookup): a dup of the descriptor.</summary>
    private sealed class KernelReference : IUsbIpSocketHandoff
    {
        public Socket? Socket { get; private set; }

        public void HandOver(string busId, Socket socket) => Socket = Dup((int)socket.SafeHandle.DangerousGetHandle());

        public static Socket Dup(int fd) => new(new SafeSocketHandle((IntPtr)dup(fd), ownsHandle: true));

        [DllImport("libc", SetLastError = true)] private static extern int dup(int fd);
    }
}

internal static class TestSocketReading
{
    public static async Task ReceiveExactlyForTestAsync(this Socket socket, byte[] buffer, CancellationToken cancellation)
    {
        for (var total = 0; total < buffer.Length;)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None, cancellation);
            if (n == 0) throw new IOException($"closed after {total} bytes");
            total += n;
        }
    }
}
