using System.Management.Automation;
using VirtTools.Config;
using VirtTools.Diagnostics;

namespace VirtTools.Commands.Config;

/// <summary>
/// What the cmdlets that take a host profile share: -Path (file objects pipe in by FullName), strict parsing, and
/// a profile that does not parse (or cannot be used) as an error record for that path, the others going on.
/// </summary>
public abstract class VirtHostProfileCmdlet : VirtToolsCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    protected override void ProcessRecord()
    {
        foreach (var path in Path)
        {
            try
            {
                Process(VirtHostConfigParser.Load(GetUnresolvedProviderPathFromPSPath(path), SystemRoot.Path, Cancellation), path);
            }
            catch (VirtToolsException failure)
            {
                WriteFailure(failure, path);
            }
        }
    }

    /// <summary>Does the cmdlet's work on one parsed profile; a VirtToolsException becomes an error for <paramref name="path"/>.</summary>
    private protected abstract void Process(VirtHostConfig config, string path);
}
