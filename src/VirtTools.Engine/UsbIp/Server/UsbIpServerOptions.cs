using System.Net;
using VirtTools.UsbIp.Protocol;

namespace VirtTools.UsbIp.Server;

/// <summary>How a <see cref="UsbIpServer"/> listens and whom it serves.</summary>
public sealed class UsbIpServerOptions
{
    /// <summary>Addresses to listen on; empty: every address, IPv4 and IPv6 (one dual-stack socket).</summary>
    public IReadOnlyList<IPAddress> Addresses { get; init; } = Array.Empty<IPAddress>();

    /// <summary>TCP port; 0 picks a free port (the server reports the one it got).</summary>
    public int TcpPort { get; init; } = UsbIpProtocol.DefaultTcpPort;

    public ClientAllowList AllowedClients { get; init; } = ClientAllowList.LoopbackOnly;

    /// <summary>How long a client has to send its whole request (8 or 40 bytes), so a silent peer cannot hold a slot.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Connections served at once; more are closed at accept. Requests are tiny, so this is rarely reached.</summary>
    public int MaxConnections { get; init; } = 1024;

    /// <summary>Where the log lines go (imports, refusals, protocol errors); null: nowhere.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>The root the device source reads under, reported on the server object.</summary>
    public string Root { get; init; } = "/";
}
