using System.Buffers;
using System.Net.Sockets;
using System.Security.Authentication;

namespace VirtTools.UsbIp.Tls;

/// <summary>How a relay ended: the bytes it moved each way, and which side ended it and why.</summary>
public sealed record UsbIpRelayEnd(long ToKernel, long ToNetwork, string Reason)
{
    /// <summary>
    /// The reads that brought <see cref="ToKernel"/> and <see cref="ToNetwork"/>, each forwarded as one write: bytes per
    /// read say whether the relay carried whole transfers or paid its per-message cost on small pieces.
    /// </summary>
    public long ReadsToKernel { get; init; }

    public long ReadsToNetwork { get; init; }
}

/// <summary>
/// Moves a relayed import's URB traffic between the TLS stream and the local socket whose other end the kernel holds
/// (usbip-host on a server, vhci_hcd on a client). Each direction is one blocking pump on its own thread, woken by the
/// kernel when bytes arrive, where an async pump pays a thread-pool hand-off per read and per write (in the TCG lab
/// that took the TLS read from 0.18x to 0.39x of plain USB/IP; bench/RESULTS.md). One pooled buffer per
/// direction, rented for the relay's life, so nothing is allocated per packet; each write completes before the next
/// read, so a slow side slows the other instead of filling memory. When either side ends (EOF, error, or <c>stop</c>),
/// both end: both sockets are shut down, which wakes the other pump's blocked read, and once both pumps are out the
/// local socket and the TLS stream are closed, so the kernel reads EOF (and releases the export or frees the port) and
/// the peer sees its connection close.
/// </summary>
public sealed class UsbIpRelay
{
    /// <summary>Per direction: four full TLS records; a storage read's 1 MiB transfers come in reads of ~45 KB with it.</summary>
    public const int BufferSize = 64 * 1024;

    private readonly Stream _network;
    private readonly Socket _connection;
    private readonly Socket _local;
    private readonly TaskCompletionSource<UsbIpRelayEnd> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _reason;
    private long _toKernel, _toNetwork, _readsToKernel, _readsToNetwork;
    private int _pumping = 2;
    private CancellationTokenRegistration _stopping;

    private UsbIpRelay(Stream network, Socket connection, Socket local) => (_network, _connection, _local) = (network, connection, local);

    /// <summary>
    /// Relays between <paramref name="network"/> (the TLS stream over <paramref name="connection"/>) and
    /// <paramref name="local"/>, and owns all three from here on; the task completes when both pumps are done and all
    /// three are closed.
    /// </summary>
    public static Task<UsbIpRelayEnd> RunAsync(Stream network, Socket connection, Socket local, CancellationToken stop)
    {
        var relay = new UsbIpRelay(network, connection, local);
        _ = BlockingDescriptor.TryRestore(connection);
        // Before the pumps: a stop already asked for shuts the sockets, and the pumps start into their EOF.
        relay._stopping = stop.UnsafeRegister(static state => ((UsbIpRelay)state!).End("stopped"), relay);
        relay.Start(relay.PumpToKernel, "usbip relay to kernel");
        relay.Start(relay.PumpToNetwork, "usbip relay to network");
        return relay._ended.Task;
    }

    private void Start(Action pump, string name)
    {
        // Background: a relay never keeps a process alive; the kernel's end closes with the process.
        var thread = new Thread(() => Pump(pump)) { IsBackground = true, Name = name };
        thread.Start();
    }

    private void PumpToKernel()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                var n = _network.Read(buffer, 0, BufferSize);
                if (n == 0) { End("the network peer closed the connection"); return; }
                Send(buffer.AsSpan(0, n));
                _toKernel += n;
                _readsToKernel++;
            }
        }
        catch (Exception e) when (IsEnding(e)) { End($"the network side failed ({e.GetType().Name}: {e.Message})"); }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    private void PumpToNetwork()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                var n = _local.Receive(buffer, 0, BufferSize, SocketFlags.None);
                if (n == 0) { End("the kernel closed its end"); return; }
                _network.Write(buffer, 0, n);
                _toNetwork += n;
                _readsToNetwork++;
            }
        }
        catch (Exception e) when (IsEnding(e)) { End($"the kernel's side failed ({e.GetType().Name}: {e.Message})"); }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <summary>Socket.Send may take part of a buffer; the kernel's end must get all of it, in order.</summary>
    private void Send(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty) bytes = bytes[_local.Send(bytes, SocketFlags.None)..];
    }

    private static bool IsEnding(Exception e) =>
        e is IOException or SocketException or ObjectDisposedException or AuthenticationException;

    /// <summary>The first end wins the reason; the shutdowns wake whichever pump is still blocked in a read.</summary>
    private void End(string reason)
    {
        if (Interlocked.CompareExchange(ref _reason, reason, null) is not null) return;
        Shut(_local);
        Shut(_connection);
    }

    private static void Shut(Socket socket)
    {
        try { socket.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    /// <summary>Runs one pump; the last one out closes everything (no pump is then inside a stream being disposed).</summary>
    private void Pump(Action pump)
    {
        try
        {
            pump();
        }
        catch (Exception e)
        {
            End($"the relay failed ({e.GetType().Name}: {e.Message})");
        }
        finally
        {
            if (Interlocked.Decrement(ref _pumping) == 0) Close();
        }
    }

    private void Close()
    {
        _stopping.Dispose();
        _local.Dispose();
        try { _network.Dispose(); } catch (Exception e) when (IsEnding(e)) { }
        _connection.Dispose();
        // Both pumps are out: their counts are final.
        _ended.SetResult(new UsbIpRelayEnd(_toKernel, _toNetwork, _reason!) { ReadsToKernel = _readsToKernel, ReadsToNetwork = _readsToNetwork });
    }
}
