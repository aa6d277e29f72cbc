using System.Management.Automation;
using VirtTools.Diagnostics;
using VirtTools.Ids;
using VirtTools.UsbIp.Client;

namespace VirtTools.Commands.UsbIp;

/// <summary>
/// Get-UsbIpDevice: the devices a USB/IP server exports (OP_REQ_DEVLIST), names from usb.ids under -Root; a record
/// the client left out (UsbIpInvalidDeviceRecord) is a warning, the other devices are still listed.
/// </summary>
[Cmdlet(VerbsCommon.Get, "UsbIpDevice")]
[OutputType(typeof(UsbIpRemoteDevice))]
public sealed class GetUsbIpDeviceCommand : UsbIpClientCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("RemoteHost")]
    [ValidateNotNullOrEmpty]
    public string ComputerName { get; set; } = "";

    protected override void ProcessRecord()
    {
        try
        {
            var devices = UsbIpClient.GetDevicesAsync(ComputerName, TcpPort, Timeout, IdsDatabase.ForUsb(SystemRoot), Cancellation, Tls)
                .GetAwaiter().GetResult();
            foreach (var device in devices) WriteObject(device);
            foreach (var warning in devices.Warnings) WriteWarning(warning);
        }
        catch (VirtToolsException failure)
        {
            WriteFailure(failure, ComputerName);
        }
    }
}
