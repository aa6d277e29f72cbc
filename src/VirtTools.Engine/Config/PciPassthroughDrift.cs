using VirtTools.Pci;
using VirtTools.Sysfs;

namespace VirtTools.Config;

/// <summary>
/// pci.passthrough rules against sysfs: the function bound to the stub driver, pinned there by driver_override,
/// and with includeIommuGroup no other group member left on a host driver. Fixed through
/// <see cref="PassthroughPlanner"/> and <see cref="PassthroughApplier"/>, the checks, interlocks and rollback of Set-PciPassthrough.
/// </summary>
internal static class PciPassthroughDrift
{
    public static IEnumerable<DriftItem> Evaluate(SystemRoot root, IReadOnlyList<PciPassthroughRule> rules)
    {
        var devices = new PciDeviceReader(root);
        var planner = new PassthroughPlanner(devices);
        foreach (var rule in rules)
        {
            var function = devices.Find(rule.Address);
            var problems = new List<string>();
            if (function is not null && function.Driver == rule.Driver && function.DriverOverride != rule.Driver)
                problems.Add($"driver_override {function.DriverOverride ?? "unset"}");
            if (function is not null && rule.IncludeIommuGroup)
                problems.AddRange(planner.GroupBlockers(function).Select(member => $"group member {member.Address} on {member.Driver}"));
            bool inSync = function?.Driver == rule.Driver && problems.Count == 0;
            yield return new DriftItem
            {
                Drift = new VirtHostDrift
                {
                    Area = VirtHostArea.PciPassthrough,
                    Item = rule.Address.ToString(),
                    Desired = rule.Driver + (rule.IncludeIommuGroup ? " with its IOMMU group" : ""),
                    Actual = function is null ? null : string.Join("; ", problems.Prepend(function.Driver ?? "no driver")),
                    InSync = inSync,
                    Location = rule.Location,
                    Root = root.Path,
                },
                PlanFix = inSync ? null : () => Fix(planner, new PassthroughApplier(devices), rule),
            };
        }
    }

    private static DriftFix Fix(PassthroughPlanner planner, PassthroughApplier applier, PciPassthroughRule rule)
    {
        var plan = planner.PlanSet(rule.Address, rule.Driver, rule.IncludeIommuGroup);
        var action = string.Join("\n", plan.Describe().Prepend($"Hand {rule.Address} to {rule.Driver}:"));
        // The applier puts every function it moved back on its original driver before it throws.
        return new DriftFix(action, cancellation => applier.Apply(plan, cancellation: cancellation), SyncOutcome.RolledBack);
    }
}
