namespace VirtTools.Config;

/// <summary>
/// One item of a profile as an area found it on the host, with how to plan its fix. Planning is deferred until
/// sync reaches the item, so it sees what the items before it changed (advisor_mode before pages_to_scan).
/// </summary>
internal sealed class DriftItem
{
    public required VirtHostDrift Drift { get; init; }

    /// <summary>Reads and checks, writes nothing; throws a VirtToolsException when the change is refused. Null when in sync.</summary>
    public Func<DriftFix>? PlanFix { get; init; }
}

/// <summary>
/// The change that brings one item in line: a line a person can confirm, and the writes. <see cref="Apply"/> null
/// means nothing here can make the change (<see cref="SkipReason"/> says why).
/// </summary>
internal sealed record DriftFix(string Action, Action<CancellationToken>? Apply, SyncOutcome OnFailure, string? SkipReason = null)
{
    public static DriftFix Skip(string action, string reason) => new(action, null, SyncOutcome.Skipped, reason);
}
