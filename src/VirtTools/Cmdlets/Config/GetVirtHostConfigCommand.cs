using System.Management.Automation;
using VirtTools.Config;

namespace VirtTools.Commands.Config;

/// <summary>Get-VirtHostConfig: reads and validates a YAML host profile, returning it as objects.</summary>
[Cmdlet(VerbsCommon.Get, "VirtHostConfig")]
[OutputType(typeof(VirtHostConfig))]
public sealed class GetVirtHostConfigCommand : VirtHostProfileCmdlet
{
    private protected override void Process(VirtHostConfig config, string path) => WriteObject(config);
}
