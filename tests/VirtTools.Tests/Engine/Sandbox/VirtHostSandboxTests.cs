using VirtTools.Diagnostics;
using VirtTools.Pci;
using VirtTools.Sandbox;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Sandbox;

/// <summary>A sandbox is a tree whose marker gives it the kernel's write semantics, for any root string, and nothing more.</summary>
public sealed class VirtHostSandboxTests : IDisposable
{
    private const string E1000 = "0000:00:02.0";
    private readonly List<VirtHostSandbox> _sandboxes = new();
    private readonly List<TemporaryTree> _trees = new();

    private VirtHostSandbox Fixture()
    {
        var sandbox = VirtHostSandbox.FromFixture(CapturedFixture.NewTemporaryFolder("sandbox"));
        _sandboxes.Add(sandbox);
        return sandbox;
    }

    private TemporaryTree Tree()
    {
        var tree = new TemporaryTree("sandbox-test");
        _trees.Add(tree);
        return tree;
    }

    private static string? DriverOf(string root, string address) => new PciDeviceReader(new SystemRoot(root)).Get(PciAddress.Parse(address)).Driver;

    [Fact]
    public void The_embedded_fixture_unpacks_into_the_captured_host_with_its_marker()
    {
        var sandbox = Fixture();
        Assert.True(File.Exists(Path.Combine(sandbox.Root, SandboxMarker.FileName)));
        Assert.Equal("vfio-pci", DriverOf(sandbox.Root, E1000));
        Assert.StartsWith("fixture:", sandbox.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void A_write_through_any_root_string_of_the_sandbox_moves_the_driver_link_as_the_kernel_would()
    {
        var sandbox = Fixture();
        SysfsWriter.Write(new SystemRoot(sandbox.Root + "/"), "/sys/bus/pci/drivers/vfio-pci/unbind", E1000);
        Assert.Null(DriverOf(sandbox.Root, E1000));
        Assert.False(File.Exists(sandbox.Root + "/dev/vfio/2"));
        Assert.Equal(new KernelWrite("/sys/bus/pci/drivers/vfio-pci/unbind", E1000 + "\n"), Assert.Single(sandbox.Writes));
    }

    [Fact]
    public void A_process_that_meets_the_sandbox_fresh_gets_the_kernel_semantics_from_the_marker_alone()
    {
        var sandbox = Fixture();
        SandboxKernel.Forget(sandbox.Root); // what another process starts from: the tree and its marker
        var refused = Assert.Throws<KernelWriteException>(() =>
            SysfsWriter.Write(new SystemRoot(sandbox.Root), "/sys/bus/pci/drivers/vfio-pci/bind", E1000));
        Assert.Equal(KernelErrno.EBUSY, refused.Errno);
    }

    [Fact]
    public void A_tree_without_a_marker_gets_plain_file_writes()
    {
        var tree = Tree().File("/sys/bus/pci/drivers/e1000/bind", "");
        SysfsWriter.Write(new SystemRoot(tree.Path), "/sys/bus/pci/drivers/e1000/bind", E1000);
        Assert.Equal(E1000 + "\n", tree.Read("/sys/bus/pci/drivers/e1000/bind"));
    }

    [Fact]
    public void The_live_root_is_never_a_sandbox() => Assert.Null(SandboxKernel.For(SystemRoot.Live));

    [Fact]
    public void An_armed_failure_fails_that_write_with_its_errno_and_changes_nothing()
    {
        var sandbox = Fixture().FailWrite("/sys/bus/pci/drivers/vfio-pci/unbind", KernelErrno.EIO);
        var refused = Assert.Throws<KernelWriteException>(() =>
            SysfsWriter.Write(new SystemRoot(sandbox.Root), "/sys/bus/pci/drivers/vfio-pci/unbind", E1000));
        Assert.Equal(KernelErrno.EIO, refused.Errno);
        Assert.Equal("vfio-pci", DriverOf(sandbox.Root, E1000));
    }

    [Fact]
    public void A_write_through_a_link_that_leaves_the_sandbox_is_refused_and_the_outside_file_is_untouched()
    {
        var outside = Tree().File("/run", "0");
        var tree = Tree().Link("/sys/kernel/mm/ksm", outside.Path);
        VirtHostSandbox.Adopt(tree.Path, "test");
        var refused = Assert.Throws<KernelWriteException>(() => SysfsWriter.Write(new SystemRoot(tree.Path), "/sys/kernel/mm/ksm/run", "1"));
        Assert.Equal(KernelErrno.EACCES, refused.Errno);
        Assert.Equal("0\n", outside.Read("/run"));
    }

    [Fact]
    public void A_link_whose_target_climbs_out_through_another_link_is_refused_too()
    {
        var outside = Tree().File("/mm/run", "0");
        var tree = Tree().Link("/sys/kernel/mm/ksm", "../../../b/mm").Link("/b", "../" + Path.GetFileName(outside.Path));
        VirtHostSandbox.Adopt(tree.Path, "test");
        var refused = Assert.Throws<KernelWriteException>(() => SysfsWriter.Write(new SystemRoot(tree.Path), "/sys/kernel/mm/ksm/run", "1"));
        Assert.Equal(KernelErrno.EACCES, refused.Errno);
        Assert.Equal("0\n", outside.Read("/mm/run"));
    }

    [Fact]
    public void Remove_deletes_the_tree_and_leaves_what_its_links_point_at()
    {
        var outside = Tree().File("/keep", "x");
        var tree = Tree().Link("/sys/class/net/eth0", outside.Path).File("/sys/kernel/mm/ksm/run", "0");
        VirtHostSandbox.Adopt(tree.Path, "test").Remove();
        Assert.False(Directory.Exists(tree.Path));
        Assert.Equal("x\n", outside.Read("/keep"));
    }

    [Fact]
    public void Remove_refuses_a_folder_that_is_not_a_sandbox()
    {
        var tree = Tree().File("/sys/kernel/mm/ksm/run", "0");
        var error = Assert.Throws<VirtToolsException>(() => VirtHostSandbox.Open(tree.Path));
        Assert.Equal(SandboxErrors.NotASandboxId, error.ErrorId);
        Assert.True(Directory.Exists(tree.Path));
    }

    [Fact]
    public void A_sandbox_is_refused_inside_the_forbidden_folder_and_allowed_beside_it()
    {
        var error = Assert.Throws<VirtToolsException>(() => VirtHostSandbox.CheckPlacement("/tmp/testdrive-1/host", "/tmp/testdrive-1"));
        Assert.Equal(SandboxErrors.InsideTestDriveId, error.ErrorId);
        VirtHostSandbox.CheckPlacement("/tmp/testdrive-10/host", "/tmp/testdrive-1");
        VirtHostSandbox.CheckPlacement("/tmp/elsewhere", null);
    }

    [Fact]
    public void An_archive_that_reaches_outside_through_a_link_it_made_is_refused_and_nothing_lands_there()
    {
        var outside = Tree();
        var archive = Path.Combine(Tree().Path, "hostile.tgz");
        using (var file = File.Create(archive))
        using (var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
        using (var tar = new System.Formats.Tar.TarWriter(gzip))
        {
            tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.SymbolicLink, "./sys") { LinkName = outside.Path });
            var planted = new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "./sys/planted") { DataStream = new MemoryStream(new byte[] { 1 }) };
            tar.WriteEntry(planted);
        }
        var error = Assert.Throws<VirtToolsException>(() => VirtHostSandbox.FromSnapshot(archive, Path.Combine(Tree().Path, "sandbox")));
        Assert.Equal(SandboxErrors.SnapshotInvalidId, error.ErrorId);
        Assert.False(File.Exists(Path.Combine(outside.Path, "planted")));
    }

    [Fact]
    public void A_sandbox_is_made_only_in_a_new_or_empty_folder()
    {
        var tree = Tree().File("/something", "x");
        var error = Assert.Throws<VirtToolsException>(() => VirtHostSandbox.FromFixture(tree.Path));
        Assert.Equal(SandboxErrors.PathNotEmptyId, error.ErrorId);
    }

    [Fact]
    public void The_default_place_is_a_new_folder_under_the_temp_directory()
    {
        var path = VirtHostSandbox.DefaultPath();
        Assert.StartsWith(Path.GetTempPath(), path, StringComparison.Ordinal);
        Assert.False(Directory.Exists(path));
    }

    public void Dispose()
    {
        foreach (var sandbox in _sandboxes) sandbox.Remove();
        foreach (var tree in _trees) tree.Dispose();
    }
}
