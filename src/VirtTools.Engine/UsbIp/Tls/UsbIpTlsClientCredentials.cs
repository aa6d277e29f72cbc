using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace VirtTools.UsbIp.Tls;

/// <summary>The client's side of TLS for one server: its own certificate if any, and how the server's is judged.</summary>
internal sealed class UsbIpTlsClientCredentials
{
    private readonly SslStreamCertificateContext? _certificate;
    private readonly X509Certificate2Collection? _serverCa;
    private readonly byte[]? _pinned;

    private UsbIpTlsClientCredentials(SslStreamCertificateContext? certificate, X509Certificate2Collection? serverCa, byte[]? pinned, UsbIpTlsClientNames names)
    {
        _certificate = certificate;
        _serverCa = serverCa;
        _pinned = pinned;
        Names = names;
    }

    /// <summary>What the settings are called where they were given, for the errors of the handshake.</summary>
    public UsbIpTlsClientNames Names { get; }

    public static UsbIpTlsClientCredentials Load(UsbIpTlsClientSettings settings)
    {
        settings = settings.Validated();
        return new UsbIpTlsClientCredentials(
            settings.CertificatePath is null ? null : PemFiles.CertificateContext(settings.CertificatePath, settings.KeyPath!),
            settings.ServerCaPath is null ? null : PemFiles.Certificates(settings.ServerCaPath, "server CA"),
            settings.ServerFingerprint is null ? null : CertificateFingerprint.Parse(settings.ServerFingerprint, out _),
            settings.Names);
    }

    /// <summary>Options to reach <paramref name="computerName"/>; <paramref name="distrust"/> receives why its certificate was refused.</summary>
    public SslClientAuthenticationOptions OptionsFor(string computerName, Action<string> distrust) => new()
    {
        TargetHost = computerName,
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        CipherSuitesPolicy = UsbIpTlsCipherSuites.Policy,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        // With its chain (the certificates after it in its file), for a server that trusts only the root CA.
        ClientCertificateContext = _certificate,
        RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
        {
            var problem = ServerProblem(computerName, certificate, chain, errors);
            if (problem is not null) distrust(problem);
            return problem is null;
        },
    };

    private string? ServerProblem(string computerName, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null) return "it sent no certificate";
        // A pin names the one certificate trusted, whatever its issuer, names or dates: that is its point for small setups.
        if (_pinned is not null)
            return CertificateFingerprint.Matches(certificate, _pinned) ? null
                : $"its certificate ({CertificateChecks.Identity(certificate)}) is not the pinned one";
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
            return $"its certificate ({CertificateChecks.Identity(certificate)}) is not issued to '{computerName}'";
        if (_serverCa is not null) return CertificateChecks.ChainProblem(certificate, chain, _serverCa, client: false);
        return errors == SslPolicyErrors.None ? null
            : $"its certificate ({CertificateChecks.Identity(certificate)}) is not trusted by this system's CAs ({errors})";
    }
}
