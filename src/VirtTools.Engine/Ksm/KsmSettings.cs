namespace VirtTools.Ksm;

/// <summary>The KSM changes a caller asks for; a null property is left as it is.</summary>
public sealed class KsmSettings
{
    public KsmRunState? Run { get; init; }
    public int? PagesToScan { get; init; }
    public int? SleepMilliseconds { get; init; }
    public int? MaxPageSharing { get; init; }
    public bool? MergeAcrossNodes { get; init; }
    public bool? UseZeroPages { get; init; }
    public bool? SmartScan { get; init; }
    /// <summary>"none" or "scan-time".</summary>
    public string? AdvisorMode { get; init; }
}
