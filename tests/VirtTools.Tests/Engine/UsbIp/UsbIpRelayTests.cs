using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using VirtTools.Tests.Support;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Server;
using VirtTools.UsbIp.Tls;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>
/// The relay between a TLS stream and a local socket pair, without a kernel: a socket pair's far end stands in for
/// usbip-host or vhci_hcd, a loopback SslStream for the peer.
/// </summary>
public sealed class UsbIpRelayTests(TestCertificates certificates) : IClassFixture<TestCertificates>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task The_relay_moves_bytes_both_ways_larger_than_its_buffers()
    {
        await using var link = await TlsLink.OpenAsync(certificates);
        var (kernel, relayEnd) = LocalSocketPair.Create();
        using var _ = kernel;
        var relay = UsbIpRelay.RunAsync(link.Near, relayEnd, CancellationToken.None);

        var toKernel = Pattern(3 * UsbIpRelay.BufferSize + 17, seed: 1);
        var toPeer = Pattern(2 * UsbIpRelay.BufferSize + 5, seed: 2);
        // Read while writing: neither side's buffers need to hold a whole transfer.
        var atKernel = ReadExactlyAsync(new NetworkStream(kernel, ownsSocket: false), toKernel.Length);
        var atPeer = ReadExactlyAsync(link.Far, toPeer.Length);
        await Task.WhenAll(link.Far.WriteAsync(toKernel).AsTask(), kernel.SendAsync(toPeer, SocketFlags.None));
        Assert.Equal(toKernel, await atKernel);
        Assert.Equal(toPeer, await atPeer);

        kernel.Shutdown(SocketShutdown.Both);
        var end = await relay.WaitAsync(Timeout);
        Assert.Equal((toKernel.Length, toPeer.Length, "the kernel closed its end"), (end.ToKernel, end.ToNetwork, end.Reason));
    }

    [Fact]
    public async Task When_the_peer_closes_the_kernel_end_reads_EOF()
    {
        await using var link = await TlsLink.OpenAsync(certificates);
        var (kernel, relayEnd) = LocalSocketPair.Create();
        using var _ = kernel;
        var relay = UsbIpRelay.RunAsync(link.Near, relayEnd, CancellationToken.None);
        await link.Far.DisposeAsync();
        var end = await relay.WaitAsync(Timeout);
        Assert.StartsWith("the network", end.Reason, StringComparison.Ordinal);
        using var waiting = new CancellationTokenSource(Timeout);
        Assert.Equal(0, await kernel.ReceiveAsync(new byte[16], SocketFlags.None, waiting.Token));
    }

    [Fact]
    public async Task When_the_kernel_closes_its_end_the_peer_sees_the_connection_end()
    {
        await using var link = await TlsLink.OpenAsync(certificates);
        var (kernel, relayEnd) = LocalSocketPair.Create();
        var relay = UsbIpRelay.RunAsync(link.Near, relayEnd, CancellationToken.None);
        kernel.Dispose();
        await relay.WaitAsync(Timeout);
        using var waiting = new CancellationTokenSource(Timeout);
        Assert.Equal(0, await ReadOrEndAsync(link.Far, waiting.Token));
    }

    [Fact]
    public async Task Stopping_the_relay_ends_both_sides()
    {
        await using var link = await TlsLink.OpenAsync(certificates);
        var (kernel, relayEnd) = LocalSocketPair.Create();
        using var _ = kernel;
        using var stop = new CancellationTokenSource();
        var relay = UsbIpRelay.RunAsync(link.Near, relayEnd, stop.Token);
        stop.Cancel();
        Assert.Equal("stopped", (await relay.WaitAsync(Timeout)).Reason);
        using var waiting = new CancellationTokenSource(Timeout);
        Assert.Equal(0, await kernel.ReceiveAsync(new byte[16], SocketFlags.None, waiting.Token));
        Assert.Equal(0, await ReadOrEndAsync(link.Far, waiting.Token));
    }

    /// <summary>
    /// A storage read as the kernel makes it: a small command, then the answer, and the next command only once the
    /// answer is in. Each message is forwarded as soon as it arrives, however small (no pump waits to fill its buffer).
    /// </summary>
    [Fact]
    public async Task Small_dependent_messages_cross_one_at_a_time_in_both_directions()
    {
        await using var link = await TlsLink.OpenAsync(certificates);
        var (kernel, relayEnd) = LocalSocketPair.Create();
        using var _ = kernel;
        var relay = UsbIpRelay.RunAsync(link.Near, relayEnd, CancellationToken.None);
        var atKernel = new NetworkStream(kernel, ownsSocket: false);
        const int Rounds = 200;
        for (var round = 0; round < Rounds; round++)
        {
            var command = Pattern(31, seed: round); // a bulk-only CBW
            await link.Far.WriteAsync(command);
            Assert.Equal(command, await ReadExactlyAsync(atKernel, command.Length));
            var status = Pattern(13, seed: -round); // its CSW
            await kernel.SendAsync(status, SocketFlags.None);
            Assert.Equal(status, await ReadExactlyAsync(link.Far, status.Length));
        }
        kernel.Shutdown(SocketShutdown.Both);
        var end = await relay.WaitAsync(Timeout);
        Assert.Equal((31L * Rounds, 13L * Rounds), (end.ToKernel, end.ToNetwork));
        Assert.Equal(((long)Rounds, (long)Rounds), (end.ReadsToKernel, end.ReadsToNetwork)); // one read, one write per message
    }

    [Fact]
    public async Task A_relay_stopped_before_it_starts_ends_both_sides_at_once()
    {
        await using var link = await TlsLink.OpenAsync(certificates);
        var (kernel, relayEnd) = LocalSocketPair.Create();
        using var _ = kernel;
        var relay = UsbIpRelay.RunAsync(link.Near, relayEnd, new CancellationToken(canceled: true));
        Assert.Equal(new UsbIpRelayEnd(0, 0, "stopped"), await relay.WaitAsync(Timeout)); // no read, so no counts either
        using var waiting = new CancellationTokenSource(Timeout);
        Assert.Equal(0, await kernel.ReceiveAsync(new byte[16], SocketFlags.None, waiting.Token));
        Assert.Equal(0, await ReadOrEndAsync(link.Far, waiting.Token));
    }

    /// <summary>
    /// The TLS handshake left the connection non-blocking (.NET does after asynchronous I/O); the relay's pump reads it
    /// blocking, so the kernel wakes it directly, and the other tests show a shutdown still ends such a read.
    /// </summary>
    [Fact]
    public async Task The_relay_reads_its_connection_blocking()
    {
        await using var link = await TlsLink.OpenAsync(certificates);
        var (kernel, relayEnd) = LocalSocketPair.Create();
        using var _ = kernel;
        Assert.NotEqual(0, fcntl((int)link.NearSocket.SafeHandle.DangerousGetHandle(), GetFlags, 0) & NonBlocking);
        var relay = UsbIpRelay.RunAsync(link.Near, relayEnd, CancellationToken.None);
        Assert.Equal(0, fcntl((int)link.NearSocket.SafeHandle.DangerousGetHandle(), GetFlags, 0) & NonBlocking);
        kernel.Shutdown(SocketShutdown.Both);
        Assert.Equal("the kernel closed its end", (await relay.WaitAsync(Timeout)).Reason);
    }

    /// <summary>
    /// The handshake's asynchronous I/O put the connection in .NET's epoll set, where each arrival of data would wake
    /// its epoll thread and a pool thread; the relay takes it out (the kernel's own list of an epoll set's descriptors,
    /// /proc/self/fdinfo, says so), and the other tests show the relay still moves bytes and ends.
    /// </summary>
    [Fact]
    public async Task The_relay_takes_its_connection_out_of_the_epoll_sets()
    {
        await using var link = await TlsLink.OpenAsync(certificates);
        var (kernel, relayEnd) = LocalSocketPair.Create();
        using var _ = kernel;
        var fd = (int)link.NearSocket.SafeHandle.DangerousGetHandle();
        Assert.Contains(fd, EpollSetsProbe.WatchedDescriptors());
        var relay = UsbIpRelay.RunAsync(link.Near, relayEnd, CancellationToken.None);
        Assert.DoesNotContain(fd, EpollSetsProbe.WatchedDescriptors());
        var toKernel = Pattern(4096, seed: 5);
        await link.Far.WriteAsync(toKernel);
        Assert.Equal(toKernel, await ReadExactlyAsync(new NetworkStream(kernel, ownsSocket: false), toKernel.Length));
        kernel.Shutdown(SocketShutdown.Both);
        Assert.Equal("the kernel closed its end", (await relay.WaitAsync(Timeout)).Reason);
    }

    /// <summary>
    /// Records that are all in when the relay wakes go to the kernel in one write (one wake-up of its receiving
    /// thread), however many TLS records carried them.
    /// </summary>
    [Fact]
    public async Task Records_already_in_reach_the_kernel_in_one_write()
    {
        await using var link = await TlsLink.OpenAsync(certificates);
        var (kernel, relayEnd) = LocalSocketPair.Create();
        using var _ = kernel;
        var transfer = Pattern(3 * 16 * 1024 + 100, seed: 6); // four TLS records
        await link.Far.WriteAsync(transfer);
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (link.NearSocket.Available < transfer.Length) { Assert.True(deadline.Elapsed < Timeout); await Task.Delay(10); }
        var relay = UsbIpRelay.RunAsync(link.Near, relayEnd, CancellationToken.None);
        Assert.Equal(transfer, await ReadExactlyAsync(new NetworkStream(kernel, ownsSocket: false), transfer.Length));
        kernel.Shutdown(SocketShutdown.Both);
        var end = await relay.WaitAsync(Timeout);
        Assert.Equal((transfer.Length, 1L), (end.ToKernel, end.ReadsToKernel));
    }

    /// <summary>
    /// A record that arrives as many TCP segments (here 1000-byte pieces, a millisecond apart) wakes the relay once for
    /// the rest of its body, not once per segment: at most a receive for its header, one for its body (and, for a body
    /// SslStream had no room for yet, one more), where a read per segment would take seventeen.
    /// </summary>
    [Fact]
    public async Task A_record_arriving_in_pieces_takes_one_receive_for_its_body()
    {
        await using var link = await TlsLink.OpenAsync(certificates, piecewise: true);
        var (kernel, relayEnd) = LocalSocketPair.Create();
        using var _ = kernel;
        var relay = UsbIpRelay.RunAsync(link.Near, relayEnd, CancellationToken.None);
        link.Wire!.Piece = 1000;
        const int Records = 4;
        var transfer = Pattern(Records * 16 * 1024, seed: 7);
        var atKernel = ReadExactlyAsync(new NetworkStream(kernel, ownsSocket: false), transfer.Length);
        await link.Far.WriteAsync(transfer);
        Assert.Equal(transfer, await atKernel);
        kernel.Shutdown(SocketShutdown.Both);
        var end = await relay.WaitAsync(Timeout);
        Assert.Equal(transfer.Length, end.ToKernel);
        Assert.InRange(end.NetworkReceives, Records, 3 * Records);
    }

    /// <summary>
    /// A peer that stops partway through a record leaves the relay waiting for the rest of its body; a stop still ends
    /// that wait, and both sides.
    /// </summary>
    [Fact]
    public async Task A_stop_ends_a_relay_waiting_for_the_rest_of_a_record()
    {
        await using var link = await TlsLink.OpenAsync(certificates, piecewise: true);
        var (kernel, relayEnd) = LocalSocketPair.Create();
        using var _ = kernel;
        using var stop = new CancellationTokenSource();
        var relay = UsbIpRelay.RunAsync(link.Near, relayEnd, stop.Token);
        await SendPartOfARecordAsync(link);
        stop.Cancel();
        Assert.Equal("stopped", (await relay.WaitAsync(Timeout)).Reason);
        using var waiting = new CancellationTokenSource(Timeout);
        Assert.Equal(0, await kernel.ReceiveAsync(new byte[16], SocketFlags.None, waiting.Token));
    }

    /// <summary>A peer that goes away partway through a record ends the relay: the wait for the rest of the body sees the end.</summary>
    [Fact]
    public async Task A_peer_gone_partway_through_a_record_ends_the_relay()
    {
        await using var link = await TlsLink.OpenAsync(certificates, piecewise: true);
        var (kernel, relayEnd) = LocalSocketPair.Create();
        using var _ = kernel;
        var relay = UsbIpRelay.RunAsync(link.Near, relayEnd, CancellationToken.None);
        await SendPartOfARecordAsync(link);
        link.Wire!.Close(); // the TCP connection, under the TLS stream
        Assert.StartsWith("the network", (await relay.WaitAsync(Timeout)).Reason, StringComparison.Ordinal);
        using var waiting = new CancellationTokenSource(Timeout);
        Assert.Equal(0, await kernel.ReceiveAsync(new byte[16], SocketFlags.None, waiting.Token));
    }

    /// <summary>The first 10,000 bytes of a 16 KiB record, once the relay has taken them in (its read then waits for the rest).</summary>
    private static async Task SendPartOfARecordAsync(TlsLink link)
    {
        link.Wire!.GoSilentAfter(10_000);
        await link.Far.WriteAsync(Pattern(16 * 1024, seed: 8));
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (link.NearSocket.Available > 0 || link.Near.Receives == 0) { Assert.True(deadline.Elapsed < Timeout); await Task.Delay(10); }
    }

    /// <summary>
    /// A whole TLS import without a kernel: the server hands usbip-host's stand-in its end of a pair, the client hands
    /// vhci_hcd's stand-in its own, and URB-sized bytes cross between the two; when the client side closes, the
    /// server's relay ends and its stand-in for usbip-host reads EOF (the kernel would give the device back).
    /// </summary>
    [Fact]
    public async Task A_TLS_import_carries_traffic_between_the_two_kernel_ends_and_a_close_reaches_the_server_kernel()
    {
        var usbipHost = new DuplicatingHandoff();
        await using var server = new UsbIpServerFixture(handoff: usbipHost, tls: new UsbIpTlsServerSettings
        {
            CertificatePath = certificates.ServerCertificatePath,
            KeyPath = certificates.ServerKeyPath,
            ClientCaPath = certificates.CaPath,
        });
        var client = new UsbIpTlsClientSettings
        {
            CertificatePath = certificates.ClientCertificatePath,
            KeyPath = certificates.ClientKeyPath,
            ServerCaPath = certificates.CaPath,
        };
        Socket vhci;
        using (var import = await UsbIpClient.ImportAsync("127.0.0.1", server.Port, "2-3", Timeout, tls: client))
        {
            Assert.Equal("2-3", import.Device.BusId);
            vhci = Duplicate(import.SocketFd); // vhci_hcd's own reference, as its attach takes one
            import.Attached();
        }
        using (vhci)
        {
            using var host = usbipHost.Taken!;
            var urb = Pattern(48 + 512, seed: 3);
            await vhci.SendAsync(urb, SocketFlags.None);
            Assert.Equal(urb, await ReadExactlyAsync(new NetworkStream(host, ownsSocket: false), urb.Length));
            var reply = Pattern(48 + 4096, seed: 4);
            await host.SendAsync(reply, SocketFlags.None);
            Assert.Equal(reply, await ReadExactlyAsync(new NetworkStream(vhci, ownsSocket: false), reply.Length));
            Assert.Equal(1, server.Server.Relays);
            Assert.Contains(server.Log, line => line.StartsWith("127.0.0.1 (CN=desk-17.test, sha256:", StringComparison.Ordinal)
                && line.Contains("imported 2-3", StringComparison.Ordinal));

            vhci.Shutdown(SocketShutdown.Both);
            using var waiting = new CancellationTokenSource(Timeout);
            Assert.Equal(0, await host.ReceiveAsync(new byte[16], SocketFlags.None, waiting.Token));
        }
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (server.Server.Relays != 0) { Assert.True(deadline.Elapsed < Timeout); await Task.Delay(10); }
        Assert.Contains(server.Log, line => line.Contains("relay ended, the network peer closed the connection", StringComparison.Ordinal));
    }

    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task<byte[]> ReadExactlyAsync(Stream stream, int length)
    {
        var bytes = new byte[length];
        using var waiting = new CancellationTokenSource(Timeout);
        await stream.ReadExactlyAsync(bytes, waiting.Token);
        return bytes;
    }

    /// <summary>0 at the end of the stream; a reset or a TLS error is an end as well.</summary>
    private static async Task<int> ReadOrEndAsync(Stream stream, CancellationToken cancellation)
    {
        try
        {
            return await stream.ReadAsync(new byte[16], cancellation);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static Socket Duplicate(int fd) => new(new SafeSocketHandle(dup(fd), ownsHandle: true));

    [DllImport("libc", SetLastError = true)] private static extern int dup(int fd);

    [DllImport("libc", SetLastError = true)] private static extern int fcntl(int fd, int command, int argument);

    private const int GetFlags = 3, NonBlocking = 0x800; // F_GETFL, O_NONBLOCK

    /// <summary>Stands in for usbip-host: keeps its own reference to the local end it is given (as sockfd_lookup takes the file).</summary>
    private sealed class DuplicatingHandoff : IUsbIpSocketHandoff
    {
        public Socket? Taken { get; private set; }

        public void HandOver(string busId, Socket socket) => Taken = Duplicate((int)socket.SafeHandle.DangerousGetHandle());
    }

    /// <summary>A loopback TCP connection with TLS on it: <see cref="Near"/> is the relay's side, <see cref="Far"/> the peer's.</summary>
    private sealed class TlsLink : IAsyncDisposable
    {
        private TlsLink(RelayConnection near, SslStream far, PiecewiseWire? wire) => (Near, Far, Wire) = (near, far, wire);

        /// <summary>The relay's side: a connection with TLS on it, as the server and the client make them.</summary>
        public RelayConnection Near { get; }

        /// <summary>The TCP socket under <see cref="Near"/>, which the relay shuts down when either side ends.</summary>
        public Socket NearSocket => Near.Socket;

        public SslStream Far { get; }

        /// <summary>The peer's TCP stream under <see cref="Far"/>, when the link was opened piecewise.</summary>
        public PiecewiseWire? Wire { get; }

        /// <param name="piecewise">The peer's TCP stream, under its TLS, is a <see cref="PiecewiseWire"/> (<see cref="Wire"/>).</param>
        public static async Task<TlsLink> OpenAsync(TestCertificates certificates, bool piecewise = false)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var connecting = new TcpClient();
            var connected = connecting.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
            var accepted = await listener.AcceptTcpClientAsync();
            await connected;
            using var certificate = X509Certificate2.CreateFromPemFile(certificates.ServerCertificatePath, certificates.ServerKeyPath);
            var near = new RelayConnection(accepted.Client, ownsSocket: true);
            connecting.NoDelay = true; // each piece a PiecewiseWire writes leaves as its own segment
            var wire = piecewise ? new PiecewiseWire(connecting.Client) : null;
            var far = new SslStream(wire ?? (Stream)connecting.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
            await Task.WhenAll(
                near.Tls.AuthenticateAsServerAsync(certificate),
                far.AuthenticateAsClientAsync("localhost"));
            return new TlsLink(near, far, wire);
        }

        public async ValueTask DisposeAsync()
        {
            await Near.Tls.DisposeAsync();
            await Far.DisposeAsync();
        }
    }

    /// <summary>
    /// The peer's TCP stream under its TLS, writing in pieces a millisecond apart once <see cref="Piece"/> is set (a
    /// record then reaches the relay as several segments), and silent past a point once told to be.
    /// </summary>
    private sealed class PiecewiseWire(Socket socket) : NetworkStream(socket, ownsSocket: true)
    {
        private long _written;
        private long _silentFrom = long.MaxValue;

        /// <summary>The size of the pieces; 0 (the handshake) writes whole.</summary>
        public int Piece { get; set; }

        /// <summary>From <paramref name="bytes"/> more on, nothing written goes out: a peer stopped partway.</summary>
        public void GoSilentAfter(long bytes) => _silentFrom = _written + bytes;

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellation = default)
        {
            var piece = Piece > 0 ? Piece : buffer.Length;
            for (var at = 0; at < buffer.Length; at += piece)
            {
                var part = buffer.Slice(at, Math.Min(piece, buffer.Length - at));
                part = part[..(int)Math.Clamp(_silentFrom - _written, 0, part.Length)];
                if (part.IsEmpty) return;
                await base.WriteAsync(part, cancellation);
                _written += part.Length;
                if (Piece > 0) await Task.Delay(1, cancellation);
            }
        }

        // Every other way to write goes through the one above.
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellation) => WriteAsync(buffer.AsMemory(offset, count), cancellation).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override void Write(ReadOnlySpan<byte> buffer) => Write(buffer.ToArray(), 0, buffer.Length);
    }
}
