using System.Management.Automation;
using VirtTools.Config;
using VirtTools.Ksm;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.PowerShell;

[Collection(PowerShellCollection.Name)]
public sealed class VirtHostConfigCmdletTests : IDisposable
{
    private readonly PowerShellHarness _ps = new();
    private readonly TemporaryTree _files = new("profiles");

    [Fact]
    public void A_file_object_pipes_into_Get_VirtHostConfig_by_its_full_name()
    {
        _files.File("/host.yaml", "ksm: { run: Stop }");
        var config = _ps.Ok<VirtHostConfig>("param($f) [IO.FileInfo]::new($f) | Get-VirtHostConfig", new Dictionary<string, object?> { ["f"] = _files.Resolve("/host.yaml") }).Single();
        Assert.Equal(KsmRunState.Stop, config.Ksm!.Run);
    }

    [Fact]
    public void An_invalid_profile_is_an_error_record_naming_the_file_with_the_input_as_target()
    {
        _files.File("/bad.yaml", "pci:\n  passthrough: yes\n");
        var result = _ps.Run("param($f) Get-VirtHostConfig $f", new Dictionary<string, object?> { ["f"] = _files.Resolve("/bad.yaml") });
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("VirtHostConfigInvalid,", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidData, error.CategoryInfo.Category);
        Assert.Equal(_files.Resolve("/bad.yaml"), error.TargetObject);
        Assert.Contains("bad.yaml:2:16: pci.passthrough must be a list", error.Exception.Message);
        Assert.False(string.IsNullOrEmpty(error.ErrorDetails?.RecommendedAction));
    }

    public void Dispose()
    {
        _ps.Dispose();
        _files.Dispose();
    }
}
