using System.Buffers;
using System.Net.Sockets;
using System.Security.Authentication;

namespace VirtTools.UsbIp.Tls;

/// <summary>How a relay ended: the bytes it moved each way, and which side ended it and why.</summary>
public sealed record UsbIpRelayEnd(long ToKernel, long ToNetwork, string Reason)
{
    /// <summary>
    /// The writes that carried <see cref="ToKernel"/> and <see cref="ToNetwork"/>, one per wake-up of a pump: bytes per
    /// write say whether the relay carried whole transfers or paid its per-message cost on small pieces.
    /// </summary>
    public long ReadsToKernel { get; init; }

    public long ReadsToNetwork { get; init; }

    /// <summary>The receive calls on the network connection that carried <see cref="ToKernel"/>: one or two per TLS record.</summary>
    public long NetworkReceives { get; init; }
}

/// <summary>
/// Moves a relayed import's URB traffic between the TLS stream and the local socket whose other end the kernel holds
/// (usbip-host on a server, vhci_hcd on a client). Each direction is one blocking pump on its own thread, woken by the
/// kernel when bytes arrive, where an async pump pays a thread-pool hand-off per read and per write (in the TCG lab
/// that took the TLS read from 0.18x to 0.39x of plain USB/IP; bench/RESULTS.md), and the TCP connection is read and
/// written directly (<see cref="RelayConnection"/>). Every wake-up costs: the records that are already in when one
/// arrives are taken with it and go to the kernel in one write, and the records of one read from the kernel leave in
/// one send. One pooled buffer per direction, rented for the relay's life, so nothing is allocated per packet; each
/// write completes before the next read, so a slow side slows the other instead of filling memory. When either side
/// ends (EOF, error, or <c>stop</c>), both end: both sockets are shut down, which wakes the other pump's blocked read,
/// and once both pumps are out the local socket and the TLS stream are closed, so the kernel reads EOF (and releases
/// the export or frees the port) and the peer sees its connection close.
/// </summary>
public sealed class UsbIpRelay
{
    /// <summary>Per direction: eight full TLS records, a whole 120 KiB storage transfer (usb-storage's default maximum).</summary>
    public const int BufferSize = 128 * 1024;

    /// <summary>The most plaintext one TLS record carries: less room than this left in the buffer ends a gathering.</summary>
    private const int RecordPlaintext = 16 * 1024;

    private readonly Stream _network;
    private readonly RelayConnection _connection;
    private readonly Socket _local;
    private readonly TaskCompletionSource<UsbIpRelayEnd> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _reason;
    private long _toKernel, _toNetwork, _readsToKernel, _readsToNetwork;
    private int _pumping = 2;
    private CancellationTokenRegistration _stopping;

    private UsbIpRelay(RelayConnection connection, Socket local) => (_network, _connection, _local) = (connection.Tls, connection, local);

    /// <summary>
    /// Relays between <paramref name="connection"/>'s TLS stream and <paramref name="local"/>, and owns both from here
    /// on; the task completes when both pumps are done and both are closed.
    /// </summary>
    internal static Task<UsbIpRelayEnd> RunAsync(RelayConnection connection, Socket local, CancellationToken stop)
    {
        var relay = new UsbIpRelay(connection, local);
        connection.StartRelaying();
        // Before the pumps: a stop already asked for shuts the sockets, and the pumps start into their EOF.
        relay._stopping = stop.UnsafeRegister(static state => ((UsbIpRelay)state!).End("stopped"), relay);
        relay.Start(relay.PumpToKernel, "usbip->kernel");
        relay.Start(relay.PumpToNetwork, "usbip->network");
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
                // Records already in the kernel join this one (a partial one completes at once: its sender sent it whole).
                while (BufferSize - n >= RecordPlaintext && _connection.HasUnreadBytes)
                {
                    var more = _network.Read(buffer, n, BufferSize - n);
                    if (more == 0) break; // the end is seen by the next read, once these bytes are delivered
                    n += more;
                }
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
                _connection.Hold();
                _network.Write(buffer, 0, n);
                _connection.SendHeld();
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
        try { _local.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        _connection.Shutdown();
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
        try { _network.Dispose(); } catch (Exception e) when (IsEnding(e)) { } // the connection too
        // Both pumps are out: their counts are final.
        _ended.SetResult(new UsbIpRelayEnd(_toKernel, _toNetwork, _reason!)
        {
            ReadsToKernel = _readsToKernel, ReadsToNetwork = _readsToNetwork, NetworkReceives = _connection.Receives,
        });
    }
}
