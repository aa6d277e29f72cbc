using System.Management.Automation;
using VirtTools.Commands.Completion;
using VirtTools.Pci;

namespace VirtTools.Commands;

/// <summary>Legacy INTx lines, who shares them, and whether sharing blocks passing a sharer through.</summary>
[Cmdlet(VerbsCommon.Get, "PciIrqShare")]
[OutputType(typeof(PciIrqShare))]
public sealed class GetPciIrqShareCommand : VirtToolsCmdlet
{
    // A line is written once even when several piped functions sit on it.
    private readonly HashSet<(string Root, int Irq)> _written = new();

    /// <summary>Report only the lines these functions use; all lines when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    public string[]? Address { get; set; }

    [Parameter]
    public SwitchParameter SharedOnly { get; set; }

    protected override void BeginProcessing() => RequireRoot();

    protected override void ProcessRecord()
    {
        var devices = new PciDeviceReader(SystemRoot).GetDevices().ToList();
        var selection = new PciAddressSelection(Address);
        var wanted = selection.Select(devices, (failure, input) => WriteFailure(failure, input)).Select(d => d.Address).ToHashSet();
        foreach (var line in PciIrqShareReader.Group(devices, SystemRoot))
        {
            if (SharedOnly && !line.Shared) continue;
            if (!selection.IsEmpty && !line.Address.Any(wanted.Contains)) continue;
            if (_written.Add((line.Root, line.Irq))) WriteObject(line);
        }
    }
}
