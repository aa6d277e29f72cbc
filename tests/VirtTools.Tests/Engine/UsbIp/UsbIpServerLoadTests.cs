using System.Net;
using System.Net.Sockets;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Protocol;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>Memory is measured process-wide, so the load tests run while nothing else does.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class UsbIpLoadCollection
{
    public const string Name = "UsbIpLoad";
}

/// <summary>Bounded load on 127.0.0.1: many honest clients at once, then a flood of broken ones.</summary>
[Trait("Category", "Load")]
[Collection(UsbIpLoadCollection.Name)]
public sealed class UsbIpServerLoadTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Four_hundred_concurrent_device_list_clients_all_get_their_answer()
    {
        // All 400 clients come from 127.0.0.1 here, where they would be 400 hosts: the per-client limit is theirs.
        await using var server = new UsbIpServerFixture(maxConnectionsPerClient: 400);
        using var gate = new SemaphoreSlim(0);
        var clients = Enumerable.Range(0, 400).Select(async _ =>
        {
            await gate.WaitAsync();
            return await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, TimeSpan.FromSeconds(60));
        }).ToList();
        gate.Release(400);
        var lists = await Task.WhenAll(clients).WaitAsync(Deadline);
        Assert.All(lists, list => Assert.Equal("2-3", Assert.Single(list).BusId));
        Assert.Equal(400, server.Server.Connections);
        Assert.Equal(0, server.Server.ProtocolErrors + server.Server.Timeouts + server.Server.OverCapacity);
    }

    [Fact]
    public async Task Ten_thousand_malformed_truncated_and_aborted_connections_leave_the_server_answering_with_flat_memory()
    {
        // The 64 abusers share 127.0.0.1: the per-client limit is raised so every one of them reaches the decoder.
        await using var server = new UsbIpServerFixture(requestTimeout: TimeSpan.FromSeconds(2), maxConnectionsPerClient: 64);
        await AbuseAsync(server.Port, 1000); // warm-up: pools, JIT, socket engine
        await WaitForIdle(server);
        var memoryBefore = Memory();

        await AbuseAsync(server.Port, 10_000).WaitAsync(Deadline);
        await WaitForIdle(server);
        var memoryAfter = Memory();

        // A connection reset before it sent a byte (one kind in five) never leaves the kernel's queue (TCP_DEFER_ACCEPT).
        Assert.Equal(11_000 - (11_000 / 5), server.Server.Connections);
        Assert.Equal(0, server.Server.ActiveConnections);
        Assert.Equal("2-3", Assert.Single(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, TimeSpan.FromSeconds(10))).BusId);
        Assert.True(memoryAfter - memoryBefore < 4 * 1024 * 1024, $"managed memory grew from {memoryBefore} to {memoryAfter} bytes");
        Assert.True(server.Server.ProtocolErrors > 5000, $"only {server.Server.ProtocolErrors} protocol errors were seen");
    }

    /// <summary><paramref name="count"/> broken connections, 64 at a time, cycling through five kinds of abuse.</summary>
    private static async Task AbuseAsync(int port, int count)
    {
        var next = -1;
        var workers = Enumerable.Range(0, 64).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count) await AbuseOnceAsync(port, i % 5);
        });
        await Task.WhenAll(workers);
    }

    private static async Task AbuseOnceAsync(int port, int kind)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port);
        try
        {
            switch (kind)
            {
                case 0: // not USB/IP at all
                    await socket.SendAsync("GET / HTTP/1.0\r\n\r\n"u8.ToArray(), SocketFlags.None);
                    break;
                case 1: // a header cut in half
                    await socket.SendAsync(new byte[] { 0x01, 0x11, 0x80 }, SocketFlags.None);
                    socket.Shutdown(SocketShutdown.Send);
                    break;
                case 2: // an import request whose busid never completes
                    await socket.SendAsync(UsbIpServerTests.ImportRequest("2-3")[..20], SocketFlags.None);
                    socket.Shutdown(SocketShutdown.Send);
                    break;
                case 3: // an operation the server does not answer
                    var header = new byte[8];
                    UsbIpManagementCodec.WriteOpCommon(header, (UsbIpOperation)0x8006, UsbIpReplyStatus.Ok);
                    await socket.SendAsync(header, SocketFlags.None);
                    break;
                default: // connect and reset at once
                    socket.LingerState = new LingerOption(true, 0);
                    break;
            }
            if (kind is 0 or 3)
            {
                using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await socket.ReceiveAsync(new byte[64], SocketFlags.None, limit.Token);
            }
        }
        catch (SocketException)
        {
            // The server closing a connection that sent garbage may reset it: that is the point.
        }
    }

    private static async Task WaitForIdle(UsbIpServerFixture server)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (server.Server.ActiveConnections > 0 && waited.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(20);
    }

    private static long Memory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
