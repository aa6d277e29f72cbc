using System.Management.Automation;
using VirtTools.Usb;
using VirtTools.Commands.Completion;
using VirtTools.Diagnostics;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Containers;
using VirtTools.UsbIp.Vhci;
using VirtTools.UsbIp;

namespace VirtTools.Commands.UsbIp;

/// <summary>
/// Disconnect-UsbIpDevice: detach imported devices from their vhci_hcd ports and remove their records, as
/// <c>usbip detach</c> does; by port (binds Get-UsbIpPort's output) or by the server and busid the records name.
/// A device given to a container is taken back from it first (its nodes and cgroup rules).
/// ConfirmImpact High: the local side loses the device at once, as if unplugged, with whatever it had not written.
/// </summary>
[Cmdlet(VerbsCommunications.Disconnect, "UsbIpDevice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High,
    DefaultParameterSetName = PortSet)]
[OutputType(typeof(void))]
public sealed class DisconnectUsbIpDeviceCommand : VirtToolsCmdlet
{
    private const string PortSet = "Port";
    private const string RemoteSet = "Remote";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = PortSet)]
    [ValidateRange(0, int.MaxValue)]
    [ArgumentCompleter(typeof(ImportedVhciPortCompleter))]
    public int[] Port { get; set; } = Array.Empty<int>();

    // No Remote* aliases here: Get-UsbIpPort's output has those properties too and must bind by Port alone.
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = RemoteSet)]
    [ValidateNotNullOrEmpty]
    public string ComputerName { get; set; } = "";

    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = RemoteSet)]
    public UsbBusId BusId { get; set; }

    protected override void BeginProcessing() => RequireRoot();

    protected override void ProcessRecord()
    {
        var attacher = new VhciAttacher(SystemRoot, UsbIpClient.Importer);
        var containers = new ContainerUsbAttacher(attacher, ContainerManager.For(SystemRoot));
        if (ParameterSetName == RemoteSet)
        {
            try
            {
                foreach (var port in attacher.FindAttached(ComputerName, BusId)) Disconnect(containers, port, BusId);
            }
            catch (VirtToolsException failure)
            {
                WriteFailure(failure, BusId);
            }
            return;
        }
        foreach (var number in Port)
        {
            try
            {
                Disconnect(containers, attacher.GetAttachedPort(number), number);
            }
            catch (VirtToolsException failure)
            {
                WriteFailure(failure, number);
            }
        }
    }

    private void Disconnect(ContainerUsbAttacher containers, UsbIpPort port, object target)
    {
        var what = port.RemoteHost is null ? $"{port.Controller} port {port.Port}"
            : $"{port.Controller} port {port.Port} ({port.RemoteBusId} from {port.RemoteHost})";
        if (port.Container is not null) what += $" given to container {port.Container}";
        if (!ShouldProcess(what, "Detach the imported USB device")) return;
        try
        {
            containers.Disconnect(port, Cancellation);
        }
        catch (VirtToolsException failure)
        {
            WriteFailure(failure, target);
        }
    }
}
