using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace VirtTools.UsbIp.Tls;

/// <summary>
/// The server's side of TLS, loaded once at start (a bad file fails the start, not the first client): its certificate
/// and chain, and the client CA that every client certificate must chain to when one is given.
/// </summary>
internal sealed class UsbIpTlsServerCredentials
{
    private readonly SslStreamCertificateContext _certificate;
    private readonly X509Certificate2Collection? _clientCa;

    private UsbIpTlsServerCredentials(SslStreamCertificateContext certificate, X509Certificate2Collection? clientCa)
    {
        _certificate = certificate;
        _clientCa = clientCa;
    }

    public static UsbIpTlsServerCredentials Load(UsbIpTlsServerSettings settings)
    {
        var certificate = PemFiles.CertificateContext(settings.CertificatePath, settings.KeyPath);
        var clientCa = settings.ClientCaPath is null ? null : PemFiles.Certificates(settings.ClientCaPath, "client CA");
        return new UsbIpTlsServerCredentials(certificate, clientCa);
    }

    public bool RequiresClientCertificate => _clientCa is not null;

    /// <summary>
    /// Options for one connection; <paramref name="refusal"/> receives why a client certificate was refused, for the log
    /// (SslStream itself only says that the callback said no).
    /// </summary>
    public SslServerAuthenticationOptions OptionsFor(Action<string> refusal) => new()
    {
        ServerCertificateContext = _certificate,
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        CipherSuitesPolicy = UsbIpTlsCipherSuites.Policy,
        ClientCertificateRequired = _clientCa is not null,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = _clientCa is null ? null : (_, certificate, chain, _) =>
        {
            var problem = certificate is null
                ? "it sent no client certificate, and this server requires one (--client-ca)"
                : CertificateChecks.ChainProblem(certificate, chain, _clientCa, client: true);
            if (problem is not null) refusal(problem);
            return problem is null;
        },
    };
}
