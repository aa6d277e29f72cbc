using System.Net;

namespace VirtTools.UsbIp;

/// <summary>
/// Whether two spellings name the same USB/IP server, as an attach record (written with the name the attacher was
/// given) and a command or profile may spell it: host names ignoring case, IP literals by address, so "::1" and
/// "0:0:0:0:0:0:0:1", or "127.0.0.1" and "::ffff:127.0.0.1", are one server. Names are not resolved: comparing
/// must not wait on DNS, so a record written with an address does not match a host name.
/// </summary>
public static class UsbIpServerName
{
    public static bool Same(string? recorded, string? wanted)
    {
        if (recorded is null || wanted is null) return false;
        if (string.Equals(recorded, wanted, StringComparison.OrdinalIgnoreCase)) return true;
        return Address(recorded) is { } a && Address(wanted) is { } b && a.Equals(b);
    }

    private static IPAddress? Address(string text)
    {
        var bare = text.Length > 2 && text[0] == '[' && text[^1] == ']' ? text[1..^1] : text;
        if (!IPAddress.TryParse(bare, out var address)) return null;
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }
}
