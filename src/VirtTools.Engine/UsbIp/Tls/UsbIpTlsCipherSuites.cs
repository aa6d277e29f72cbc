using System.Net.Security;

namespace VirtTools.UsbIp.Tls;

/// <summary>
/// The cipher suites both ends offer, ChaCha20-Poly1305 first. Both relays seal or open every byte of an import, and
/// where the CPU has no AES instructions (a Raspberry Pi 4, an emulated guest) ChaCha20 is several times faster than
/// AES-GCM; where it has them both are far faster than USB. AES-GCM stays offered for peers without ChaCha20.
/// Still TLS 1.3 (1.2 at the least): the TLS 1.2 suites are the ECDHE ones with the same AEADs.
/// </summary>
internal static class UsbIpTlsCipherSuites
{
    /// <summary>The policy for both ends; null where .NET has no cipher policy (Windows), which leaves the system's order.</summary>
    public static CipherSuitesPolicy? Policy { get; } = OperatingSystem.IsWindows() ? null : new CipherSuitesPolicy(
    [
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ]);
}
