using VirtTools.Pci;
using VirtTools.Sysfs;

namespace VirtTools.Commands.Completion;

/// <summary>Completes the PCI drivers the kernel has registered, each shown with the functions bound to it.</summary>
public sealed class PciDriverCompleter : VirtToolsCompleter
{
    protected override IEnumerable<CompletionCandidate> Candidates(SystemRoot root)
    {
        var reader = new PciDeviceReader(root);
        var bound = reader.GetDevices().Where(d => d.Driver is not null)
            .ToLookup(d => d.Driver!, d => d.Address, StringComparer.Ordinal);
        return reader.DriverNames().Select(driver => new CompletionCandidate(driver,
            bound.Contains(driver) ? "bound: " + string.Join(", ", bound[driver]) : "no function bound"));
    }
}
