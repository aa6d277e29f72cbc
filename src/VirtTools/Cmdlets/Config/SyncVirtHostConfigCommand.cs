using System.Management.Automation;
using VirtTools.Config;

namespace VirtTools.Commands.Config;

/// <summary>
/// Sync-VirtHostConfig: applies the items of a host profile that drift, each confirmed through ShouldProcess, and
/// outputs every item read again afterwards with what was done; a failed item is an error record and the rest go on.
/// </summary>
[Cmdlet(VerbsData.Sync, "VirtHostConfig", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(VirtHostDrift))]
public sealed class SyncVirtHostConfigCommand : VirtHostProfileCmdlet
{
    protected override void BeginProcessing() => RequireRoot();

    private protected override void Process(VirtHostConfig config, string path)
    {
        var results = new VirtHostSync(SystemRoot).Sync(config, (drift, action) => ShouldProcess($"{drift.Area} {drift.Item}", action), Cancellation);
        foreach (var result in results)
        {
            if (result.Outcome != SyncOutcome.Unchanged)
                WriteVerbose($"{result.Outcome}: {result.Area} {result.Item}{(result.Message is null ? "" : " - " + result.Message)}");
            if (result.Error is { } failure) WriteFailure(failure, result);
            WriteObject(result);
        }
        var summary = $"Sync of {path}: " + string.Join(", ", Enum.GetValues<SyncOutcome>()
            .Select(outcome => $"{results.Count(r => r.Outcome == outcome)} {Describe(outcome)}"));
        WriteVerbose(summary);
        WriteInformation(summary, new[] { "VirtTools", "Summary" });
    }

    private static string Describe(SyncOutcome outcome) => outcome switch
    {
        SyncOutcome.RolledBack => "rolled back",
        _ => outcome.ToString().ToLowerInvariant(),
    };
}
