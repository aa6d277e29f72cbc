using System.Collections.Concurrent;
using System.Net;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using VirtTools.Usb;
using VirtTools.UsbIp.Server;
using VirtTools.UsbIp.Tls;
using VirtTools.UsbIp;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>
/// Our server on 127.0.0.1 (an ephemeral port) serving the captured fixture, where 2-3 is bound to usbip-host.
/// The capture shows it in use (usbip_status 2). With <paramref name="privateCopy"/> the server reads a private copy
/// whose usbip_status is set to 1 and writes usbip_sockfd there (slow: the copy is 9000 files); otherwise it reads the
/// shared extraction and <paramref name="available"/> reports 2-3 as available, imports going to <see cref="Handoff"/>.
/// </summary>
internal sealed class UsbIpServerFixture : IAsyncDisposable
{
    public UsbIpServerFixture(bool available = true, ClientAllowList? allowed = null, TimeSpan? requestTimeout = null,
        IUsbIpSocketHandoff? handoff = null, IReadOnlyList<IPAddress>? addresses = null, bool privateCopy = false,
        int maxConnections = 1024, int maxConnectionsPerClient = 16, UsbIpTlsServerSettings? tls = null)
    {
        IExportedDeviceSource source;
        if (privateCopy)
        {
            Tree = CapturedFixture.CreateCopy();
            if (available) Tree.File("/sys/bus/usb/devices/2-3/usbip_status", "1");
            Root = new SystemRoot(Tree.Path);
            source = new SysfsExportedDeviceSource(Root);
            Handoff = handoff ?? new SysfsSocketHandoff(Root);
        }
        else
        {
            Root = new SystemRoot(CapturedFixture.Shared);
            var captured = new SysfsExportedDeviceSource(Root);
            source = available ? new AvailableSource(captured) : captured;
            Handoff = handoff ?? new RecordingHandoff();
        }
        Server = UsbIpServer.Start(source, Handoff, new UsbIpServerOptions
        {
            Addresses = addresses ?? new[] { IPAddress.Loopback },
            TcpPort = 0,
            AllowedClients = allowed ?? ClientAllowList.LoopbackOnly,
            RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(5),
            MaxConnections = maxConnections,
            MaxConnectionsPerClient = maxConnectionsPerClient,
            Log = Log.Enqueue,
            Root = Root.Path,
            Tls = tls,
            // The shared extraction is read by every test: only a private copy gets holder records written into it.
            RecordHolders = privateCopy,
        });
    }

    public TemporaryTree? Tree { get; }

    public SystemRoot Root { get; }

    public IUsbIpSocketHandoff Handoff { get; }

    public UsbIpServer Server { get; }

    public int Port => Server.TcpPort;

    public ConcurrentQueue<string> Log { get; } = new();

    public async ValueTask DisposeAsync()
    {
        await Server.StopAsync();
        Tree?.Dispose();
    }

    /// <summary>The captured devices as they were before the capture's client imported 2-3: available.</summary>
    private sealed class AvailableSource(IExportedDeviceSource captured) : IExportedDeviceSource
    {
        public IReadOnlyList<ExportedDevice> ReadExportedDevices() =>
            captured.ReadExportedDevices().Select(d => d with { Status = UsbIpStatus.Available }).ToList();
    }

    /// <summary>Remembers which busids were handed over, instead of writing to the shared tree.</summary>
    internal sealed class RecordingHandoff : IUsbIpSocketHandoff
    {
        public ConcurrentQueue<string> HandedOver { get; } = new();

        public void HandOver(string busId, System.Net.Sockets.Socket socket) => HandedOver.Enqueue(busId);
    }
}
