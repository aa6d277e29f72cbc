namespace VirtTools.UsbIp.Tls;

/// <summary>
/// TLS on a USB/IP server's port, as given (file paths, no crypto): the files are read, and OpenSSL loaded, only when
/// the server starts with these settings, so a server without them runs on a host with no libssl.
/// </summary>
public sealed record UsbIpTlsServerSettings
{
    /// <summary>The server's certificate in PEM; certificates after the first are sent as its chain.</summary>
    public required string CertificatePath { get; init; }

    /// <summary>The certificate's private key in PEM.</summary>
    public required string KeyPath { get; init; }

    /// <summary>When set, every TLS client must present a certificate that chains to one of these CAs (PEM).</summary>
    public string? ClientCaPath { get; init; }

    /// <summary>Plain USB/IP connections are refused: only TLS clients are served.</summary>
    public bool Require { get; init; }

    /// <summary>Who may list and import which devices; empty: every client the CA (if any) admits sees every device.</summary>
    public IReadOnlyList<UsbIpGrant> Grants { get; init; } = Array.Empty<UsbIpGrant>();

    /// <summary>
    /// The settings for what an administrator gave (options, parameters, profile keys, named in <paramref name="names"/>
    /// as certificate, key, client CA, require); null when none was given. A client CA or "require" without a
    /// certificate and key is refused: it would promise a protection that is not there; so are grants without a
    /// client CA, as only a verified certificate makes an identity.
    /// </summary>
    public static UsbIpTlsServerSettings? From(string? certificate, string? key, string? clientCa, bool require,
        (string Certificate, string Key, string ClientCa, string Require) names, IReadOnlyList<UsbIpGrant>? grants = null)
    {
        grants ??= Array.Empty<UsbIpGrant>();
        if (certificate is null && key is null && clientCa is null && !require && grants.Count == 0) return null;
        if (grants.Count > 0 && clientCa is null)
            throw UsbIpErrors.GrantInvalid(grants[0].ToString(), $"needs {names.ClientCa}: without a client CA no client certificate is asked for, so no client has an identity");
        if (certificate is null || key is null)
        {
            var given = new[] { (certificate, names.Certificate), (key, names.Key), (clientCa, names.ClientCa) }
                .Where(g => g.Item1 is not null).Select(g => g.Item2).Append(require ? names.Require : null).OfType<string>();
            throw UsbIpErrors.TlsRequired(string.Join(" and ", given));
        }
        return new UsbIpTlsServerSettings { CertificatePath = certificate, KeyPath = key, ClientCaPath = clientCa, Require = require, Grants = grants };
    }
}
