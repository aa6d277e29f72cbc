using System.Globalization;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;

namespace VirtTools.Ksm;

/// <summary>Reads what KSM does per process from /proc/&lt;pid&gt;/ksm_stat and ksm_merging_pages.</summary>
public static class KsmProcessReader
{
    /// <summary>One process; ProcessNotFound when /proc/&lt;pid&gt; does not exist (it exited).</summary>
    public static KsmProcessStats Read(SystemRoot root, int processId) =>
        TryRead(root, processId) ?? throw new VirtToolsException(KsmErrors.ProcessNotFoundId, FailureKind.NotFound,
            $"No process with id {processId} exists (under {root.Resolve("/proc")}).",
            "Check the id with Get-Process; the process may have exited.", processId);

    /// <summary>One process, or null when it does not exist.</summary>
    public static KsmProcessStats? TryRead(SystemRoot root, int processId)
    {
        var process = root.Directory("/proc/" + processId.ToString(CultureInfo.InvariantCulture));
        if (!process.Exists) return null;
        var stat = KsmStatFile.Parse(process.Text("ksm_stat"));
        return new KsmProcessStats
        {
            ProcessId = processId,
            Name = process.String("comm"),
            VmName = QemuCommandLine.VmName(process.Text("cmdline")),
            MergingPages = Number(stat, "ksm_merging_pages") ?? process.Long("ksm_merging_pages"),
            RmapItems = Number(stat, "ksm_rmap_items"),
            ZeroPages = Number(stat, "ksm_zero_pages"),
            ProfitBytes = Number(stat, "ksm_process_profit"),
            Mergeable = stat.TryGetValue("ksm_mergeable", out var mergeable) ? SysfsText.ParseBool(mergeable) : null,
            MergeAny = stat.TryGetValue("ksm_merge_any", out var mergeAny) ? SysfsText.ParseBool(mergeAny) : null,
            PageSize = KsmReader.PageSizeOf(root),
            Root = root.Path,
        };
    }

    /// <summary>The ids of every process under the root's /proc, ascending.</summary>
    public static IEnumerable<int> ProcessIds(SystemRoot root) =>
        root.Directory("/proc").EntryNames()
            .Select(name => int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : -1)
            .Where(id => id > 0).Order();

    /// <summary>Every process that still exists, read once each (processes that exit meanwhile are skipped).</summary>
    public static IEnumerable<KsmProcessStats> All(SystemRoot root) =>
        ProcessIds(root).Select(id => TryRead(root, id)).OfType<KsmProcessStats>();

    /// <summary>Every process that has pages merged by KSM right now.</summary>
    public static IEnumerable<KsmProcessStats> Merging(SystemRoot root) =>
        ProcessIds(root).Where(id => MergingPagesOf(root, id) > 0)
            .Select(id => TryRead(root, id)).OfType<KsmProcessStats>().Where(p => p.MergingPages > 0);

    /// <summary>The cheap first look: /proc/&lt;pid&gt;/ksm_merging_pages alone.</summary>
    private static long? MergingPagesOf(SystemRoot root, int processId) =>
        SysfsText.ParseLong(SysfsText.ReadValue(root.Resolve($"/proc/{processId.ToString(CultureInfo.InvariantCulture)}/ksm_merging_pages")));

    private static long? Number(IReadOnlyDictionary<string, string> stat, string key) =>
        stat.TryGetValue(key, out var text) ? SysfsText.ParseLong(text) : null;
}
