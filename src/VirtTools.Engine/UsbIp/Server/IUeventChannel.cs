namespace VirtTools.UsbIp.Server;

/// <summary>
/// Where kernel uevents arrive, one datagram per receive: the netlink socket in production
/// (<see cref="NetlinkUeventChannel"/>), a queue of synthetic datagrams in tests.
/// </summary>
public interface IUeventChannel : IDisposable
{
    /// <summary>
    /// Waits for the next datagram and copies it into <paramref name="buffer"/>: its length (a datagram longer than the
    /// buffer fills it), or <see cref="UeventChannel.Overflow"/> when the kernel dropped datagrams because they
    /// were not read fast enough.
    /// </summary>
    ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellation);
}

public static class UeventChannel
{
    /// <summary>What <see cref="IUeventChannel.ReceiveAsync"/> returns when uevents were lost (ENOBUFS).</summary>
    public const int Overflow = -1;
}
