using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Server;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>
/// The issue's slot exhaustion, on loopback: 2,000 connections that never send a request are kept open against the
/// server, each re-opened as soon as the server closes it. Half come from a denied address (127.0.0.2 against an
/// allow-list of 127.0.0.1/32), half from allowed addresses. Meanwhile an allowed client asks for the device list 40
/// times, one after the other: every answer must come. Bounded: 40 lists, each within 10 s, the flood stopped after.
/// </summary>
[Trait("Category", "Load")]
[Collection(UsbIpLoadCollection.Name)]
public sealed class UsbIpServerSlotExhaustionTests
{
    private const int Lists = 40;
    private const int Denied = 1000;
    private const int Silent = 1000;
    private const string UsbipTool = "/usr/sbin/usbip";
    private static readonly TimeSpan ListTimeout = TimeSpan.FromSeconds(10);
    private static readonly IPAddress DeniedPeer = IPAddress.Parse("127.0.0.2");

    /// <summary>
    /// Between lists, so the 40 span the time silent connections take to leave the kernel's queue (about the request
    /// deadline, TCP_DEFER_ACCEPT) and come at the server's slots.
    /// </summary>
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(250);

    [Theory]
    // Silent connections from the client's own address: they give way to it, one address cannot hold more.
    [InlineData(1)]
    // Silent connections from 64 allowed addresses (127.0.0.64/26), more than the waiting slots: the oldest anywhere gives way.
    [InlineData(64)]
    public async Task An_allowed_clients_device_list_succeeds_every_time_with_2000_silent_or_denied_connections_held_open(int silentAddresses)
    {
        await using var server = NewServer(silentAddresses);
        await using var flood = await Flood.StartAsync(server, silentAddresses);
        var failures = new List<string>();
        var slowest = TimeSpan.Zero;
        for (var i = 0; i < Lists; i++)
        {
            await Task.Delay(Pace);
            var took = Stopwatch.StartNew();
            try
            {
                Assert.Equal("2-3", Assert.Single(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, ListTimeout)).BusId);
            }
            catch (Exception e)
            {
                failures.Add($"list {i + 1}: {e.GetType().Name}: {e.Message}");
            }
            slowest = took.Elapsed > slowest ? took.Elapsed : slowest;
        }
        Assert.True(failures.Count == 0, $"{Lists - failures.Count} of {Lists} lists succeeded under the flood ({flood}): {string.Join("; ", failures)}");
        await flood.AssertItHitAsync(server);
        Assert.True(server.Server.ActiveConnections <= 1024);
        Console.WriteLine($"slot exhaustion with {silentAddresses} silent address(es): {Lists} of {Lists} lists, slowest {slowest.TotalMilliseconds:0} ms; {flood}; "
            + $"server: {server.Server.RefusedClients} denied, {server.Server.Evicted} evicted, {server.Server.Timeouts} timed out, {server.Server.OverCapacity} refused");
    }

    [UsbipToolFact]
    public async Task The_kernels_usbip_list_succeeds_every_time_with_2000_silent_or_denied_connections_held_open()
    {
        await using var server = NewServer(silentAddresses: 1);
        await using var flood = await Flood.StartAsync(server, silentAddresses: 1);
        var failures = new List<string>();
        for (var i = 0; i < Lists; i++)
        {
            await Task.Delay(Pace);
            var start = new ProcessStartInfo(UsbipTool) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { "--tcp-port", server.Port.ToString(CultureInfo.InvariantCulture), "list", "-r", "127.0.0.1" })
                start.ArgumentList.Add(argument);
            using var usbip = Process.Start(start)!;
            var output = usbip.StandardOutput.ReadToEndAsync();
            var error = usbip.StandardError.ReadToEndAsync();
            using var limit = new CancellationTokenSource(ListTimeout);
            try
            {
                await usbip.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                usbip.Kill();
                await usbip.WaitForExitAsync();
            }
            if (usbip.ExitCode != 0 || !(await output).Contains("        2-3: ", StringComparison.Ordinal))
                failures.Add($"list {i + 1}: exit {usbip.ExitCode}: {(await error).Trim()}");
        }
        Assert.True(failures.Count == 0, $"{Lists - failures.Count} of {Lists} usbip lists succeeded under the flood ({flood}): {string.Join("; ", failures)}");
        await flood.AssertItHitAsync(server);
    }

    private static UsbIpServerFixture NewServer(int silentAddresses)
    {
        FileDescriptors.Ensure(4 * (Denied + Silent) + 1024); // both ends of every connection, and room to spare
        var allowed = silentAddresses == 1 ? new[] { "127.0.0.1/32" } : new[] { "127.0.0.1/32", "127.0.0.64/26" };
        return new UsbIpServerFixture(allowed: ClientAllowList.Parse(allowed), requestTimeout: new UsbIpServerOptions().RequestTimeout);
    }

    /// <summary>The attack: lanes that connect, send nothing, and reconnect shortly after the server closes them.</summary>
    private sealed class Flood : IAsyncDisposable
    {
        /// <summary>Between a close and the next connect: keeps 2 shared cores from doing nothing but this.</summary>
        private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(200);

        private readonly CancellationTokenSource _stop = new();
        private readonly List<Task> _lanes = new();
        private long _connects, _closed, _connectFailures;

        private Flood() { }

        public static async Task<Flood> StartAsync(UsbIpServerFixture server, int silentAddresses)
        {
            var flood = new Flood();
            for (var i = 0; i < Denied; i++) flood._lanes.Add(flood.LaneAsync(DeniedPeer, server.Port));
            for (var i = 0; i < Silent; i++)
            {
                var source = silentAddresses == 1 ? IPAddress.Loopback : IPAddress.Parse($"127.0.0.{64 + (i % silentAddresses)}");
                flood._lanes.Add(flood.LaneAsync(source, server.Port));
            }
            // The attack is in full swing once every lane has connected at least once.
            var waited = Stopwatch.StartNew();
            while (Interlocked.Read(ref flood._connects) < Denied + Silent)
            {
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), $"the flood did not get going: {flood}");
                await Task.Delay(20);
            }
            return flood;
        }

        private async Task LaneAsync(IPAddress source, int port)
        {
            await Task.Yield();
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(IPAddress.Loopback, port, _stop.Token);
                    Interlocked.Increment(ref _connects);
                    // Silent: wait for the server to close it (at once, on eviction, or at its deadline).
                    await socket.ReceiveAsync(new byte[1], SocketFlags.None, _stop.Token);
                    Interlocked.Increment(ref _closed);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
                {
                    Interlocked.Increment(ref _connects);
                    Interlocked.Increment(ref _closed);
                }
                catch (SocketException)
                {
                    Interlocked.Increment(ref _connectFailures); // the listen queue full, ports in TIME_WAIT: the attacker's problem
                }
                try { await Task.Delay(Pause, _stop.Token); } catch (OperationCanceledException) { return; }
            }
        }

        /// <summary>The flood reached the server: denied peers were closed at accept, silent ones made room or timed out.</summary>
        public async Task AssertItHitAsync(UsbIpServerFixture server)
        {
            var waited = Stopwatch.StartNew();
            while (server.Server.RefusedClients == 0 || server.Server.Evicted + server.Server.Timeouts == 0)
            {
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30),
                    $"the flood never reached the server: {server.Server.RefusedClients} denied, {server.Server.Evicted} evicted, {server.Server.Timeouts} timed out");
                await Task.Delay(50);
            }
        }

        public override string ToString() =>
            $"{Interlocked.Read(ref _connects)} attack connections, {Interlocked.Read(ref _closed)} closed by the server, {Interlocked.Read(ref _connectFailures)} failed to connect";

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            await Task.WhenAll(_lanes).WaitAsync(TimeSpan.FromSeconds(30));
            _stop.Dispose();
        }
    }

    /// <summary>Raises this process's soft limit on open files when it is below what the test holds (never the hard limit).</summary>
    private static class FileDescriptors
    {
        private const int RlimitNofile = 7;

        public static void Ensure(ulong needed)
        {
            var limit = new RLimit();
            Assert.Equal(0, getrlimit(RlimitNofile, ref limit));
            if (limit.Current >= needed) return;
            Assert.True(limit.Maximum >= needed, $"the test holds {needed} descriptors, above this process's hard limit of {limit.Maximum} (ulimit -Hn)");
            limit.Current = needed;
            Assert.Equal(0, setrlimit(RlimitNofile, ref limit));
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct RLimit
        {
            public ulong Current;
            public ulong Maximum;
        }

        [DllImport("libc", SetLastError = true)] private static extern int getrlimit(int resource, ref RLimit limit);
        [DllImport("libc", SetLastError = true)] private static extern int setrlimit(int resource, ref RLimit limit);
    }

    /// <summary>A fact that runs only where Debian's usbip client is installed, and says so when it is not.</summary>
    private sealed class UsbipToolFactAttribute : FactAttribute
    {
        public UsbipToolFactAttribute()
        {
            if (!File.Exists(UsbipTool)) Skip = $"{UsbipTool} is missing: install Debian's usbip package to run this against the kernel's client.";
        }
    }
}
