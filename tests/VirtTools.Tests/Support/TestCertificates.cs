using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace VirtTools.Tests.Support;

/// <summary>
/// Throwaway PEM files made in the test, valid for a day: a CA, a server certificate it signed (for localhost,
/// 127.0.0.1 and ::1), two client certificates it signed, a client certificate signed by an intermediate CA it signed,
/// and a second, unrelated CA with a client certificate of its own.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1", ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    public TestCertificates()
    {
        Folder = CapturedFixture.NewTemporaryFolder("tls");
        using var ca = Authority("VirtTools test CA");
        using var otherCa = Authority("Unrelated test CA");
        CaPath = Save("ca.pem", ca, key: false).Certificate;
        OtherCaPath = Save("other-ca.pem", otherCa, key: false).Certificate;
        using var server = Issue(ca, "usbip-server.test", ServerAuthentication);
        (ServerCertificatePath, ServerKeyPath) = Save("server", server, key: true);
        ServerFingerprint = "sha256:" + Convert.ToHexString(SHA256.HashData(server.RawData)).ToLowerInvariant();
        using var client = Issue(ca, "desk-17.test", ClientAuthentication);
        (ClientCertificatePath, ClientKeyPath) = Save("client", client, key: true);
        ClientFingerprint = "sha256:" + Convert.ToHexString(SHA256.HashData(client.RawData)).ToLowerInvariant();
        using var neighbour = Issue(ca, "desk-18.test", ClientAuthentication);
        (NeighbourCertificatePath, NeighbourKeyPath) = Save("neighbour", neighbour, key: true);
        using var stranger = Issue(otherCa, "stranger.test", ClientAuthentication);
        (StrangerCertificatePath, StrangerKeyPath) = Save("stranger", stranger, key: true);
        using var intermediate = Intermediate(ca, "VirtTools test intermediate CA");
        using var branch = Issue(intermediate, "desk-19.test", ClientAuthentication);
        (BranchLeafPath, BranchKeyPath) = Save("branch", branch, key: true);
        BranchChainPath = Path.Combine(Folder, "branch-chain.crt");
        File.WriteAllText(BranchChainPath, branch.ExportCertificatePem() + "\n" + intermediate.ExportCertificatePem());
        CaWithIntermediatePath = Path.Combine(Folder, "ca-and-intermediate.pem");
        File.WriteAllText(CaWithIntermediatePath, ca.ExportCertificatePem() + "\n" + intermediate.ExportCertificatePem());
    }

    public string Folder { get; }

    public string CaPath { get; }

    public string OtherCaPath { get; }

    public string ServerCertificatePath { get; }

    public string ServerKeyPath { get; }

    public string ServerFingerprint { get; }

    /// <summary>Signed by <see cref="CaPath"/>, CN=desk-17.test.</summary>
    public string ClientCertificatePath { get; }

    public string ClientKeyPath { get; }

    public string ClientFingerprint { get; }

    /// <summary>Also signed by <see cref="CaPath"/>: a second trusted client, CN=desk-18.test.</summary>
    public string NeighbourCertificatePath { get; }

    public string NeighbourKeyPath { get; }

    /// <summary>Signed by <see cref="OtherCaPath"/>, CN=stranger.test.</summary>
    public string StrangerCertificatePath { get; }

    public string StrangerKeyPath { get; }

    /// <summary>CN=desk-19.test, signed by an intermediate CA that <see cref="CaPath"/> signed: the certificate alone.</summary>
    public string BranchLeafPath { get; }

    /// <summary>The same certificate followed by the intermediate CA's, as a client sends its chain.</summary>
    public string BranchChainPath { get; }

    public string BranchKeyPath { get; }

    /// <summary><see cref="CaPath"/>'s certificate and the intermediate's in one bundle.</summary>
    public string CaWithIntermediatePath { get; }

    public void Dispose() => Directory.Delete(Folder, recursive: true);

    private static X509Certificate2 Intermediate(X509Certificate2 root, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var issued = request.Create(root, DateTimeOffset.UtcNow.AddMinutes(-30), DateTimeOffset.UtcNow.AddHours(22), RandomNumberGenerator.GetBytes(8));
        return issued.CopyWithPrivateKey(key);
    }

    private static X509Certificate2 Authority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static X509Certificate2 Issue(X509Certificate2 authority, string name, string purpose)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid(purpose) }, false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        if (purpose == ServerAuthentication)
        {
            names.AddDnsName("localhost");
            names.AddIpAddress(IPAddress.Loopback);
            names.AddIpAddress(IPAddress.IPv6Loopback);
        }
        request.CertificateExtensions.Add(names.Build());
        using var issued = request.Create(authority, DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow.AddHours(20), RandomNumberGenerator.GetBytes(8));
        return issued.CopyWithPrivateKey(key);
    }

    private (string Certificate, string Key) Save(string name, X509Certificate2 certificate, bool key)
    {
        var certificatePath = Path.Combine(Folder, name.EndsWith(".pem", StringComparison.Ordinal) ? name : name + ".crt");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        if (!key) return (certificatePath, "");
        var keyPath = Path.Combine(Folder, name + ".key");
        using var privateKey = certificate.GetECDsaPrivateKey()!;
        File.WriteAllText(keyPath, privateKey.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }
}
