using System.Management.Automation;
using VirtTools.Diagnostics;
using VirtTools.Sandbox;

namespace VirtTools.Commands.Sandbox;

/// <summary>
/// New-VirtHostSandbox: unpacks a snapshot (or the captured Debian 6.1 host shipped in the module) into a folder whose
/// kernel writes behave as the kernel's; pass its Root as -Root. Refuses Pester's TestDrive, which Pester empties by
/// walking it with symlinks followed (a sysfs tree's symlink loops make that walk endless).
/// </summary>
[Cmdlet(VerbsCommon.New, "VirtHostSandbox", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low,
    DefaultParameterSetName = FixtureSet)]
[OutputType(typeof(VirtHostSandbox))]
public sealed class NewVirtHostSandboxCommand : PSCmdlet
{
    private const string FixtureSet = "FromFixture";
    private const string SnapshotSet = "Snapshot";

    /// <summary>A .tgz made by Save-VirtHostSnapshot.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = SnapshotSet)]
    [ValidateNotNullOrEmpty]
    public string Snapshot { get; set; } = "";

    /// <summary>The captured Debian 6.1 host (the default when no -Snapshot is given).</summary>
    [Parameter(ParameterSetName = FixtureSet)]
    public SwitchParameter FromFixture { get; set; }

    /// <summary>A new or empty folder; by default a new folder under the temp directory.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    protected override void ProcessRecord()
    {
        var path = Path is null ? VirtHostSandbox.DefaultPath() : GetUnresolvedProviderPathFromPSPath(Path);
        try
        {
            VirtHostSandbox.CheckPlacement(path, PesterTestDrive());
            var source = ParameterSetName == SnapshotSet ? GetUnresolvedProviderPathFromPSPath(Snapshot) : VirtHostSandbox.FixtureName;
            if (!ShouldProcess(path, $"Create a VirtTools sandbox from {source}")) return;
            WriteObject(ParameterSetName == SnapshotSet ? VirtHostSandbox.FromSnapshot(source, path) : VirtHostSandbox.FromFixture(path));
        }
        catch (VirtToolsException e)
        {
            ThrowTerminatingError(ErrorRecords.From(e, Path ?? path));
        }
    }

    /// <summary>The folder of Pester's TestDrive when this runs inside a Pester test (its $TestDrive), else null.</summary>
    private string? PesterTestDrive() => SessionState.PSVariable.GetValue("TestDrive") as string;
}
