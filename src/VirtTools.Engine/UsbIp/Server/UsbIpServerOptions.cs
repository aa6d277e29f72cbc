using System.Net;
using VirtTools.UsbIp.Protocol;
using VirtTools.UsbIp.Tls;

namespace VirtTools.UsbIp.Server;

/// <summary>How a <see cref="UsbIpServer"/> listens and whom it serves.</summary>
public sealed class UsbIpServerOptions
{
    /// <summary>
    /// Addresses to listen on; empty: loopback only, 127.0.0.1 and ::1 (IPv4 alone where IPv6 is off), as the
    /// default allow-list serves loopback clients only. Listening on a network is a decision, made here.
    /// </summary>
    public IReadOnlyList<IPAddress> Addresses { get; init; } = Array.Empty<IPAddress>();

    /// <summary>TCP port; 0 picks a free port (the server reports the one it got).</summary>
    public int TcpPort { get; init; } = UsbIpProtocol.DefaultTcpPort;

    public ClientAllowList AllowedClients { get; init; } = ClientAllowList.LoopbackOnly;

    /// <summary>
    /// How long a client has from connecting to the end of its request (8 or 40 bytes). usbip sends
    /// its request at once, so a few seconds are plenty, and a silent peer holds a slot no longer than this.
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// What a TLS client gets on top of <see cref="RequestTimeout"/> once its ClientHello is in: the handshake is the
    /// server's work too (a signature, the client's chain checked), slow on a loaded or emulated machine.
    /// </summary>
    public TimeSpan TlsHandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long the reply may take once the request is in: reading the exports can wait on the kernel's USB device
    /// lock while a device is bound or reset, so it gets its own bound rather than what is left of the request's.
    /// </summary>
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Connections served at once (waiting for their request or being answered).</summary>
    public int MaxConnections { get; init; } = 1024;

    /// <summary>
    /// Of <see cref="MaxConnections"/>, the slots connections still waiting for their request may not take, so
    /// requests that did arrive are served while silent connections flood the rest.
    /// </summary>
    public int ReservedConnections { get; init; } = 64;

    /// <summary>Connections one client address may hold at once; its oldest silent one gives way to a new one.</summary>
    public int MaxConnectionsPerClient { get; init; } = 16;

    /// <summary>TLS on the same port (and whether plain USB/IP is refused); null: plain USB/IP only, and no OpenSSL is loaded.</summary>
    public UsbIpTlsServerSettings? Tls { get; init; }

    /// <summary>
    /// Whether the server records who holds each device it hands over (/run/virttools/usbip-holders under
    /// <see cref="Root"/>, shown by Get-UsbIpExport); off only where the tree must not be written (a shared test capture).
    /// </summary>
    public bool RecordHolders { get; init; } = true;

    /// <summary>Where the log lines go (imports, refusals, protocol errors); null: nowhere.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>The root the device source reads under, reported on the server object.</summary>
    public string Root { get; init; } = "/";
}
