using System.Management.Automation;
using VirtTools.Commands.Completion;
using VirtTools.UsbIp.Vhci;
using VirtTools.UsbIp;

namespace VirtTools.Commands.Usb;

/// <summary>
/// Counts the vhci_hcd ports of every controller and hub, free and in use; with -All, -InUse, -Free, -Port or
/// -Container it lists the ports themselves, each with its hub and the remote end of an attachment.
/// </summary>
[Cmdlet(VerbsCommon.Get, "UsbIpPort", DefaultParameterSetName = SummarySet)]
[OutputType(typeof(UsbIpPortSummary), ParameterSetName = new[] { SummarySet })]
[OutputType(typeof(UsbIpPort), ParameterSetName = new[] { AllSet, InUseSet, FreeSet })]
public sealed class GetUsbIpPortCommand : VirtToolsCmdlet
{
    private const string SummarySet = "Summary";
    private const string AllSet = "All";
    private const string InUseSet = "InUse";
    private const string FreeSet = "Free";

    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, int.MaxValue)]
    [ArgumentCompleter(typeof(VhciPortCompleter))]
    public int[]? Port { get; set; }

    /// <summary>Only the ports given to these containers (wildcards allowed): a container's devices.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Container { get; set; }

    /// <summary>Every port, one object each, rather than the counts.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AllSet)]
    public SwitchParameter All { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = InUseSet)]
    public SwitchParameter InUse { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = FreeSet)]
    public SwitchParameter Free { get; set; }

    protected override void BeginProcessing() => RequireRoot();

    protected override void ProcessRecord()
    {
        var reader = new VhciReader(SystemRoot);
        var containers = new Wildcards(Container);
        var ports = reader.GetPorts();
        if (ports.Count == 0)
            WriteVerbose($"No vhci_hcd controller under {SystemRoot}{VhciReader.PlatformPath}: vhci-hcd is not loaded.");
        // Naming ports or containers asks for ports, whatever the set.
        if (ParameterSetName == SummarySet && Port is null && Container is null)
        {
            WriteObject(UsbIpPortSummary.Of(ports), enumerateCollection: true);
            return;
        }
        foreach (var port in ports)
        {
            if (Port is { Length: > 0 } && !Port.Contains(port.Port)) continue;
            if ((InUse && !port.IsInUse) || (Free && !port.IsFree)) continue;
            if (Container is not null && !containers.Matches(port.Container)) continue;
            WriteObject(port);
        }
        foreach (var missing in (Port ?? Array.Empty<int>()).Where(n => !ports.Any(p => p.Port == n)))
            WriteFailure(UsbIpErrors.NoPort(missing, ports.Count > 0), missing);
    }
}
