using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace VirtTools.UsbIp.Tls;

/// <summary>Certificates and keys from PEM files, every failure one UsbIpTlsCertificateInvalid naming the file.</summary>
internal static class PemFiles
{
    /// <summary>The first certificate of <paramref name="certificatePath"/> with its private key from <paramref name="keyPath"/>.</summary>
    public static X509Certificate2 CertificateWithKey(string certificatePath, string keyPath)
    {
        RequireFile(certificatePath, "certificate");
        RequireFile(keyPath, "key");
        try
        {
            return X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            throw UsbIpErrors.TlsCertificateInvalid($"{certificatePath}' with key '{keyPath}", "certificate", e);
        }
    }

    /// <summary>
    /// The first certificate of <paramref name="certificatePath"/> with its key, and the certificates after it as the
    /// chain sent with it: a certificate signed by an intermediate CA reaches a peer that trusts only the root.
    /// </summary>
    public static SslStreamCertificateContext CertificateContext(string certificatePath, string keyPath)
    {
        var certificate = CertificateWithKey(certificatePath, keyPath);
        var chain = Certificates(certificatePath, "certificate");
        chain.RemoveAt(0); // the leaf itself
        return SslStreamCertificateContext.Create(certificate, chain, offline: true);
    }

    /// <summary>Every certificate in the file (a CA bundle, or a chain after the leaf); at least one.</summary>
    public static X509Certificate2Collection Certificates(string path, string what)
    {
        RequireFile(path, what);
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw UsbIpErrors.TlsCertificateInvalid(path, what, e);
        }
        return certificates.Count > 0 ? certificates : throw UsbIpErrors.TlsCertificateInvalid(path, what, new InvalidDataException("the file holds no PEM certificate."));
    }

    private static void RequireFile(string path, string what)
    {
        if (!File.Exists(path)) throw UsbIpErrors.TlsCertificateInvalid(path, what, new FileNotFoundException("there is no such file."));
    }
}
