namespace VirtTools.Ksm;

/// <summary>
/// Every attribute of /sys/kernel/mm/ksm, typed, with the figures people actually want (bytes saved, sharing
/// ratio). An attribute this kernel does not have is null: on 6.1 the 6.4+ counters are null, not 0.
/// </summary>
public sealed class KsmStats
{
    public KsmRunState? Run { get; init; }
    public long? PagesToScan { get; init; }
    public long? SleepMilliseconds { get; init; }
    public long? PagesShared { get; init; }
    public long? PagesSharing { get; init; }
    public long? PagesUnshared { get; init; }
    public long? PagesVolatile { get; init; }
    public long? FullScans { get; init; }
    public bool? MergeAcrossNodes { get; init; }
    public bool? UseZeroPages { get; init; }
    public long? MaxPageSharing { get; init; }
    public long? StableNodeChains { get; init; }
    public long? StableNodeDups { get; init; }
    public long? StableNodeChainsPruneMilliseconds { get; init; }
    /// <summary>general_profit (6.4+): bytes saved minus what KSM's own rmap items cost.</summary>
    public long? GeneralProfit { get; init; }
    /// <summary>ksm_zero_pages (6.6+): empty pages KSM mapped to the kernel zero page (use_zero_pages).</summary>
    public long? KsmZeroPages { get; init; }
    public long? PagesScanned { get; init; }
    public long? PagesSkipped { get; init; }
    public bool? SmartScan { get; init; }
    /// <summary>advisor_mode (6.8+): "none" or "scan-time", the one the kernel has selected.</summary>
    public string? AdvisorMode { get; init; }
    public long? AdvisorMaxCpu { get; init; }
    public long? AdvisorMinPagesToScan { get; init; }
    public long? AdvisorMaxPagesToScan { get; init; }
    /// <summary>advisor_target_scan_time in seconds.</summary>
    public long? AdvisorTargetScanTime { get; init; }

    /// <summary>Bytes per page: the live machine's page size; 4096 for a captured root, which does not record it.</summary>
    public int PageSize { get; init; }

    /// <summary>(pages_sharing + ksm_zero_pages) × PageSize: memory KSM is saving right now.</summary>
    public long? SavedBytes => PagesSharing is long sharing ? (sharing + (KsmZeroPages ?? 0)) * PageSize : null;

    /// <summary>pages_sharing / pages_shared: how many mappings each KSM page serves; null while nothing is shared.</summary>
    public double? SharingRatio => PagesShared is > 0 && PagesSharing is long sharing ? (double)sharing / PagesShared.Value : null;

    /// <summary>general_profit as the kernel computes it; null on kernels before 6.4.</summary>
    public long? ProfitBytes => GeneralProfit;

    /// <summary>The root the attributes were read under.</summary>
    public string Root { get; init; } = "/";
}
