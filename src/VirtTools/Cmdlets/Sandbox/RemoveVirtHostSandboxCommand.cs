using System.Management.Automation;
using VirtTools.Diagnostics;
using VirtTools.Sandbox;

namespace VirtTools.Commands.Sandbox;

/// <summary>Remove-VirtHostSandbox: deletes a sandbox's tree, removing its symlinks without following them.</summary>
[Cmdlet(VerbsCommon.Remove, "VirtHostSandbox", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low,
    DefaultParameterSetName = SandboxSet)]
[OutputType(typeof(void))]
public sealed class RemoveVirtHostSandboxCommand : PSCmdlet
{
    private const string SandboxSet = "Sandbox";
    private const string PathSet = "Path";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = SandboxSet)]
    public VirtHostSandbox? Sandbox { get; set; }

    /// <summary>The sandbox's folder (its Root).</summary>
    [Parameter(Mandatory = true, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    protected override void ProcessRecord()
    {
        try
        {
            var sandbox = Sandbox ?? VirtHostSandbox.Open(GetUnresolvedProviderPathFromPSPath(Path));
            if (ShouldProcess(sandbox.Root, "Remove the VirtTools sandbox")) sandbox.Remove();
        }
        catch (VirtToolsException e)
        {
            WriteError(ErrorRecords.From(e, (object?)Sandbox ?? Path));
        }
    }
}
