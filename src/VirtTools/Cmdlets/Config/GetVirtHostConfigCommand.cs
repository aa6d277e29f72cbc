using System.Management.Automation;
using VirtTools.Config;
using VirtTools.Diagnostics;

namespace VirtTools.Commands.Config;

/// <summary>Get-VirtHostConfig: reads and validates a YAML host profile, returning it as objects.</summary>
[Cmdlet(VerbsCommon.Get, "VirtHostConfig")]
[OutputType(typeof(VirtHostConfig))]
public sealed class GetVirtHostConfigCommand : VirtToolsCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    protected override void ProcessRecord()
    {
        foreach (var path in Path)
        {
            var resolved = GetUnresolvedProviderPathFromPSPath(path);
            try
            {
                WriteObject(VirtHostConfigParser.Load(resolved, SystemRoot.Path));
            }
            catch (VirtToolsException failure)
            {
                WriteFailure(failure, path);
            }
        }
    }
}
