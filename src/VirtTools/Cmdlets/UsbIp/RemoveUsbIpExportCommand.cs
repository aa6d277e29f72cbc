using System.Management.Automation;
using VirtTools.Commands.Completion;
using VirtTools.Diagnostics;
using VirtTools.Usb;
using VirtTools.UsbIp.Host;

namespace VirtTools.Commands.UsbIp;

/// <summary>
/// Remove-UsbIpExport: stops sharing devices, as `usbip unbind` does, and gives them back to their host drivers.
/// A device a client imported is only taken away after a confirmation, or with -Force. A device on a port that a
/// server claims (Start-UsbIpServer -ClaimPort in this or another session, `virttools usbipd --claim-port`, the agent)
/// is removed by that server's process, which holds the claim: it stays on that port, unconfigured.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "UsbIpExport", SupportsShouldProcess = true)]
[OutputType(typeof(UsbDevice))]
public sealed class RemoveUsbIpExportCommand : VirtToolsCmdlet
{
    private bool _yesToAll, _noToAll;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(UsbIpExportBusIdCompleter))]
    public UsbBusId[] BusId { get; set; } = Array.Empty<UsbBusId>();

    /// <summary>Take devices in use from their clients without asking.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Output the device as it is afterwards.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void BeginProcessing() => RequireRoot();

    protected override void ProcessRecord()
    {
        var exporter = new UsbIpExporter(SystemRoot);
        foreach (var busId in BusId)
        {
            try
            {
                var plan = exporter.PlanRemove(busId);
                if (!ShouldProcess(string.Join("\n", plan.Describe().Prepend($"Stop exporting {busId}:")),
                        $"Stop exporting {busId}?\n{string.Join("\n", plan.Describe())}", MyInvocation.MyCommand.Name)) continue;
                if (plan.IsInUse && !Force && !ShouldContinue(
                        $"{busId} is in use: a USB/IP client imported it. Removing the export cuts that client off. Remove it anyway?",
                        "USB/IP device in use", ref _yesToAll, ref _noToAll)) continue;
                var device = UsbIpServerRegistry.KeeperReserving(busId) is { } keeper ? keeper.Unexport(plan, force: true, WriteWarning)
                    : ClaimedPortControl.TryUnexport(SystemRoot, busId, WriteWarning) is not null ? new UsbDeviceReader(SystemRoot).Find(busId)
                    : exporter.Remove(plan, force: true, WriteWarning);
                if (PassThru && device is not null) WriteObject(device);
            }
            catch (VirtToolsException failure)
            {
                WriteFailure(failure, busId);
            }
        }
    }
}
