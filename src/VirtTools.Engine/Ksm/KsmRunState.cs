namespace VirtTools.Ksm;

/// <summary>/sys/kernel/mm/ksm/run: the numbers are what the kernel reads and writes.</summary>
public enum KsmRunState
{
    /// <summary>ksmd stopped; pages already merged stay merged.</summary>
    Stop = 0,
    /// <summary>ksmd scans and merges.</summary>
    Run = 1,
    /// <summary>ksmd stopped and every merged page unmerged (needed before changing max_page_sharing or merge_across_nodes).</summary>
    Unmerge = 2,
}
