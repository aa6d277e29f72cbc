using System.Management.Automation;
using VirtTools.UsbIp.Protocol;

namespace VirtTools.Commands.UsbIp;

/// <summary>
/// What the cmdlets that talk to a USB/IP server share: the server's TCP port (alias RemoteTcpPort, so devices and
/// ports pipe in by property name) and how long to wait for it. Each declares its own -ComputerName, which only
/// Get-UsbIpDevice takes from the pipeline by value.
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

    protected TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSec);

    protected override void BeginProcessing() => RequireRoot();
}
