using System.Globalization;
using VirtTools.Ksm;
using VirtTools.Sysfs;

namespace VirtTools.Commands.Completion;

/// <summary>Completes the names of processes that have pages merged by KSM, each with its process ids.</summary>
public sealed class KsmProcessNameCompleter : VirtToolsCompleter
{
    protected override IEnumerable<CompletionCandidate> Candidates(SystemRoot root) =>
        KsmProcessReader.Merging(root).Where(p => p.Name is not null)
            .GroupBy(p => p.Name!, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new CompletionCandidate(g.Key,
                "process " + string.Join(", ", g.Select(p => p.ProcessId.ToString(CultureInfo.InvariantCulture)))));
}
