using System.Management.Automation;
using VirtTools.Pci;

namespace VirtTools.Commands;

/// <summary>Gives PCI functions back from vfio-pci/pci-stub to the host driver they came from.</summary>
[Cmdlet(VerbsCommon.Remove, "PciPassthrough", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(PciDevice))]
public sealed class RemovePciPassthroughCommand : PciPassthroughCmdlet
{
    private protected override PassthroughPlan Plan(PassthroughPlanner planner, PciAddress address) => planner.PlanRemove(address, Persist, Force);

    private protected override string Action(PassthroughPlan plan) => $"Give {plan.Address} back to its host driver";

    private protected override string NothingToDo(PassthroughPlan plan) => $"{plan.Address} is not on a passthrough driver; nothing to change.";
}
