using System.Management.Automation;
using VirtTools.Pci;

namespace VirtTools.Commands;

/// <summary>Hands PCI functions to vfio-pci (or pci-stub) via driver_override, after checking IOMMU, group and interlocks.</summary>
[Cmdlet(VerbsCommon.Set, "PciPassthrough", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(PciDevice))]
public sealed class SetPciPassthroughCommand : PciPassthroughCmdlet
{
    [Parameter]
    [ValidateSet(PciPassthrough.VfioPci, PciPassthrough.PciStub)]
    public string Driver { get; set; } = PciPassthrough.VfioPci;

    [Parameter]
    public SwitchParameter IncludeIommuGroup { get; set; }

    private protected override PassthroughPlan Plan(PciPassthrough engine, string address) =>
        engine.PlanSet(address, Driver, IncludeIommuGroup, Persist, Force);

    private protected override string Action(PassthroughPlan plan) => $"Hand {plan.Address} to {Driver}";

    private protected override string NothingToDo(PassthroughPlan plan) => $"{plan.Address} is already on {Driver}; nothing to change.";

    /// <summary>A shared INTx line the device cannot avoid (no MSI, no INTx masking) makes a VM with it flaky or refused.</summary>
    private protected override IEnumerable<string> ExtraWarnings(PassthroughPlan plan)
    {
        var moving = plan.Moves.Select(m => m.Address).ToHashSet(StringComparer.Ordinal);
        return new PciIrqShareReader(SystemRoot).GetLines()
            .Where(line => line.BlockedAddress.Any(moving.Contains))
            .Select(line => $"IRQ {line.Irq} is shared by {string.Join(", ", line.Address)}: {line.Reason}");
    }
}
