using System.Management.Automation;
using VirtTools.Commands.Completion;
using VirtTools.UsbIp.Host;
using VirtTools.UsbIp;

namespace VirtTools.Commands.Usb;

/// <summary>Lists the devices usbip-host exports (bound or in its match_busid table) with their usbip_status.</summary>
[Cmdlet(VerbsCommon.Get, "UsbIpExport")]
[OutputType(typeof(UsbIpExport))]
public sealed class GetUsbIpExportCommand : VirtToolsCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(UsbIpExportBusIdCompleter))]
    public string[]? BusId { get; set; }

    protected override void BeginProcessing() => RequireRoot();

    protected override void ProcessRecord()
    {
        var reader = new UsbIpHostReader(SystemRoot);
        if (!reader.IsDriverLoaded)
            WriteVerbose($"{UsbIpHostReader.DriverPath} does not exist under {SystemRoot}: usbip-host is not loaded, so nothing is exported.");
        var pattern = new Wildcards(BusId);
        var exports = reader.GetExports().Where(e => pattern.Matches(e.BusId.ToString())).ToList();
        WriteObject(exports, enumerateCollection: true);
        foreach (var missing in Wildcards.Literals(BusId).Where(id => !exports.Any(e => string.Equals(e.BusId.ToString(), id, StringComparison.OrdinalIgnoreCase))))
            WriteFailure(UsbIpErrors.NoExport(missing, reader.IsDriverLoaded), missing);
    }
}
