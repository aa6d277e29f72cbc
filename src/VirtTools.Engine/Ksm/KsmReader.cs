using VirtTools.Diagnostics;
using VirtTools.Sysfs;

namespace VirtTools.Ksm;

/// <summary>Reads /sys/kernel/mm/ksm into <see cref="KsmStats"/>.</summary>
public static class KsmReader
{
    public const string KsmDirectory = "/sys/kernel/mm/ksm";

    /// <summary>The word KSM's kernel log lines carry ("ksm: ..."), to pick them out of the log.</summary>
    public const string LogName = "ksm";

    /// <summary>The page size KSM counts in: the live machine's; 4096 (x86) for a captured root, which does not record it.</summary>
    public static int PageSizeOf(SystemRoot root) => root.IsLive ? Environment.SystemPageSize : 4096;

    public static bool IsAvailable(SystemRoot root) => root.Directory(KsmDirectory).Exists;

    /// <summary>The global KSM counters and tunables; KsmNotAvailable when the kernel has no KSM.</summary>
    public static KsmStats ReadStats(SystemRoot root)
    {
        var ksm = root.Directory(KsmDirectory);
        if (!ksm.Exists) throw NotAvailable(root);
        return new KsmStats
        {
            Run = ksm.Int("run") is int run && Enum.IsDefined(typeof(KsmRunState), run) ? (KsmRunState)run : null,
            PagesToScan = ksm.Long("pages_to_scan"),
            SleepMilliseconds = ksm.Long("sleep_millisecs"),
            PagesShared = ksm.Long("pages_shared"),
            PagesSharing = ksm.Long("pages_sharing"),
            PagesUnshared = ksm.Long("pages_unshared"),
            PagesVolatile = ksm.Long("pages_volatile"),
            FullScans = ksm.Long("full_scans"),
            MergeAcrossNodes = ksm.Bool("merge_across_nodes"),
            UseZeroPages = ksm.Bool("use_zero_pages"),
            MaxPageSharing = ksm.Long("max_page_sharing"),
            StableNodeChains = ksm.Long("stable_node_chains"),
            StableNodeDups = ksm.Long("stable_node_dups"),
            StableNodeChainsPruneMilliseconds = ksm.Long("stable_node_chains_prune_millisecs"),
            GeneralProfit = ksm.Long("general_profit"),
            KsmZeroPages = ksm.Long("ksm_zero_pages"),
            PagesScanned = ksm.Long("pages_scanned"),
            PagesSkipped = ksm.Long("pages_skipped"),
            SmartScan = ksm.Bool("smart_scan"),
            AdvisorMode = SelectedChoice(ksm.String("advisor_mode")),
            AdvisorMaxCpu = ksm.Long("advisor_max_cpu"),
            AdvisorMinPagesToScan = ksm.Long("advisor_min_pages_to_scan"),
            AdvisorMaxPagesToScan = ksm.Long("advisor_max_pages_to_scan"),
            AdvisorTargetScanTime = ksm.Long("advisor_target_scan_time"),
            PageSize = PageSizeOf(root),
            Root = root.Path,
        };
    }

    /// <summary>"[none] scan-time" → "none": the kernel brackets the selected choice; a bare word is taken as is.</summary>
    public static string? SelectedChoice(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        int open = text.IndexOf('['), close = text.IndexOf(']');
        if (open >= 0 && close > open + 1) return text[(open + 1)..close].Trim();
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words.Length == 1 && open < 0 ? words[0] : null;
    }

    public static VirtToolsException NotAvailable(SystemRoot root) => new(KsmErrors.NotAvailableId, FailureKind.NotEnabled,
        $"This kernel has no KSM: {root.Resolve(KsmDirectory)} does not exist.",
        "Use a kernel built with CONFIG_KSM=y (every mainstream distribution kernel has it).", KsmDirectory);
}
