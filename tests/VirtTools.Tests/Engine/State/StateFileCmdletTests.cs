using VirtTools.Pci;
using VirtTools.State;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.State;

/// <summary>
/// Issue 14, items 5 and 6 as the user meets them, through a hosted runspace: planted symlinks under
/// Set-PciPassthrough -Persist and Export-VirtHostConfig -Path, and a -Root tree whose KSM attribute links out of it.
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class StateFileCmdletTests : IDisposable
{
    private readonly PowerShellHarness _ps = new();
    private readonly TemporaryTree _outside = new("victim");

    public StateFileCmdletTests() => _outside.File("/victim", "untouched");

    private string Victim => _outside.Resolve("/victim");

    [Fact]
    public void Set_PciPassthrough_Persist_writes_its_files_and_never_through_links_at_the_old_temporary_names()
    {
        using var kernel = Double.OnCapturedFixture();
        kernel.Tree.Link(PassthroughStateStore.SystemPath + ".tmp", Victim);
        kernel.Tree.Link(ModprobePersistence.FilePath("vfio-pci") + ".tmp", Victim);
        var result = _ps.Run("param($root) Set-PciPassthrough -Root $root 00:01.0 -Persist -Confirm:$false",
            new Dictionary<string, object?> { ["root"] = kernel.RootPath });
        Assert.True(result.Succeeded, PowerShellHarness.Describe(result));
        Assert.Equal("untouched\n", File.ReadAllText(Victim));
        Assert.Contains("softdep xhci_hcd pre: vfio-pci", kernel.Tree.Read(ModprobePersistence.FilePath("vfio-pci")));
    }

    [Fact]
    public void Export_VirtHostConfig_to_a_path_that_is_a_symlink_is_StateFileIsSymlink_and_the_target_is_untouched()
    {
        using var tree = new TemporaryTree("export");
        tree.File("/sys/kernel/mm/ksm/run", "0").Link("/etc/virttools/host.yaml", Victim);
        var result = _ps.Run("param($root, $path) Export-VirtHostConfig -Root $root -Path $path",
            new Dictionary<string, object?> { ["root"] = tree.Path, ["path"] = tree.Resolve("/etc/virttools/host.yaml") });
        Assert.StartsWith(StateErrors.FileIsSymlinkId + ",", Assert.Single(result.Errors).FullyQualifiedErrorId);
        Assert.Equal("untouched\n", File.ReadAllText(Victim));
    }

    [Fact]
    public void Set_KsmConfig_on_a_root_whose_attribute_links_out_of_it_is_PathOutsideRoot_and_writes_nothing_outside()
    {
        using var tree = new TemporaryTree("ksm-escape");
        foreach (var name in new[] { "pages_to_scan", "sleep_millisecs", "pages_shared", "pages_sharing", "pages_unshared", "pages_volatile", "full_scans" })
            tree.File("/sys/kernel/mm/ksm/" + name, "0");
        tree.Link("/sys/kernel/mm/ksm/run", "../../../../.." + _outside.Resolve("/victim"));
        _outside.File("/victim", "0");
        var result = _ps.Run("param($root) Set-KsmConfig -Root $root -Run Run -Confirm:$false",
            new Dictionary<string, object?> { ["root"] = tree.Path });
        Assert.StartsWith(RootConfinement.PathOutsideRootId + ",", Assert.Single(result.Errors).FullyQualifiedErrorId);
        Assert.Equal("0\n", File.ReadAllText(Victim));
    }

    public void Dispose()
    {
        _ps.Dispose();
        _outside.Dispose();
    }
}
