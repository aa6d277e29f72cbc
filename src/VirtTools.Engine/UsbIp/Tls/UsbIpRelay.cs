using System.Buffers;
using System.Net.Sockets;

namespace VirtTools.UsbIp.Tls;

/// <summary>How a relay ended: the bytes it moved each way, and which side ended it and why.</summary>
public sealed record UsbIpRelayEnd(long ToKernel, long ToNetwork, string Reason);

/// <summary>
/// Moves a relayed import's URB traffic between the TLS stream and the local socket whose other end the kernel holds
/// (usbip-host on a server, vhci_hcd on a client). One pooled buffer per direction, rented for the relay's life, so
/// nothing is allocated per packet; each write is awaited before the next read, so a slow side slows the other
/// instead of filling memory. When either side ends (EOF, error, or <c>stop</c>), both end: the local socket is shut
/// down and closed so the kernel reads EOF and releases the export or frees the port, and the TLS stream (and its TCP
/// connection) is closed.
/// </summary>
public static class UsbIpRelay
{
    /// <summary>Per direction; a bulk URB of the 16 KiB usual for storage fits several times over.</summary>
    public const int BufferSize = 64 * 1024;

    public static async Task<UsbIpRelayEnd> RunAsync(Stream network, Socket local, CancellationToken stop)
    {
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var localStream = new NetworkStream(local, ownsSocket: false);
        string? reason = null;
        var toKernel = PumpAsync(network, localStream, "the network peer closed the connection", "the network side failed");
        var toNetwork = PumpAsync(localStream, network, "the kernel closed its end", "the kernel's side failed");
        try
        {
            await Task.WhenAny(toKernel, toNetwork).ConfigureAwait(false);
        }
        finally
        {
            // Whichever side ended, the other must see it: the kernel reads EOF on its end, the peer sees the TCP close.
            ending.Cancel();
            try { local.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
            local.Dispose();
            await network.DisposeAsync().ConfigureAwait(false);
        }
        var moved = (await toKernel.ConfigureAwait(false), await toNetwork.ConfigureAwait(false));
        return new UsbIpRelayEnd(moved.Item1, moved.Item2, reason ?? (stop.IsCancellationRequested ? "stopped" : "ended"));

        async Task<long> PumpAsync(Stream from, Stream to, string closed, string failed)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            long moved = 0;
            try
            {
                while (true)
                {
                    var n = await from.ReadAsync(buffer.AsMemory(0, BufferSize), ending.Token).ConfigureAwait(false);
                    if (n == 0)
                    {
                        Interlocked.CompareExchange(ref reason, closed, null);
                        return moved;
                    }
                    await to.WriteAsync(buffer.AsMemory(0, n), ending.Token).ConfigureAwait(false);
                    moved += n;
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException
                                        or System.Security.Authentication.AuthenticationException)
            {
                if (!ending.IsCancellationRequested) Interlocked.CompareExchange(ref reason, $"{failed} ({e.GetType().Name}: {e.Message})", null);
                return moved;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
