using System.Management.Automation;
using VirtTools.UsbIp.Protocol;
using VirtTools.UsbIp.Tls;

namespace VirtTools.Commands.UsbIp;

/// <summary>
/// What the cmdlets that talk to a USB/IP server share: the server's TCP port (alias RemoteTcpPort, so devices and
/// ports pipe in by property name), how long to wait for it, and TLS (-UseTls, with a client certificate and how the
/// server is trusted). Each declares its own -ComputerName, which only Get-UsbIpDevice takes from the pipeline by value.
/// </summary>
public abstract class UsbIpClientCmdlet : VirtToolsCmdlet
{
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("RemoteTcpPort")]
    [ValidateRange(1, 65535)]
    public int TcpPort { get; set; } = UsbIpProtocol.DefaultTcpPort;

    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = 10;

    /// <summary>Speak TLS to the server (virttools usbipd with --tls-certificate); the other TLS parameters imply it.</summary>
    [Parameter]
    public SwitchParameter UseTls { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CertificatePath { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KeyPath { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ServerCaPath { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ServerFingerprint { get; set; }

    protected TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSec);

    /// <summary>The TLS settings, paths resolved against the current location; null for plain USB/IP.</summary>
    protected UsbIpTlsClientSettings? Tls =>
        !UseTls && CertificatePath is null && KeyPath is null && ServerCaPath is null && ServerFingerprint is null ? null
        : new UsbIpTlsClientSettings
        {
            CertificatePath = FilePath(CertificatePath),
            KeyPath = FilePath(KeyPath),
            ServerCaPath = FilePath(ServerCaPath),
            ServerFingerprint = ServerFingerprint,
        }.Validated();

    protected override void BeginProcessing() => RequireRoot();

    private string? FilePath(string? path) => path is null ? null : GetUnresolvedProviderPathFromPSPath(path);
}
