using System.Management.Automation;
using VirtTools.UsbIp.Server;

namespace VirtTools.Commands.UsbIp;

/// <summary>Stop-UsbIpServer: stop servers Start-UsbIpServer started in this session (all of them without input).</summary>
[Cmdlet(VerbsLifecycle.Stop, "UsbIpServer", SupportsShouldProcess = true)]
[OutputType(typeof(void))]
public sealed class StopUsbIpServerCommand : VirtToolsCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true)]
    public UsbIpServer[]? InputObject { get; set; }

    private bool _sawInput;

    protected override void ProcessRecord()
    {
        if (InputObject is null) return;
        _sawInput = true;
        foreach (var server in InputObject) Stop(server);
    }

    protected override void EndProcessing()
    {
        if (!_sawInput)
            foreach (var server in UsbIpServerRegistry.All) Stop(server);
        base.EndProcessing();
    }

    private void Stop(UsbIpServer server)
    {
        if (!ShouldProcess(server.ToString(), "Stop USB/IP server")) return;
        // Ports first: a device left unconfigured by a claim is handed back to the host's drivers.
        if (UsbIpServerRegistry.Remove(server, out var keeper)) keeper?.Dispose();
        server.StopAsync().GetAwaiter().GetResult();
    }
}
