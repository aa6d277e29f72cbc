using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace VirtTools.UsbIp.Tls;

/// <summary>
/// "sha256:" and the lowercase hex SHA-256 of a certificate's DER: how a pinned server and a client identity are
/// written. <see cref="Parse"/> is plain text work; only <see cref="Of"/> hashes (and so loads OpenSSL).
/// </summary>
public static class CertificateFingerprint
{
    public const string Prefix = "sha256:";

    private const int HashSize = 32;

    /// <summary>The 32 bytes of "sha256:HEX" (case-insensitive, colons between bytes allowed, as openssl prints it); null and what is wrong otherwise.</summary>
    public static byte[]? Parse(string text, out string problem)
    {
        problem = "";
        if (!text.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            problem = "does not start with \"sha256:\"";
            return null;
        }
        var hex = text[Prefix.Length..].Replace(":", "", StringComparison.Ordinal);
        if (hex.Length != HashSize * 2 || !hex.All(Uri.IsHexDigit))
        {
            problem = $"is not {HashSize * 2} hex digits after \"sha256:\"";
            return null;
        }
        return Convert.FromHexString(hex);
    }

    public static string Of(X509Certificate certificate) => Prefix + Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData())).ToLowerInvariant();

    /// <summary>Whether the certificate is the one pinned (already checked by <see cref="Parse"/>).</summary>
    public static bool Matches(X509Certificate certificate, byte[] pinned) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(certificate.GetRawCertData()), pinned);
}
