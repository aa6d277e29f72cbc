using System.Management.Automation;
using VirtTools.Config;

namespace VirtTools.Commands.Config;

/// <summary>Test-VirtHostConfig: compares a host profile with the host, one VirtHostDrift per item. Reads only.</summary>
[Cmdlet(VerbsDiagnostic.Test, "VirtHostConfig")]
[OutputType(typeof(VirtHostDrift))]
public sealed class TestVirtHostConfigCommand : VirtHostProfileCmdlet
{
    protected override void BeginProcessing() => RequireRoot();

    private protected override void Process(VirtHostConfig config, string path) =>
        WriteObject(new VirtHostSync(SystemRoot).Test(config), enumerateCollection: true);
}
