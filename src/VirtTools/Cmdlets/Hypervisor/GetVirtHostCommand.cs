using System.Management.Automation;
using VirtTools.Hypervisor;

namespace VirtTools.Commands.Hypervisor;

/// <summary>Get-VirtHost: one summary of what this host can do for virtualization.</summary>
[Cmdlet(VerbsCommon.Get, "VirtHost")]
[OutputType(typeof(VirtHost))]
public sealed class GetVirtHostCommand : VirtToolsCmdlet
{
    protected override void BeginProcessing() => RequireRoot();

    protected override void ProcessRecord() => WriteObject(VirtHostProbe.Read(SystemRoot));
}
