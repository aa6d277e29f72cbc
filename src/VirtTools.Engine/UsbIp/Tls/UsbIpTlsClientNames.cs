namespace VirtTools.UsbIp.Tls;

/// <summary>
/// What a client's TLS settings are called where the administrator gave them, so that a message names what to
/// change there: the cmdlets' parameters, or the keys of a profile attachment's tls section.
/// </summary>
public sealed record UsbIpTlsClientNames(string Certificate, string Key, string ServerCa, string ServerFingerprint)
{
    public static UsbIpTlsClientNames Parameters { get; } = new("-CertificatePath", "-KeyPath", "-ServerCaPath", "-ServerFingerprint");

    public static UsbIpTlsClientNames ProfileKeys { get; } = new("tls.certificate", "tls.key", "tls.serverCa", "tls.serverFingerprint");
}
