using System.Net;
using VirtTools.Diagnostics;

namespace VirtTools.UsbIp.Server;

/// <summary>
/// The addresses and networks a server serves. Default: loopback only, because exposing a USB device to a whole
/// network must be a decision. IPv4 clients seen through a dual-stack socket (::ffff:a.b.c.d) match IPv4 entries.
/// </summary>
public sealed class ClientAllowList
{
    public static ClientAllowList LoopbackOnly { get; } = Parse(new[] { "127.0.0.0/8", "::1/128" });

    private readonly IPNetwork[] _networks;

    private ClientAllowList(IPNetwork[] networks) => _networks = networks;

    /// <summary>The entries as CIDR text ("10.0.0.0/8", "192.0.2.7/32").</summary>
    public IReadOnlyList<string> Entries => _networks.Select(n => n.ToString()).ToList();

    /// <summary>Addresses ("192.0.2.7", "::1") and CIDRs ("10.0.0.0/8"); "any" or "*" allows every client.</summary>
    public static ClientAllowList Parse(IEnumerable<string> entries)
    {
        var networks = new List<IPNetwork>();
        foreach (var entry in entries.Select(e => e.Trim()))
        {
            if (entry is "any" or "*")
            {
                networks.Add(new IPNetwork(IPAddress.Any, 0));
                networks.Add(new IPNetwork(IPAddress.IPv6Any, 0));
            }
            else if (IPAddress.TryParse(entry, out var address))
                networks.Add(new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            else if (IPNetwork.TryParse(entry, out var network))
                networks.Add(network);
            else
                throw new VirtToolsException("UsbIpInvalidAllowedClient", FailureKind.InvalidArgument,
                    $"'{entry}' is neither an IP address nor a network in CIDR form.",
                    "Give addresses (192.0.2.7, ::1) or networks (10.0.0.0/8, fd00::/8), or 'any' to serve every client.", entry);
        }
        return new ClientAllowList(networks.ToArray());
    }

    public bool Allows(IPAddress client)
    {
        if (client.IsIPv4MappedToIPv6) client = client.MapToIPv4();
        foreach (var network in _networks)
            if (network.Contains(client)) return true;
        return false;
    }
}
