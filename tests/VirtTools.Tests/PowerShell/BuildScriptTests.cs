using VirtTools.Host;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.PowerShell;

[Collection(PowerShellCollection.Name)]
public sealed class BuildScriptTests
{
    /// <summary>build.ps1 must stay runnable by the embedded engine (core commands only) and lay out both outputs.</summary>
    [Fact]
    public void Build_ps1_run_by_the_embedded_host_lays_out_the_module_and_the_host()
    {
        using var outRoot = new TemporaryTree("build-out");
        var output = new StringWriter();
        var error = new StringWriter();
        var code = Program.Run(new[] { "-f", Path.Combine(RepositoryPaths.Root, "build.ps1"), "-Configuration", "Release", "-Out", outRoot.Path }, output, error);
        Assert.True(code == 0, $"build.ps1 failed ({code}):\n{output}\n{error}");
        Assert.True(File.Exists(outRoot.Resolve("/VirtTools/VirtTools.psd1")));
        Assert.True(File.Exists(outRoot.Resolve("/VirtTools/VirtTools.dll")));
        Assert.True(File.Exists(outRoot.Resolve("/VirtTools/dependencies/YamlDotNet.dll")));
        Assert.True(File.Exists(outRoot.Resolve("/virttools")));
        Assert.Contains("Module: ", output.ToString());
    }
}
