using System.Buffers.Binary;
using System.Diagnostics;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using VirtTools.Bench.Enumeration;
using VirtTools.Sysfs;
using VirtTools.UsbIp.Server;

namespace VirtTools.Bench;

/// <summary>
/// The managed USB/IP server under load on loopback: device-list round trips per second and p50/p99 latency with
/// 1, 50 and 400 concurrent clients, and memory per idle connection. Each round trip is what `usbip list -r`
/// does: connect, OP_REQ_DEVLIST, read the whole OP_REP_DEVLIST, close. The kernel's usbipd needs the usbip-host
/// module and real devices, so the comparison with it is measured in the QEMU lab and read back (LabServerFigures).
/// </summary>
public sealed class ServerSuite : BenchSuite
{
    public const string Name = "server";

    private static readonly byte[] DeviceListRequest = { 0x01, 0x11, 0x80, 0x05, 0, 0, 0, 0 };
    private const int DeviceRecordSize = 312;

    private readonly BenchShell _shell;

    public ServerSuite(BenchOptions options, Report report, BenchShell shell) : base(options, report) => _shell = shell;

    public override void Run()
    {
        if (_shell.Run("[bool](Get-Command Start-UsbIpServer -ErrorAction SilentlyContinue)")[0].BaseObject is not true)
        {
            Report.Add(new Row(Name, "device list round trips", "not merged yet", "", "", "harness in place; rerun after the merge"));
            return;
        }
        var root = TreeCache.Usb(Options.WorkFolder, 100);
        // What a user starts (the cached device list), and beside it the same server reading sysfs for every request.
        var server = _shell.Run("param($Root) Start-UsbIpServer -Address 127.0.0.1 -TcpPort 0 -Root $Root", BenchShell.Args(("Root", root)))[0];
        var systemRoot = new SystemRoot(root);
        var perRequest = StartEngineServer(new SysfsExportedDeviceSource(systemRoot), systemRoot);
        // The floor: the same server answering from a list held in memory, so what is left is the server's and the
        // clients' own cost per connection.
        var held = new SysfsExportedDeviceSource(systemRoot).ReadExportedDevices();
        var floor = StartEngineServer(new HeldSource(held), systemRoot);
        try
        {
            var endpoint = new IPEndPoint(IPAddress.Loopback, (int)server.Properties["TcpPort"].Value);
            var uncached = new IPEndPoint(IPAddress.Loopback, perRequest.TcpPort);
            var inMemory = new IPEndPoint(IPAddress.Loopback, floor.TcpPort);
            int devices = RoundTrip(endpoint).Result;
            var duration = TimeSpan.FromSeconds(Options.Quick ? 1 : 4);
            foreach (var clients in new[] { 1, 50, 400 })
            {
                var reference = Load(uncached, clients, duration);
                var ours = Load(endpoint, clients, duration);
                var least = Load(inMemory, clients, duration);
                Report.Add(new Row(Name, $"device list ({devices} exported devices), {clients} concurrent client{(clients > 1 ? "s" : "")}",
                    $"cached: {ours.Rate:N0} round trips/s, p50 {Timing.Milliseconds(ours.P50)}, p99 {Timing.Milliseconds(ours.P99)}",
                    $"sysfs read per request: {reference.Rate:N0}/s, p50 {Timing.Milliseconds(reference.P50)}, p99 {Timing.Milliseconds(reference.P99)}",
                    reference.Rate > 0 ? $"{Timing.Ratio(ours.Rate / reference.Rate)} the rate" : "",
                    $"floor (list held in memory): {least.Rate:N0}/s, p99 {Timing.Milliseconds(least.P99)}; failed connections: {ours.Errors} cached, " +
                    $"{reference.Errors} per request, {least.Errors} floor" + (clients == 400 ? "; goal p99 under 50 ms with 0 failures" : "")));
            }
            MemoryPerConnection(endpoint, server, Options.Quick ? 100 : 400);
        }
        finally
        {
            perRequest.StopAsync().GetAwaiter().GetResult();
            floor.StopAsync().GetAwaiter().GetResult();
            _shell.Run("param($Server) Stop-UsbIpServer -InputObject $Server", BenchShell.Args(("Server", server)));
        }
        LabServerFigures.AddTo(Report);
        Report.Note("Server: the kernel's usbipd cannot run on this machine (it needs the usbip-host module and devices bound to it); " +
            "the lab rows compare it with `virttools usbipd` inside the QEMU guest. Here clients and server share this process and its 2 cores, so the figures are a lower bound.");
        Report.Note("Server, cached device list (issue 14): Start-UsbIpServer -Root keeps its reading of the devices bound to usbip-host and, " +
            "with no kernel uevents for a tree, an inotify watch of the driver folder and of each exported device's folder says per request (one read(2)) " +
            "whether anything was written there since, usbip_status included (where a folder cannot be watched: the driver folder's listing and each " +
            "usbip_status per request); the whole list is read again at least every second. `virttools usbipd` on the live root skips the listing " +
            "(kernel uevents say when to read again) and reads usbip_status per request (the kernel sends no event for it). " +
            "The reference column is the same server reading sysfs for every request, as before; the floor is the same server answering from a list held in memory.");
    }

    private static UsbIpServer StartEngineServer(IExportedDeviceSource source, SystemRoot root) =>
        UsbIpServer.Start(source, new SysfsSocketHandoff(root), new UsbIpServerOptions { Addresses = new[] { IPAddress.Loopback }, TcpPort = 0, Root = root.Path });

    private sealed class HeldSource(IReadOnlyList<ExportedDevice> devices) : IExportedDeviceSource
    {
        public IReadOnlyList<ExportedDevice> ReadExportedDevices() => devices;
    }

    private sealed record LoadFigures(double Rate, double P50, double P99, int Errors);

    private static LoadFigures Load(IPEndPoint endpoint, int clients, TimeSpan duration)
    {
        var latencies = new List<double>[clients];
        var stop = Stopwatch.StartNew();
        int errors = 0;
        var tasks = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            // Clients come from 64 loopback addresses, as many hosts would: the server holds at most 16 connections
            // per address (its per-client limit), and 400 clients from one address would measure that limit instead.
            var from = new IPAddress(new byte[] { 127, 0, 0, (byte)(1 + c % 64) });
            var mine = latencies[c] = new List<double>();
            while (stop.Elapsed < duration)
            {
                var start = Stopwatch.GetTimestamp();
                try { await RoundTrip(endpoint, from).ConfigureAwait(false); }
                catch (Exception e) when (e is SocketException or IOException) { Interlocked.Increment(ref errors); continue; }
                mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        })).ToArray();
        Task.WaitAll(tasks);
        var elapsed = stop.Elapsed.TotalSeconds;
        var all = new Samples(latencies.SelectMany(l => l));
        return new LoadFigures(all.Count / elapsed, all.Median, all.Percentile(99), errors);
    }

    private void MemoryPerConnection(IPEndPoint endpoint, PSObject server, int connections)
    {
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var sockets = new List<Socket>();
        try
        {
            for (int i = 0; i < connections; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Connect(endpoint);
                sockets.Add(socket);
            }
            // The server sees the connections a moment after the kernel accepted them.
            for (var wait = Stopwatch.StartNew(); wait.Elapsed < TimeSpan.FromSeconds(3) && Active(server) < connections;) Thread.Sleep(20);
            int active = Active(server);
            long heap = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
            // A connection that sends nothing stays in the kernel's accept queue (TCP_DEFER_ACCEPT) until the request
            // deadline: the server holds no slot and no memory for it, which is the defence against silent floods.
            Report.Add(new Row(Name, $"memory per silent connection ({connections} opened, {active} reached the server)",
                $"{heap / Math.Max(connections, 1) / 1024.0:0.0} KiB managed heap", "", "",
                "client sockets of this process included; kernel socket buffers not counted"));
        }
        finally
        {
            foreach (var socket in sockets) socket.Dispose();
        }
    }

    private static int Active(PSObject server) => (int)server.Properties["ActiveConnections"].Value;

    /// <summary>One `usbip list -r`: connect, ask for the device list, read all of it, close. Returns the device count.</summary>
    private static async Task<int> RoundTrip(IPEndPoint endpoint, IPAddress? from = null)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (from is not null) socket.Bind(new IPEndPoint(from, 0));
        await socket.ConnectAsync(endpoint).ConfigureAwait(false);
        await socket.SendAsync(DeviceListRequest).ConfigureAwait(false);
        var buffer = new byte[DeviceRecordSize];
        await ReceiveExactly(socket, buffer.AsMemory(0, 12)).ConfigureAwait(false);
        if (BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(2)) != 0x0005 || BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(4)) != 0)
            throw new IOException("The server did not answer OP_REP_DEVLIST with status 0.");
        int devices = (int)BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(8));
        for (int d = 0; d < devices; d++)
        {
            await ReceiveExactly(socket, buffer.AsMemory(0, DeviceRecordSize)).ConfigureAwait(false);
            int interfaces = buffer[DeviceRecordSize - 1];
            for (int i = 0; i < interfaces; i++) await ReceiveExactly(socket, buffer.AsMemory(0, 4)).ConfigureAwait(false);
        }
        return devices;
    }

    private static async Task ReceiveExactly(Socket socket, Memory<byte> buffer)
    {
        for (int read = 0; read < buffer.Length;)
        {
            int n = await socket.ReceiveAsync(buffer[read..]).ConfigureAwait(false);
            if (n == 0) throw new IOException("The server closed the connection early.");
            read += n;
        }
    }
}
