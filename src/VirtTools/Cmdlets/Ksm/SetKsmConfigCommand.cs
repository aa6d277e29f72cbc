using System.Management.Automation;
using VirtTools.Diagnostics;
using VirtTools.Ksm;

namespace VirtTools.Commands.Ksm;

/// <summary>Set-KsmConfig: changes KSM's run state and tunables after checking every value; outputs the new KsmStats.</summary>
[Cmdlet(VerbsCommon.Set, "KsmConfig", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(KsmStats))]
public sealed class SetKsmConfigCommand : VirtToolsCmdlet
{
    [Parameter]
    public KsmRunState? Run { get; set; }

    [Parameter]
    public int? PagesToScan { get; set; }

    [Parameter]
    public int? SleepMilliseconds { get; set; }

    [Parameter]
    public int? MaxPageSharing { get; set; }

    [Parameter]
    public bool? MergeAcrossNodes { get; set; }

    [Parameter]
    public bool? UseZeroPages { get; set; }

    [Parameter]
    public bool? SmartScan { get; set; }

    [Parameter]
    [ValidateSet("none", "scan-time")]
    public string? AdvisorMode { get; set; }

    protected override void BeginProcessing() => RequireRoot();

    protected override void ProcessRecord()
    {
        var settings = new KsmSettings
        {
            Run = Run,
            PagesToScan = PagesToScan,
            SleepMilliseconds = SleepMilliseconds,
            MaxPageSharing = MaxPageSharing,
            MergeAcrossNodes = MergeAcrossNodes,
            UseZeroPages = UseZeroPages,
            SmartScan = SmartScan,
            AdvisorMode = AdvisorMode?.ToLowerInvariant(),
        };
        try
        {
            var writes = KsmConfigurator.Plan(SystemRoot, settings);
            int written = 0;
            foreach (var write in writes)
            {
                if (!ShouldProcess(SystemRoot.Resolve(write.SystemPath), $"{write.Description} (write '{write.Value}')")) continue;
                KsmConfigurator.Apply(SystemRoot, write);
                written++;
            }
            if (written > 0 || writes.Count == 0) WriteObject(KsmReader.ReadStats(SystemRoot));
        }
        catch (VirtToolsException e)
        {
            ThrowFailure(e);
        }
    }
}
