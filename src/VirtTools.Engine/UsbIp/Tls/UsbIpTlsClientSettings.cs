namespace VirtTools.UsbIp.Tls;

/// <summary>
/// How a client speaks TLS to a USB/IP server, as given (file paths and text, no crypto). The server is trusted by
/// the CA in <see cref="ServerCaPath"/>, or by its pinned <see cref="ServerFingerprint"/>, or else by the system's CAs.
/// </summary>
public sealed record UsbIpTlsClientSettings
{
    /// <summary>The client's certificate in PEM, for servers that ask for one (--client-ca); null: none.</summary>
    public string? CertificatePath { get; init; }

    /// <summary>Its private key in PEM; required with <see cref="CertificatePath"/>.</summary>
    public string? KeyPath { get; init; }

    /// <summary>The CA (PEM) that must have signed the server's certificate, whose names must include the server name used.</summary>
    public string? ServerCaPath { get; init; }

    /// <summary>"sha256:" and the hex SHA-256 of the server certificate's DER: that certificate and no other is trusted.</summary>
    public string? ServerFingerprint { get; init; }

    /// <summary>What these settings are called where they were given (parameters by default), for messages.</summary>
    public UsbIpTlsClientNames Names { get; init; } = UsbIpTlsClientNames.Parameters;

    /// <summary>Refuses settings that cannot work, before anything is sent: a certificate without its key, a malformed pin, a CA and a pin at once.</summary>
    public UsbIpTlsClientSettings Validated()
    {
        if ((CertificatePath is null) != (KeyPath is null))
            throw UsbIpErrors.TlsRequired(CertificatePath is null ? Names.Key : Names.Certificate);
        if (ServerCaPath is not null && ServerFingerprint is not null)
            throw UsbIpErrors.TlsInvalidFingerprint(ServerFingerprint, $"comes with {Names.ServerCa}: trust the server by one or the other");
        if (ServerFingerprint is not null && CertificateFingerprint.Parse(ServerFingerprint, out var problem) is null)
            throw UsbIpErrors.TlsInvalidFingerprint(ServerFingerprint, problem);
        return this;
    }
}
