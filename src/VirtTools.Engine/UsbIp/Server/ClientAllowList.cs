using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace VirtTools.UsbIp.Server;

/// <summary>
/// The addresses and networks a server serves. Default: loopback only, because exposing a USB device to a whole
/// network must be a decision. The grammar is strict, so what is served is what was written: an address, or a network
/// in CIDR form with no host bits set and a prefix the family has. IPv4 clients seen through a dual-stack socket
/// (::ffff:a.b.c.d) match IPv4 entries, and ::ffff: entries are the IPv4 addresses they carry.
/// </summary>
public sealed class ClientAllowList
{
    public static ClientAllowList LoopbackOnly { get; } = Parse(new[] { "127.0.0.0/8", "::1" });

    private static readonly IPNetwork[] Everyone = { new(IPAddress.Any, 0), new(IPAddress.IPv6Any, 0) };

    private readonly IPNetwork[] _networks;

    private ClientAllowList(IPNetwork[] networks) => _networks = networks;

    /// <summary>The entries as CIDR text ("10.0.0.0/8", "192.0.2.7/32").</summary>
    public IReadOnlyList<string> Entries => _networks.Select(n => n.ToString()).ToList();

    /// <summary>Addresses ("192.0.2.7", "::1") and networks ("10.0.0.0/8"); "any" or "*" allows every client.</summary>
    public static ClientAllowList Parse(IEnumerable<string> entries)
    {
        var networks = new List<IPNetwork>();
        foreach (var entry in entries)
            networks.AddRange(ParseEntry(entry, out var problem) ?? throw UsbIpErrors.InvalidAllowedClient(entry, problem!));
        return new ClientAllowList(networks.Distinct().ToArray());
    }

    /// <summary>What is wrong with one entry, or null when it is a valid one (for readers that gather all problems).</summary>
    public static string? Check(string entry)
    {
        ParseEntry(entry, out var problem);
        return problem;
    }

    public bool Allows(IPAddress client)
    {
        // Both forms of an IPv4 client on a dual-stack socket: its IPv4 address for IPv4 entries, the mapped one for
        // IPv6 entries that cover it (::/0).
        var ipv4 = client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : null;
        foreach (var network in _networks)
            if (network.Contains(client) || (ipv4 is not null && network.Contains(ipv4))) return true;
        return false;
    }

    private static IPNetwork[]? ParseEntry(string entry, out string? problem)
    {
        problem = null;
        var text = entry.Trim();
        if (text is "any" or "*") return Everyone;
        if (text.Length == 0)
        {
            problem = "'' is empty: neither an address nor a network";
            return null;
        }
        var slash = text.IndexOf('/');
        var address = IPAddressText.Parse(slash < 0 ? text : text[..slash], out problem);
        if (address is null)
        {
            if (slash >= 0) problem = $"'{text}' is not a network: {problem}";
            return null;
        }
        var bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = bits;
        if (slash >= 0 && !TryPrefix(text[(slash + 1)..], bits, out prefix))
        {
            problem = $"'{text}' has no valid prefix length: after the '/' comes a number from 0 to {bits} for an {(bits == 32 ? "IPv4" : "IPv6")} network";
            return null;
        }
        var network = Mask(address, prefix);
        if (!network.Equals(address))
        {
            problem = $"'{text}' has host bits set: the network is {network}/{prefix.ToString(CultureInfo.InvariantCulture)} "
                + $"(or write {address} alone for that one address)";
            return null;
        }
        // ::ffff:a.b.c.d/n with n >= 96 is the IPv4 network a.b.c.d/(n-96): store it as such so IPv4 clients match.
        if (address.IsIPv4MappedToIPv6 && prefix >= 96) return new[] { new IPNetwork(address.MapToIPv4(), prefix - 96) };
        return new[] { new IPNetwork(address, prefix) };
    }

    /// <summary>Decimal digits only, no sign, no leading zero, within the family's width.</summary>
    private static bool TryPrefix(string text, int bits, out int prefix)
    {
        prefix = -1;
        if (text.Length is 0 or > 3 || !text.All(char.IsAsciiDigit) || (text.Length > 1 && text[0] == '0')) return false;
        prefix = int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        return prefix <= bits;
    }

    private static IPAddress Mask(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xff00 >> keep);
        }
        return new IPAddress(bytes);
    }
}
