using System.Management.Automation;
using VirtTools.Usb;
using VirtTools.Diagnostics;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Containers;
using VirtTools.UsbIp.Vhci;

namespace VirtTools.Commands.UsbIp;

/// <summary>
/// Connect-UsbIpDevice: import a device from a USB/IP server and attach it to a free vhci_hcd port of its speed,
/// as <c>usbip attach</c> does. Binds Get-UsbIpDevice's output, and Get-UsbIpPort's through the Remote* aliases.
/// Over TLS the kernel cannot read the connection, so this process relays it for as long as it runs: said in a warning.
/// With -Container, the device and its nodes are given to that running LXC container only.
/// </summary>
[Cmdlet(VerbsCommunications.Connect, "UsbIpDevice", SupportsShouldProcess = true, DefaultParameterSetName = HostSet)]
[OutputType(typeof(UsbIpPort))]
public sealed class ConnectUsbIpDeviceCommand : UsbIpClientCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("RemoteHost")]
    [ValidateNotNullOrEmpty]
    public string ComputerName { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("RemoteBusId")]
    public UsbBusId BusId { get; set; }

    /// <summary>
    /// The running LXC container that gets the device. Not taken from the pipeline: the ports of the host's own
    /// attachments have no container, and re-attaching them must not fail on it.
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = ContainerSet)]
    [ValidateNotNullOrEmpty]
    public string Container { get; set; } = "";

    [Parameter(ParameterSetName = ContainerSet)]
    public SwitchParameter DedicatedController { get; set; }

    /// <summary>
    /// Seconds after which a server that vanished without a word frees the vhci port (TCP keepalive and
    /// TCP_USER_TIMEOUT on the socket handed to vhci_hcd), as --dead-peer-timeout and usbip.deadPeerTimeout.
    /// </summary>
    [Parameter]
    [ValidateRange(UsbIpDeadPeerPolicy.MinimumSeconds, UsbIpDeadPeerPolicy.MaximumSeconds)]
    public int DeadPeerTimeout { get; set; } = UsbIpDeadPeerPolicy.DefaultSeconds;

    private const string HostSet = "Host";
    private const string ContainerSet = "Container";

    protected override void ProcessRecord()
    {
        var into = ParameterSetName == ContainerSet ? $" for container {Container}" : "";
        // Under -WhatIf nothing is sent: an import request alone makes the server hand its device over.
        if (!ShouldProcess($"{BusId} on {UsbIpClient.Describe(ComputerName, TcpPort)}{into}, the port freed {DeadPeerTimeout} s after the server vanishes",
                "Import and attach to a free vhci_hcd port")) return;
        try
        {
            var tls = Tls;
            var attacher = new VhciAttacher(SystemRoot, UsbIpClient.ImporterWith(tls), UsbIpDeadPeerPolicy.Within(TimeSpan.FromSeconds(DeadPeerTimeout)));
            var port = ParameterSetName == ContainerSet
                ? new ContainerUsbAttacher(attacher, ContainerManager.For(SystemRoot))
                    .ConnectAsync(ComputerName, TcpPort, BusId, Container, DedicatedController, Timeout, Cancellation).GetAwaiter().GetResult()
                : attacher.ConnectAsync(ComputerName, TcpPort, BusId, Timeout, Cancellation).GetAwaiter().GetResult();
            if (tls is not null)
                WriteWarning($"{BusId} from {UsbIpClient.Describe(ComputerName, TcpPort)} is attached over TLS through a relay in this process " +
                    $"(PID {Environment.ProcessId}): it stays attached while this PowerShell session runs and is detached when the session ends. " +
                    "For an attachment that outlives the session, let 'virttools agent' hold it.");
            WriteObject(port);
        }
        catch (VirtToolsException failure)
        {
            WriteFailure(failure, BusId);
        }
    }
}
