using System.Globalization;
using VirtTools.Ksm;
using VirtTools.Sysfs;

namespace VirtTools.Commands.Completion;

/// <summary>Completes the ids of processes that have pages merged by KSM, each with its name and VM name.</summary>
public sealed class KsmProcessIdCompleter : VirtToolsCompleter
{
    protected override IEnumerable<CompletionCandidate> Candidates(SystemRoot root) =>
        KsmProcessReader.Merging(root).Select(p => new CompletionCandidate(
            p.ProcessId.ToString(CultureInfo.InvariantCulture),
            $"{p.Name}{(p.VmName is null ? "" : $" ({p.VmName})")} {p.MergingPages} merging pages"));
}
