using System.Security.Cryptography.X509Certificates;

namespace VirtTools.UsbIp.Tls;

/// <summary>Whether a peer's certificate chains to one of our own CAs (not the system's), for its purpose.</summary>
internal static class CertificateChecks
{
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2", ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    /// <summary>Null when the certificate chains to <paramref name="authorities"/>; otherwise why not, in words.</summary>
    public static string? ChainProblem(X509Certificate certificate, X509Chain? presented, X509Certificate2Collection authorities, bool client)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        // Our CAs are private: no revocation lists to fetch, and a host offline must still work.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid(client ? ClientAuthentication : ServerAuthentication));
        if (presented is not null)
            foreach (var element in presented.ChainElements) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        using var leaf = new X509Certificate2(certificate);
        if (chain.Build(leaf)) return null;
        var statuses = chain.ChainStatus.Select(s => s.StatusInformation.Trim().TrimEnd('.')).Where(s => s.Length > 0).Distinct();
        return $"its certificate ({Identity(leaf)}) does not chain to the given CA: {string.Join("; ", statuses)}";
    }

    /// <summary>The identity grants are matched against: fingerprint, subject, and the CN and DNS names it carries.</summary>
    public static UsbIpClientIdentity IdentityOf(X509Certificate certificate)
    {
        using var full = new X509Certificate2(certificate);
        var names = full.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateDnsNames())
            .Prepend(full.GetNameInfo(X509NameType.SimpleName, forIssuer: false)).Where(n => n.Length > 0).Distinct().ToArray();
        return new UsbIpClientIdentity(System.Security.Cryptography.SHA256.HashData(full.RawData), full.Subject, names);
    }

    /// <summary>How a certificate is named in logs and messages: its subject and its fingerprint.</summary>
    public static string Identity(X509Certificate certificate) => $"{certificate.Subject}, {CertificateFingerprint.Of(certificate)}";
}
