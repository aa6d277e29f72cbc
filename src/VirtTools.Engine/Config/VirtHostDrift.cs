using VirtTools.Diagnostics;

namespace VirtTools.Config;

/// <summary>
/// One item of a host profile compared with the host: what the profile asks for, what the host has, and whether
/// they agree. Sync-VirtHostConfig outputs the same object read again after its change, with what it did.
/// </summary>
public sealed class VirtHostDrift
{
    public VirtHostArea Area { get; init; }

    /// <summary>What the item is about: "ksm.pagesToScan", "0000:05:00.0", "vendorId 46f4 productId 0001 serial X".</summary>
    public required string Item { get; init; }

    /// <summary>The state the profile asks for, as a person reads it.</summary>
    public required string Desired { get; init; }

    /// <summary>The state the host is in; null when the host has nothing there (no such device, no such attribute).</summary>
    public string? Actual { get; init; }

    public bool InSync { get; init; }

    /// <summary>Where the item stands in the profile ("host.yaml:4:7"); null for ksm keys.</summary>
    public string? Location { get; init; }

    /// <summary>What Sync-VirtHostConfig did (or would do) to bring the item in line; null from Test-VirtHostConfig.</summary>
    public string? Action { get; init; }

    /// <summary>What Sync-VirtHostConfig did with the item; null from Test-VirtHostConfig.</summary>
    public SyncOutcome? Outcome { get; init; }

    /// <summary>Why an item was skipped, failed or rolled back.</summary>
    public string? Message { get; init; }

    /// <summary>The engine's failure for a Failed or RolledBack item, with its ErrorId and RecommendedAction.</summary>
    public VirtToolsException? Error { get; init; }

    public string Root { get; init; } = "/";

    public override string ToString() => $"{Area} {Item}: {(InSync ? "in sync" : $"{Actual ?? "(absent)"} -> {Desired}")}";
}
