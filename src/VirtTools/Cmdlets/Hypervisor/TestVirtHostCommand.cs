using System.Management.Automation;
using VirtTools.Hypervisor;

namespace VirtTools.Commands.Hypervisor;

/// <summary>Test-VirtHost: virt-host-validate style checks, written as objects (a failed check is data, not an error).</summary>
[Cmdlet(VerbsDiagnostic.Test, "VirtHost")]
[OutputType(typeof(VirtHostCheck))]
public sealed class TestVirtHostCommand : VirtToolsCmdlet
{
    /// <summary>Only these areas: KVM, IOMMU, USBIP, KSM.</summary>
    [Parameter(Position = 0)]
    [ValidateSet("KVM", "IOMMU", "USBIP", "KSM")]
    public string[] Area { get; set; } = Array.Empty<string>();

    /// <summary>USBIP: warn when fewer vhci_hcd ports of a speed are free.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int MinimumFreePorts { get; set; } = VirtHostValidator.DefaultMinimumFreePorts;

    protected override void BeginProcessing() => RequireRoot();

    protected override void ProcessRecord() => WriteObject(VirtHostValidator.Run(SystemRoot, Area, MinimumFreePorts), enumerateCollection: true);
}
