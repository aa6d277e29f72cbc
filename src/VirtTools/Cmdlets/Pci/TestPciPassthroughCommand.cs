using System.Management.Automation;
using VirtTools.Commands.Completion;
using VirtTools.Pci;

namespace VirtTools.Commands;

/// <summary>Whether each function can be passed through with vfio: a verdict and the evidence of every check.</summary>
[Cmdlet(VerbsDiagnostic.Test, "PciPassthrough")]
[OutputType(typeof(PciPassthroughReadiness))]
public sealed class TestPciPassthroughCommand : VirtToolsCmdlet
{
    /// <summary>The functions to test ("05:06.0", or any object with an Address); every function when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    public PciAddress[]? Address { get; set; }

    protected override void BeginProcessing() => RequireRoot();

    protected override void ProcessRecord()
    {
        var devices = new PciDeviceReader(SystemRoot);
        var readiness = new PciReadinessReader(devices);
        if (Address is null)
        {
            foreach (var device in devices.GetDevices()) WriteObject(readiness.Test(device));
            return;
        }
        foreach (var address in Address)
        {
            if (devices.Find(address) is { } device) WriteObject(readiness.Test(device));
            else WriteFailure(PciErrors.DeviceNotFound(address.ToString()), address);
        }
    }
}
