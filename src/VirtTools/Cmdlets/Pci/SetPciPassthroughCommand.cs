using System.Management.Automation;
using VirtTools.Pci;

namespace VirtTools.Commands;

/// <summary>Hands PCI functions to vfio-pci (or pci-stub) via driver_override, after checking IOMMU, group and interlocks.</summary>
[Cmdlet(VerbsCommon.Set, "PciPassthrough", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(PciDevice))]
public sealed class SetPciPassthroughCommand : PciPassthroughCmdlet
{
    [Parameter]
    [ValidateSet(PciStubDriver.VfioPci, PciStubDriver.PciStub)]
    public string Driver { get; set; } = PciStubDriver.VfioPci;

    [Parameter]
    public SwitchParameter IncludeIommuGroup { get; set; }

    private protected override PassthroughPlan Plan(PassthroughPlanner planner, PciAddress address) =>
        planner.PlanSet(address, Driver, IncludeIommuGroup, Persist, Force);

    private protected override string Action(PassthroughPlan plan) => $"Hand {plan.Address} to {Driver}";

    private protected override string NothingToDo(PassthroughPlan plan) => $"{plan.Address} is already on {Driver}; nothing to change.";
}
