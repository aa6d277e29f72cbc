using System.Net.Sockets;

namespace VirtTools.UsbIp;

/// <summary>
/// How soon the kernel gives up on a USB/IP peer that vanished without a FIN (network cut, suspend, power loss).
/// usbip-host and vhci_hcd block in a read on the socket we hand them and never probe the peer themselves: an idle
/// connection to a dead peer lasts forever without keepalive, 2 h 11 min with the system's keepalive defaults, and one
/// with unacknowledged data about 15 min (tcp_retries2), holding the export "in use" and the vhci port taken. These options, set on the socket
/// before the hand-over, make the socket fail with ETIMEDOUT instead; the kernel's reader then shuts the connection
/// down: the export becomes available again (usbip_status 1) and the vhci port is freed.
/// </summary>
public sealed record UsbIpDeadPeerPolicy
{
    /// <summary>The shortest timeout accepted: below it a busy but live peer on a slow link would be cut.</summary>
    public static readonly TimeSpan MinimumTimeout = TimeSpan.FromSeconds(MinimumSeconds);

    /// <summary>The longest: half of it must fit TCP_KEEPIDLE, which Linux caps at 32,767 s.</summary>
    public static readonly TimeSpan MaximumTimeout = TimeSpan.FromSeconds(MaximumSeconds);

    /// <summary>The range in whole seconds, as the options, cmdlet parameters and profile key that set it take it.</summary>
    public const int MinimumSeconds = 5, MaximumSeconds = 12 * 60 * 60, DefaultSeconds = 60;

    /// <summary>A dead peer is noticed within a minute: long enough for a Wi-Fi roam or a switch reboot, short enough for a human waiting.</summary>
    public static UsbIpDeadPeerPolicy Default { get; } = Within(TimeSpan.FromSeconds(DefaultSeconds));

    /// <summary>Silence before the first keepalive probe (TCP_KEEPIDLE).</summary>
    public TimeSpan Idle { get; init; }

    /// <summary>Between probes (TCP_KEEPINTVL).</summary>
    public TimeSpan Interval { get; init; }

    /// <summary>Unanswered probes before the connection is dropped (TCP_KEEPCNT).</summary>
    public int Count { get; init; }

    /// <summary>
    /// How long sent data may stay unacknowledged before the connection is dropped (TCP_USER_TIMEOUT); with keepalive
    /// on, Linux also uses it in place of <see cref="Count"/>. Without it a peer that vanishes while URBs are in
    /// flight would be noticed only after the retransmissions give up.
    /// </summary>
    public TimeSpan UserTimeout { get; init; }

    /// <summary>
    /// A policy under which a vanished peer is dropped <paramref name="timeout"/> after it last answered, whether the
    /// link was idle or busy: half of it silent, then three probes over the other half.
    /// </summary>
    public static UsbIpDeadPeerPolicy Within(TimeSpan timeout)
    {
        if (timeout < MinimumTimeout || timeout > MaximumTimeout)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout,
                $"A dead-peer timeout must be between {MinimumTimeout.TotalSeconds} s and {MaximumTimeout.TotalSeconds} s.");
        const int probes = 3;
        var seconds = (int)timeout.TotalSeconds;
        var idle = seconds / 2;
        return new UsbIpDeadPeerPolicy
        {
            Idle = TimeSpan.FromSeconds(idle),
            Interval = TimeSpan.FromSeconds(Math.Max(1, (seconds - idle) / probes)),
            Count = probes,
            UserTimeout = TimeSpan.FromSeconds(seconds),
        };
    }

    /// <summary>Sets the options on a connected TCP socket; the kernel keeps them when it takes the socket over.</summary>
    public void ApplyTo(Socket socket)
    {
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, (int)Idle.TotalSeconds);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, (int)Interval.TotalSeconds);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, Count);
        socket.SetRawSocketOption(IpProtoTcp, TcpUserTimeout, BitConverter.GetBytes((int)UserTimeout.TotalMilliseconds));
    }

    /// <summary>IPPROTO_TCP and TCP_USER_TIMEOUT (linux/tcp.h), which .NET has no name for.</summary>
    internal const int IpProtoTcp = 6, TcpUserTimeout = 18;

    public override string ToString() =>
        $"dead after {UserTimeout.TotalSeconds:0} s (keepalive {Idle.TotalSeconds:0} s idle, {Count} probes {Interval.TotalSeconds:0} s apart)";
}
