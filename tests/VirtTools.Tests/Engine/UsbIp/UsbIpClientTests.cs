using System.Net;
using System.Net.Sockets;
using VirtTools.Diagnostics;
using VirtTools.UsbIp.Client;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

public sealed class UsbIpClientTests
{
    [Fact]
    public async Task A_refused_connection_is_UsbIpServerUnreachable_with_a_hint_about_usbipd_and_the_port()
    {
        var port = ClosedPort();
        var error = await Assert.ThrowsAsync<VirtToolsException>(() => UsbIpClient.ListDevicesAsync("127.0.0.1", port, TimeSpan.FromSeconds(5)));
        Assert.Equal("UsbIpServerUnreachable", error.ErrorId);
        Assert.Contains("refused", error.Message);
        Assert.Contains("usbipd", error.RecommendedAction);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), error.RecommendedAction);
    }

    [Fact]
    public async Task A_server_that_never_answers_is_UsbIpServerTimeout_after_the_given_time()
    {
        // A listening socket nobody accepts from: the connection completes in the backlog, no reply ever comes.
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        silent.Listen(1);
        var port = ((IPEndPoint)silent.LocalEndPoint!).Port;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<VirtToolsException>(() => UsbIpClient.ListDevicesAsync("127.0.0.1", port, TimeSpan.FromMilliseconds(300)));
        Assert.Equal("UsbIpServerTimeout", error.ErrorId);
        Assert.Equal(FailureKind.Timeout, error.Kind);
        Assert.InRange(waited.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Remote_devices_carry_names_from_usb_ids_and_hex_ids()
    {
        await using var server = new UsbIpServerFixture();
        var names = VirtTools.Ids.IdsDatabase.ForUsb(VirtTools.Sysfs.SystemRoot.Live);
        var device = Assert.Single(await UsbIpClient.GetDevicesAsync("127.0.0.1", server.Port, TimeSpan.FromSeconds(5), names));
        Assert.Equal(("46f4", "0001", "00", 5000d), (device.VendorId, device.ProductId, device.DeviceClass, device.SpeedMbps));
        Assert.Equal(0x00020002, device.DeviceId);
        Assert.Equal(new UsbIpRemoteInterface(0, "08", "06", "50", names?.ClassName(8, 6, 0x50)), Assert.Single(device.Interfaces));
        if (names is not null) Assert.Equal("QEMU", device.VendorName);
    }

    internal static int ClosedPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
