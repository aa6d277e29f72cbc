using System.Management.Automation;
using VirtTools.Diagnostics;
using VirtTools.UsbIp.Vhci;

namespace VirtTools.Commands.Usb;

/// <summary>Per speed, the vhci_hcd ports in use and free, the build limits and, given a target, whether it fits and what it would take.</summary>
[Cmdlet(VerbsCommon.Get, "UsbIpCapacity", DefaultParameterSetName = NowSet)]
[OutputType(typeof(UsbIpCapacity))]
public sealed class GetUsbIpCapacityCommand : VirtToolsCmdlet
{
    private const string NowSet = "Now";
    private const string PlanSet = "Plan";

    /// <summary>The desktops the host should carry.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PlanSet)]
    [ValidateRange(1, VhciCapacityTarget.MaxDesktops)]
    public int Desktops { get; set; }

    [Parameter(ParameterSetName = PlanSet)]
    [ValidateRange(1, VhciCapacityTarget.MaxDevicesPerDesktop)]
    public int DevicesPerDesktop { get; set; } = 1;

    protected override void BeginProcessing() => RequireRoot();

    protected override void ProcessRecord()
    {
        var target = ParameterSetName == PlanSet ? new VhciCapacityTarget(Desktops, DevicesPerDesktop) : null;
        try
        {
            WriteObject(VhciCapacityPlanner.Plan(SystemRoot, target), enumerateCollection: true);
        }
        catch (VirtToolsException e)
        {
            WriteFailure(e);
        }
    }
}
