using System.Management.Automation;
using VirtTools.Diagnostics;
using VirtTools.Sandbox;

namespace VirtTools.Commands.Sandbox;

/// <summary>Save-VirtHostSnapshot: captures the parts of this host (or of -Root) that VirtTools reads into a .tgz.</summary>
[Cmdlet(VerbsData.Save, "VirtHostSnapshot", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(VirtHostSnapshot))]
public sealed class SaveVirtHostSnapshotCommand : VirtToolsCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    protected override void BeginProcessing() => RequireRoot();

    protected override void ProcessRecord()
    {
        var archive = GetUnresolvedProviderPathFromPSPath(Path);
        if (!ShouldProcess(archive, $"Save a snapshot of {SystemRoot.Path}")) return;
        try
        {
            WriteObject(VirtHostSnapshot.Save(SystemRoot, archive));
        }
        catch (VirtToolsException e)
        {
            ThrowFailure(e, Path);
        }
    }
}
