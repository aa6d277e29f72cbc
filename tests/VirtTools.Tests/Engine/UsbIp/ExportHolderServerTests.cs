using VirtTools.Usb;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Host;
using VirtTools.UsbIp.Protocol;
using VirtTools.UsbIp.Server;
using VirtTools.UsbIp.Tls;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>
/// Our server over loopback on the kernel double of the captured host (2-3 on usbip-host, made available first):
/// after an import Get-UsbIpExport's reader names the client, and after the release it names nobody.
/// </summary>
public sealed class ExportHolderServerTests(TestCertificates certificates) : IClassFixture<TestCertificates>, IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private const string SocketFile = "/sys/bus/usb/devices/2-3/usbip_sockfd";
    private readonly Double _kernel = Double.OnCapturedFixture();
    private readonly ConcurrentQueue<string> _log = new();

    private UsbIpServer Start(DoubleHandoff handoff, UsbIpTlsServerSettings? tls = null)
    {
        // The capture shows 2-3 in use: its client goes (usbip-host writes -1 for itself), and 2-3 is free again.
        _kernel.Write(SocketFile, "-1");
        return UsbIpServer.Start(new SysfsExportedDeviceSource(_kernel.Root), handoff, new UsbIpServerOptions
        {
            Addresses = new[] { IPAddress.Loopback },
            TcpPort = 0,
            Log = _log.Enqueue,
            Root = _kernel.RootPath,
            Tls = tls,
        });
    }

    private UsbIpExport Export => new UsbIpHostReader(_kernel.Root).Find(UsbBusId.Parse("2-3"))!;

    private string? RecordFile => _kernel.Tree.Read(UsbIpHolderRecord.Directory + "/2-3");

    [Fact]
    public async Task A_plain_client_holds_the_export_by_address_and_port_until_usbip_host_releases_it()
    {
        var handoff = new DoubleHandoff(_kernel.Root);
        await using var server = Start(handoff);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, server.TcpPort);
        await client.SendAsync(UsbIpServerTests.ImportRequest("2-3"), SocketFlags.None);
        await Until(() => server.Imports == 1 && Export.Client is not null, "the import");

        var expected = "127.0.0.1:" + ((IPEndPoint)client.LocalEndPoint!).Port.ToString(CultureInfo.InvariantCulture);
        var export = Export;
        Assert.Equal(UsbIpStatus.InUse, export.Status);
        Assert.Equal((expected, expected, null, null), (export.Client, export.ClientAddress, export.ClientIdentity, export.ClientFingerprint));

        // The client goes; usbip-host notices and frees the device, as the double's -1 does.
        client.Dispose();
        handoff.Release();
        Assert.Null(Export.Client);
        await Until(() => RecordFile is null, "the server's sweep removing the record");
    }

    [Fact]
    public async Task A_TLS_client_holds_the_export_by_its_certificate_until_its_relay_ends()
    {
        var handoff = new DoubleHandoff(_kernel.Root);
        await using var server = Start(handoff, new UsbIpTlsServerSettings
        {
            CertificatePath = certificates.ServerCertificatePath,
            KeyPath = certificates.ServerKeyPath,
            ClientCaPath = certificates.CaPath,
        });
        var import = await UsbIpClient.ImportAsync("127.0.0.1", server.TcpPort, "2-3", Deadline, tls: new UsbIpTlsClientSettings
        {
            CertificatePath = certificates.ClientCertificatePath,
            KeyPath = certificates.ClientKeyPath,
            ServerCaPath = certificates.CaPath,
        });
        try
        {
            await Until(() => Export.Client is not null, "the import");
            var export = Export;
            Assert.Equal(("CN=desk-17.test", "CN=desk-17.test", certificates.ClientFingerprint), (export.Client, export.ClientIdentity, export.ClientFingerprint));
            Assert.StartsWith("127.0.0.1:", export.ClientAddress, StringComparison.Ordinal);
        }
        finally
        {
            import.Dispose();
        }
        // The client closed its TLS connection: the relay ends and the server forgets the holder at once, even
        // before usbip-host (here: the double, which holds its end still) frees the device.
        await Until(() => RecordFile is null, "the relay's end removing the record");
        Assert.Equal(UsbIpStatus.InUse, Export.Status);
        Assert.Null(Export.Client);
        handoff.Release();
    }

    [Fact]
    public async Task Stopping_the_server_removes_the_records_it_wrote()
    {
        var handoff = new DoubleHandoff(_kernel.Root);
        var server = Start(handoff);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, server.TcpPort);
        await client.SendAsync(UsbIpServerTests.ImportRequest("2-3"), SocketFlags.None);
        await Until(() => RecordFile is not null, "the import");
        await server.StopAsync();
        Assert.Null(RecordFile);
        handoff.Release();
    }

    private async Task Until(Func<bool> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < Deadline, $"{what} did not happen within {Deadline.TotalSeconds} s; the log: {string.Join(" | ", _log)}");
            await Task.Delay(20);
        }
    }

    public void Dispose() => _kernel.Dispose();

    /// <summary>
    /// usbip-host in the double: the fd goes to usbip_sockfd through the double (status 1 becomes 2) and, as
    /// sockfd_lookup does, a reference to the socket is kept; <see cref="Release"/> is usbip-host letting it go.
    /// </summary>
    private sealed class DoubleHandoff(SystemRoot root) : IUsbIpSocketHandoff
    {
        private int _fd = -1;

        public void HandOver(string busId, Socket socket)
        {
            var fd = (int)socket.SafeHandle.DangerousGetHandle();
            root.Writer.Write($"/sys/bus/usb/devices/{busId}/usbip_sockfd", fd.ToString(CultureInfo.InvariantCulture) + "\n");
            _fd = dup(fd);
        }

        public void Release()
        {
            if (_fd < 0) return;
            close(_fd);
            _fd = -1;
            root.Writer.Write(SocketFile, "-1");
        }

        [DllImport("libc", SetLastError = true)] private static extern int dup(int fd);
        [DllImport("libc", SetLastError = true)] private static extern int close(int fd);
    }
}
