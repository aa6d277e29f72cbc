using System.Management.Automation;
using VirtTools.Config;
using VirtTools.Diagnostics;

namespace VirtTools.Commands.Config;

/// <summary>
/// Export-VirtHostConfig: this host's USB/IP exports and attachments, PCI passthrough and KSM settings as a YAML
/// host profile, to the pipeline or to -Path.
/// </summary>
[Cmdlet(VerbsData.Export, "VirtHostConfig", SupportsShouldProcess = true)]
[OutputType(typeof(string))]
public sealed class ExportVirtHostConfigCommand : VirtToolsCmdlet
{
    /// <summary>The file to write; without it the YAML goes to the pipeline.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    protected override void BeginProcessing() => RequireRoot();

    protected override void ProcessRecord()
    {
        var yaml = VirtHostConfigWriter.ToYaml(VirtHostConfigExporter.Capture(SystemRoot),
            $"Host profile of {SystemRoot.Path}, written by Export-VirtHostConfig.\nCheck it with Test-VirtHostConfig; apply it with Sync-VirtHostConfig.");
        if (Path is null)
        {
            WriteObject(yaml);
            return;
        }
        var file = GetUnresolvedProviderPathFromPSPath(Path);
        if (!ShouldProcess(file, "Write the host profile")) return;
        try
        {
            VirtHostConfigWriter.Save(file, yaml);
        }
        catch (VirtToolsException failure)
        {
            ThrowFailure(failure, Path);
        }
    }
}
