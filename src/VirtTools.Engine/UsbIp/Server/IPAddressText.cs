using System.Globalization;
using System.Net;

namespace VirtTools.UsbIp.Server;

/// <summary>
/// IP addresses as people write them in an allow-list or a listen address: dotted-quad IPv4 with four decimal parts,
/// or IPv6 in colon form. Stricter than <see cref="IPAddress.TryParse(string, out IPAddress)"/>, which reads "3240"
/// as 0.0.12.168, "10" as 0.0.0.10 and "010.1.1.1" as octal: a silently different address is worse than an error.
/// </summary>
public static class IPAddressText
{
    /// <summary>The address, or null with <paramref name="problem"/> saying what is wrong with the text.</summary>
    public static IPAddress? Parse(string text, out string? problem)
    {
        problem = null;
        if (text.Contains(':')) return ParseIPv6(text, out problem);
        var parts = text.Split('.');
        if (parts.Length != 4 || parts.Any(p => p.Length == 0))
        {
            problem = parts.All(p => p.Length > 0 && p.All(char.IsAsciiDigit))
                ? $"'{text}' is not a whole IPv4 address; write all four parts (as in 10.0.0.0 or 192.0.2.7)"
                : $"'{text}' is not an IP address (192.0.2.7, 2001:db8::7)";
            return null;
        }
        var bytes = new byte[4];
        for (var i = 0; i < 4; i++)
        {
            var part = parts[i];
            if (part.Length > 3 || !part.All(char.IsAsciiDigit))
            {
                problem = $"'{text}' is not an IP address (192.0.2.7, 2001:db8::7)";
                return null;
            }
            if (part.Length > 1 && part[0] == '0')
            {
                problem = $"'{text}' has a part with a leading zero ('{part}'), which some tools read as octal; write it without";
                return null;
            }
            var value = int.Parse(part, NumberStyles.None, CultureInfo.InvariantCulture);
            if (value > 255)
            {
                problem = $"'{text}' is not an IPv4 address; '{part}' is above 255";
                return null;
            }
            bytes[i] = (byte)value;
        }
        return new IPAddress(bytes);
    }

    private static IPAddress? ParseIPv6(string text, out string? problem)
    {
        var tail = text[(text.LastIndexOf(':') + 1)..];
        if (tail.Contains('.') && Parse(tail, out _) is null)
        {
            problem = $"'{text}' is not an IPv6 address; its IPv4 part '{tail}' is not four decimal parts";
            return null;
        }
        problem = null;
        // Hex digits, colons and an embedded dotted IPv4 tail only: no zone ("%eth0"), brackets or port.
        if (!text.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.')
            || !IPAddress.TryParse(text, out var address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            problem = $"'{text}' is not an IP address (192.0.2.7, 2001:db8::7)";
            return null;
        }
        return address;
    }
}
