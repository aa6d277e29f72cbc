namespace VirtTools.Ksm;

/// <summary>
/// What KSM does for one process, from /proc/&lt;pid&gt;/ksm_stat (6.1+) and ksm_merging_pages (5.19+).
/// A counter this kernel does not report is null.
/// </summary>
public sealed class KsmProcessStats
{
    public int ProcessId { get; init; }

    /// <summary>The command name from /proc/&lt;pid&gt;/comm.</summary>
    public string? Name { get; init; }

    /// <summary>The guest name given to QEMU with -name; null for other processes.</summary>
    public string? VmName { get; init; }

    /// <summary>Pages of this process that KSM has merged.</summary>
    public long? MergingPages { get; init; }

    /// <summary>KSM's rmap items for this process (each costs 64 bytes of kernel memory).</summary>
    public long? RmapItems { get; init; }

    public long? ZeroPages { get; init; }

    /// <summary>ksm_process_profit in bytes (6.4+).</summary>
    public long? ProfitBytes { get; init; }

    /// <summary>ksm_mergeable: the process has any mergeable memory (newest kernels).</summary>
    public bool? Mergeable { get; init; }

    /// <summary>ksm_merge_any: the whole process was made mergeable with prctl(PR_SET_MEMORY_MERGE) (newest kernels).</summary>
    public bool? MergeAny { get; init; }

    public int PageSize { get; init; }

    /// <summary>(MergingPages + ZeroPages) × PageSize.</summary>
    public long? SavedBytes => MergingPages is long merging ? (merging + (ZeroPages ?? 0)) * PageSize : null;

    public string Root { get; init; } = "/";
}
