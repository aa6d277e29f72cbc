using System.Management.Automation;
using VirtTools.Commands.Completion;
using VirtTools.Diagnostics;
using VirtTools.Ksm;

namespace VirtTools.Commands.Ksm;

/// <summary>Get-KsmStats: the global KSM counters, or what KSM does for chosen processes.</summary>
[Cmdlet(VerbsCommon.Get, "KsmStats", DefaultParameterSetName = GlobalSet)]
[OutputType(typeof(KsmStats), ParameterSetName = new[] { GlobalSet })]
[OutputType(typeof(KsmProcessStats), ParameterSetName = new[] { ProcessIdSet, NameSet, AllProcessesSet })]
public sealed class GetKsmStatsCommand : VirtToolsCmdlet
{
    private const string GlobalSet = "Global";
    private const string ProcessIdSet = "ProcessId";
    private const string NameSet = "Name";
    private const string AllProcessesSet = "AllProcesses";

    /// <summary>Process ids; binds Id from Get-Process output and ProcessId from KsmProcessStats.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ProcessIdSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Id")]
    [ArgumentCompleter(typeof(KsmProcessIdCompleter))]
    public int[] ProcessId { get; set; } = Array.Empty<int>();

    /// <summary>Process names (the comm, as Get-Process shows it), with wildcards.</summary>
    [Parameter(Mandatory = true, ParameterSetName = NameSet)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(KsmProcessNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    /// <summary>Every process that has pages merged by KSM.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AllProcessesSet)]
    public SwitchParameter AllProcesses { get; set; }

    protected override void BeginProcessing() => RequireRoot();

    protected override void ProcessRecord()
    {
        switch (ParameterSetName)
        {
            case ProcessIdSet:
                foreach (var id in ProcessId)
                {
                    try { WriteObject(KsmProcessReader.Read(SystemRoot, id)); }
                    catch (VirtToolsException e) { WriteFailure(e, id); }
                }
                break;
            case NameSet:
                WriteByName();
                break;
            case AllProcessesSet:
                foreach (var process in KsmProcessReader.Merging(SystemRoot))
                {
                    Cancellation.ThrowIfCancellationRequested();
                    WriteObject(process);
                }
                break;
            default:
                try { WriteObject(KsmReader.ReadStats(SystemRoot)); }
                catch (VirtToolsException e) { ThrowFailure(e); }
                break;
        }
    }

    private void WriteByName()
    {
        var filter = new Wildcards(Name);
        var matched = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var process in KsmProcessReader.All(SystemRoot).Where(p => filter.Matches(p.Name)))
        {
            Cancellation.ThrowIfCancellationRequested();
            matched.Add(process.Name!);
            WriteObject(process);
        }
        foreach (var literal in Wildcards.Literals(Name).Where(n => !matched.Contains(n)))
            WriteFailure(new VirtToolsException(KsmErrors.ProcessNotFoundId, FailureKind.NotFound,
                $"No process named '{literal}' is running.", "Check the name with Get-Process (it is the command name, at most 15 characters).", literal), literal);
    }
}
