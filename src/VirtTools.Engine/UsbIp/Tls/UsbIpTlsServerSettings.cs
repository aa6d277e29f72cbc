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
}
