using System.Globalization;
using VirtTools.Pci;
using VirtTools.Sysfs;

namespace VirtTools.Commands.Completion;

/// <summary>Completes IOMMU group numbers, each shown with its members and whether vfio can take it.</summary>
public sealed class IommuGroupCompleter : VirtToolsCompleter
{
    protected override IEnumerable<CompletionCandidate> Candidates(SystemRoot root) =>
        new IommuGroupReader(root).GetGroups().Select(g => new CompletionCandidate(
            g.Group.ToString(CultureInfo.InvariantCulture),
            $"{string.Join(", ", g.Address)} ({(g.IsViable ? "viable" : "not viable")})"));
}
