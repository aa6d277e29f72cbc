using System.Management.Automation;
using VirtTools.Commands.Completion;
using VirtTools.Pci;

namespace VirtTools.Commands;

/// <summary>Whether each function can be passed through with vfio: a verdict and the evidence of every check.</summary>
[Cmdlet(VerbsDiagnostic.Test, "PciPassthrough")]
[OutputType(typeof(PciPassthroughReadiness))]
public sealed class TestPciPassthroughCommand : VirtToolsCmdlet
{
    /// <summary>The functions to test; every function when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    public string[]? Address { get; set; }

    protected override void BeginProcessing() => RequireRoot();

    protected override void ProcessRecord()
    {
        var devices = new PciDeviceReader(SystemRoot);
        var readiness = new PciReadinessReader(devices);
        foreach (var device in new PciAddressSelection(Address).Select(devices.GetDevices(), (failure, input) => WriteFailure(failure, input)))
            WriteObject(readiness.Test(device));
    }
}
