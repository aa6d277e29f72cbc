using System.Globalization;
using VirtTools.UsbIp.Protocol;

namespace VirtTools.UsbIp.Tls;

/// <summary>
/// Who may list and import which devices: a client identity (its certificate's "sha256:" fingerprint, its subject as
/// "CN=desk-17,O=Example", or a name it carries: its CN or a DNS name in its subject alternative names) and the devices,
/// each "VID:PID" (hex), a bus id, a serial number, or "*" for every device. With grants, a client sees and imports only
/// what a grant gives its identity; a client with no verified certificate has no identity and gets nothing.
/// </summary>
public sealed record UsbIpGrant(string Client, IReadOnlyList<string> Devices)
{
    /// <summary>"IDENTITY=MATCH" as --grant takes it; the last '=' splits, as a subject holds '=' and a match never does.</summary>
    public static UsbIpGrant Parse(string text)
    {
        var split = text.LastIndexOf('=');
        if (split <= 0 || split == text.Length - 1)
            throw UsbIpErrors.GrantInvalid(text, "is not IDENTITY=MATCH");
        return Checked(text[..split], new[] { text[(split + 1)..] });
    }

    /// <summary>A grant whose identity and matches can be used; otherwise UsbIpGrantInvalid.</summary>
    public static UsbIpGrant Checked(string client, IReadOnlyList<string> devices)
    {
        if (string.IsNullOrWhiteSpace(client)) throw UsbIpErrors.GrantInvalid(client, "names no client");
        if (client.StartsWith(CertificateFingerprint.Prefix, StringComparison.OrdinalIgnoreCase) && CertificateFingerprint.Parse(client, out var problem) is null)
            throw UsbIpErrors.GrantInvalid(client, $"names a fingerprint that {problem}");
        if (devices.Count == 0) throw UsbIpErrors.GrantInvalid(client, "gives no device");
        foreach (var device in devices)
            if (string.IsNullOrWhiteSpace(device) || device.Any(char.IsControl))
                throw UsbIpErrors.GrantInvalid(client, $"gives a device match {UsbIpPeerText.Quote(device)} that is empty or holds control characters");
        return new UsbIpGrant(client, devices);
    }

    /// <summary>Whether this grant is for <paramref name="identity"/>.</summary>
    public bool IsFor(UsbIpClientIdentity identity) =>
        Client.StartsWith(CertificateFingerprint.Prefix, StringComparison.OrdinalIgnoreCase)
            ? CertificateFingerprint.Parse(Client, out _) is { } pinned && identity.Fingerprint.AsSpan().SequenceEqual(pinned)
            : Client == identity.Subject || identity.Names.Contains(Client, StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether one of the grant's matches is the device (its serial read through <paramref name="serialOf"/> only if a match needs it).</summary>
    public bool Gives(UsbIpDeviceRecord device, Func<string, string?> serialOf) => Devices.Any(match => Matches(match, device, serialOf));

    private static bool Matches(string match, UsbIpDeviceRecord device, Func<string, string?> serialOf)
    {
        if (match == "*") return true;
        if (match.Length == 9 && match[4] == ':'
            && ushort.TryParse(match.AsSpan(0, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var vendor)
            && ushort.TryParse(match.AsSpan(5, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var product))
            return device.VendorId == vendor && device.ProductId == product;
        if (UsbIpBusIdText.FindProblem(match) is null && match.Contains('-', StringComparison.Ordinal)) return device.BusId == match;
        return serialOf(device.BusId) == match;
    }

    public override string ToString() => $"{Client}={string.Join(",", Devices)}";
}

/// <summary>A TLS client as its verified certificate names it: fingerprint, subject, and its CN and DNS names.</summary>
public sealed record UsbIpClientIdentity(byte[] Fingerprint, string Subject, IReadOnlyList<string> Names);
