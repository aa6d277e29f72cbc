using System.Management.Automation;
using VirtTools.Diagnostics;
using VirtTools.Ids;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Protocol;

namespace VirtTools.Commands.UsbIp;

/// <summary>Get-UsbIpDevice: the devices a USB/IP server exports (OP_REQ_DEVLIST), names from usb.ids under -Root.</summary>
[Cmdlet(VerbsCommon.Get, "UsbIpDevice")]
[OutputType(typeof(UsbIpRemoteDevice))]
public sealed class GetUsbIpDeviceCommand : VirtToolsCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("RemoteHost")]
    [ValidateNotNullOrEmpty]
    public string ComputerName { get; set; } = "";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("RemoteTcpPort")]
    [ValidateRange(1, 65535)]
    public int TcpPort { get; set; } = UsbIpProtocol.DefaultTcpPort;

    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = 10;

    protected override void BeginProcessing() => RequireRoot();

    protected override void ProcessRecord()
    {
        try
        {
            var devices = UsbIpClient.GetDevicesAsync(ComputerName, TcpPort, TimeSpan.FromSeconds(TimeoutSec), IdsDatabase.ForUsb(SystemRoot), Cancellation)
                .GetAwaiter().GetResult();
            foreach (var device in devices) WriteObject(device);
        }
        catch (VirtToolsException failure)
        {
            WriteFailure(failure, ComputerName);
        }
    }
}
