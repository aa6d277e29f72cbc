using VirtTools.Config;
using VirtTools.Diagnostics;
using VirtTools.Pci;
using VirtTools.Sandbox;
using VirtTools.State;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using VirtTools.UsbIp.Host;
using Xunit;

namespace VirtTools.Tests.Engine.State;

/// <summary>
/// Issue 14, item 5: a symlink planted at any name a VirtTools file writer used (the fixed "&lt;file&gt;.tmp", the
/// snapshot's ".partial"), at the lock file or at the target itself never turns a write into an overwrite of what
/// it points at. Each victim lives outside the tree and must read "untouched" afterwards.
/// </summary>
public sealed class PlantedSymlinkTests : IDisposable
{
    private readonly TemporaryTree _tree = new("planted");
    private readonly TemporaryTree _outside = new("victim");

    public PlantedSymlinkTests() => _outside.File("/victim", "untouched");

    private SystemRoot Root => new(_tree.Path);

    private string Victim => _outside.Resolve("/victim");

    private static PassthroughRecord Record(string address = "0000:00:01.0") => new()
    {
        Address = address, Driver = "vfio-pci", OriginalDriver = "xhci_hcd", VendorId = "1b36", DeviceId = "000d", Persisted = true,
    };

    private void Save(PassthroughRecord record) => new PassthroughStateStore(Root).Commit(new[] { record }, Array.Empty<string>(), Array.Empty<string>());

    private void AssertVictimUntouched() => Assert.Equal("untouched\n", File.ReadAllText(Victim));

    [Theory]
    [InlineData(PassthroughStateStore.SystemPath + ".tmp")]
    [InlineData("/etc/modprobe.d/virttools-vfio-pci.conf.tmp")]
    public void A_link_at_the_old_fixed_temporary_name_is_never_written_through(string plantedAt)
    {
        _tree.Link(plantedAt, Victim);
        new PassthroughStateStore(Root).Commit(new[] { Record() }, Array.Empty<string>(), new[] { "vfio-pci" });
        AssertVictimUntouched();
        Assert.Equal("0000:00:01.0", Assert.Single(new PassthroughStateStore(Root).Load()).Key);
        Assert.Contains("options vfio-pci ids=1b36:000d", _tree.Read(ModprobePersistence.FilePath("vfio-pci")));
    }

    [Fact]
    public void A_link_at_the_export_records_old_temporary_name_is_never_written_through()
    {
        _tree.Link(UsbIpExportRecord.SystemPath + ".tmp", Victim);
        UsbIpExportRecord.Store(Root).Save(new UsbIpExportRecord { BusId = "1-1", OriginalDriver = "usb" });
        AssertVictimUntouched();
        Assert.Equal("usb", UsbIpExportRecord.Store(Root).Find("1-1")?.OriginalDriver);
    }

    [Theory]
    [InlineData(PassthroughStateStore.SystemPath)]
    [InlineData(PassthroughStateStore.SystemPath + ".lock")]
    [InlineData("/etc/modprobe.d/virttools-vfio-pci.conf")]
    public void A_link_at_the_state_file_its_lock_or_the_modprobe_file_is_refused_as_StateFileIsSymlink(string plantedAt)
    {
        _tree.Link(plantedAt, Victim);
        var error = Assert.Throws<VirtToolsException>(() =>
            new PassthroughStateStore(Root).Commit(new[] { Record() }, Array.Empty<string>(), new[] { "vfio-pci" }));
        Assert.Equal(StateErrors.FileIsSymlinkId, error.ErrorId);
        AssertVictimUntouched();
        Assert.NotNull(new FileInfo(_tree.Resolve(plantedAt)).LinkTarget);
    }

    [Fact]
    public void Deleting_the_last_record_through_a_link_at_the_state_file_is_refused_too()
    {
        Save(Record());
        File.Delete(_tree.Resolve(PassthroughStateStore.SystemPath));
        _tree.Link(PassthroughStateStore.SystemPath, Victim);
        var remove = () => new PassthroughStateStore(Root).Commit(Array.Empty<PassthroughRecord>(), new[] { "0000:00:01.0" }, Array.Empty<string>());
        Assert.Equal(StateErrors.FileIsSymlinkId, Assert.Throws<VirtToolsException>(remove).ErrorId);
        AssertVictimUntouched();
    }

    [Fact]
    public void A_state_folder_that_links_out_of_the_root_is_refused_as_PathOutsideRoot()
    {
        _tree.Link("/var/lib/virttools", "../../../" + Path.GetRelativePath(_tree.Path, _outside.Path));
        var error = Assert.Throws<VirtToolsException>(() => Save(Record()));
        Assert.Equal(RootConfinement.PathOutsideRootId, error.ErrorId);
        Assert.Equal(new[] { "victim" }, Directory.GetFileSystemEntries(_outside.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void A_state_folder_that_is_an_absolute_link_lands_inside_the_root()
    {
        _tree.Link("/var/lib/virttools", _outside.Path);
        Save(Record());
        Assert.Equal(new[] { "victim" }, Directory.GetFileSystemEntries(_outside.Path).Select(Path.GetFileName));
        Assert.True(File.Exists(_tree.Resolve(_outside.Path + "/passthrough.json")));
    }

    [Fact]
    public void An_exported_profile_refuses_a_link_at_its_path()
    {
        var path = _tree.Resolve("/etc/virttools/host.yaml");
        _tree.Link("/etc/virttools/host.yaml", Victim);
        Assert.Equal(StateErrors.FileIsSymlinkId, Assert.Throws<VirtToolsException>(() => VirtHostConfigWriter.Save(path, "{}\n")).ErrorId);
        AssertVictimUntouched();
    }

    [Fact]
    public void A_snapshot_is_not_written_through_a_link_at_the_old_partial_name_and_refuses_one_at_its_own_name()
    {
        var archive = _tree.Resolve("/snapshots/host.tgz");
        _tree.Link("/snapshots/host.tgz.partial", Victim);
        using var source = new TemporaryTree("snapshot-source");
        source.File("/sys/kernel/mm/ksm/run", "0");
        VirtHostSnapshot.Save(new SystemRoot(source.Path), archive);
        AssertVictimUntouched();
        Assert.True(new FileInfo(archive).Length > 0);

        File.Delete(archive);
        _tree.Link("/snapshots/host.tgz", Victim);
        Assert.Equal(StateErrors.FileIsSymlinkId,
            Assert.Throws<VirtToolsException>(() => VirtHostSnapshot.Save(new SystemRoot(source.Path), archive)).ErrorId);
        AssertVictimUntouched();
    }

    [Fact]
    public void A_failed_write_leaves_the_old_file_and_no_temporary_file_behind()
    {
        var path = _tree.Resolve("/etc/virttools/host.yaml");
        _tree.File("/etc/virttools/host.yaml", "old");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, AtomicFile.Public, stream =>
        {
            stream.Write("half"u8);
            throw new InvalidOperationException("the writer failed halfway");
        }));
        Assert.Equal("old\n", File.ReadAllText(path));
        Assert.Equal(new[] { "host.yaml" }, Directory.GetFileSystemEntries(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
    }

    public void Dispose()
    {
        _tree.Dispose();
        _outside.Dispose();
    }
}
