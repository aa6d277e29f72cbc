using System.Globalization;
using VirtTools.Ksm;
using VirtTools.Sysfs;

namespace VirtTools.Config;

/// <summary>
/// The ksm: section against /sys/kernel/mm/ksm: one item per key the profile sets, in the order the kernel needs
/// the writes (an Unmerge first, the advisor before pages_to_scan, Run or Stop last), each fixed through
/// <see cref="KsmConfigurator"/> exactly as Set-KsmConfig does.
/// </summary>
internal static class KsmDrift
{
    private sealed record Key(string Name, Func<KsmSettings, object?> Desired, Func<KsmStats, object?> Actual, Func<KsmSettings, KsmSettings> Only);

    private static readonly Key Run = new("run", s => s.Run, k => k.Run, s => new KsmSettings { Run = s.Run });

    private static readonly Key[] Tunables =
    {
        new("advisorMode", s => s.AdvisorMode, k => k.AdvisorMode, s => new KsmSettings { AdvisorMode = s.AdvisorMode }),
        new("pagesToScan", s => s.PagesToScan, k => k.PagesToScan, s => new KsmSettings { PagesToScan = s.PagesToScan }),
        new("sleepMilliseconds", s => s.SleepMilliseconds, k => k.SleepMilliseconds, s => new KsmSettings { SleepMilliseconds = s.SleepMilliseconds }),
        new("maxPageSharing", s => s.MaxPageSharing, k => k.MaxPageSharing, s => new KsmSettings { MaxPageSharing = s.MaxPageSharing }),
        new("mergeAcrossNodes", s => s.MergeAcrossNodes, k => k.MergeAcrossNodes, s => new KsmSettings { MergeAcrossNodes = s.MergeAcrossNodes }),
        new("useZeroPages", s => s.UseZeroPages, k => k.UseZeroPages, s => new KsmSettings { UseZeroPages = s.UseZeroPages }),
        new("smartScan", s => s.SmartScan, k => k.SmartScan, s => new KsmSettings { SmartScan = s.SmartScan }),
    };

    public static IEnumerable<DriftItem> Evaluate(SystemRoot root, KsmSettings? desired)
    {
        if (desired is null) yield break;
        var stats = KsmReader.IsAvailable(root) ? KsmReader.ReadStats(root) : null;
        var keys = desired.Run == KsmRunState.Unmerge ? Tunables.Prepend(Run) : Tunables.Append(Run);
        foreach (var key in keys)
        {
            if (Text(key.Desired(desired)) is not { } wanted) continue;
            var actual = stats is null ? null : Text(key.Actual(stats));
            var only = key.Only(desired);
            yield return new DriftItem
            {
                Drift = new VirtHostDrift
                {
                    Area = VirtHostArea.Ksm, Item = "ksm." + key.Name, Desired = wanted, Actual = actual,
                    InSync = actual == wanted, Root = root.Path,
                },
                PlanFix = actual == wanted ? null : () => Fix(root, only),
            };
        }
    }

    private static DriftFix Fix(SystemRoot root, KsmSettings only)
    {
        var writes = KsmConfigurator.Plan(root, only);
        var action = string.Join("; ", writes.Select(w => $"{w.Description} (write '{w.Value}' to {w.SystemPath})"));
        // One key is one write: when the kernel refuses it nothing changed, so the item failed rather than rolled back.
        return new DriftFix(action, _ => { foreach (var write in writes) KsmConfigurator.Apply(root, write); }, SyncOutcome.Failed);
    }

    /// <summary>Values as the profile spells them: Run, 1000, true, scan-time.</summary>
    private static string? Text(object? value) => value switch
    {
        null => null,
        bool flag => flag ? "true" : "false",
        IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
