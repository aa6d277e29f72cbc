using System.Management.Automation;
using VirtTools.Usb;
using VirtTools.Commands.Completion;
using VirtTools.Diagnostics;
using VirtTools.UsbIp.Host;
using VirtTools.UsbIp;

namespace VirtTools.Commands.UsbIp;

/// <summary>
/// Export-UsbIpDevice: shares local USB devices over USB/IP by binding them to usbip-host, as `usbip bind` does.
/// A device already exported is output as it is.
/// </summary>
[Cmdlet(VerbsData.Export, "UsbIpDevice", SupportsShouldProcess = true)]
[OutputType(typeof(UsbIpExport))]
public sealed class ExportUsbIpDeviceCommand : VirtToolsCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ExportableUsbBusIdCompleter))]
    public UsbBusId[] BusId { get; set; } = Array.Empty<UsbBusId>();

    protected override void BeginProcessing() => RequireRoot();

    protected override void ProcessRecord()
    {
        var exporter = new UsbIpExporter(SystemRoot);
        foreach (var busId in BusId)
        {
            try
            {
                var plan = exporter.PlanExport(busId);
                if (plan.ChangesNothing) WriteVerbose($"{busId} is already bound to usbip-host; nothing to change.");
                else if (!ShouldProcess(string.Join("\n", plan.Describe().Prepend($"Export {busId} over USB/IP:")),
                             $"Export {busId} over USB/IP?\n{string.Join("\n", plan.Describe())}", MyInvocation.MyCommand.Name)) continue;
                WriteObject(exporter.Export(plan));
            }
            catch (VirtToolsException failure)
            {
                WriteFailure(failure, busId);
            }
        }
    }
}
