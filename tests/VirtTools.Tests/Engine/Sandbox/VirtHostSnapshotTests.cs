using System.Formats.Tar;
using System.IO.Compression;
using VirtTools.Pci;
using VirtTools.Sandbox;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Sandbox;

/// <summary>
/// A snapshot holds what VirtTools reads of a host and nothing else, with links as links, and is what a sandbox is
/// made from. The host here is a tree laid out as a live one is, with the things a snapshot must leave out.
/// </summary>
public sealed class VirtHostSnapshotTests : IDisposable
{
    private const string Nic = "/sys/devices/pci0000:00/0000:00:02.0";
    private readonly TemporaryTree _host = new("snapshot-host");
    private readonly TemporaryTree _out = new("snapshot-out");

    public VirtHostSnapshotTests()
    {
        _host.File(Nic + "/vendor", "0x8086").File(Nic + "/device", "0x100e").File(Nic + "/class", "0x020000")
            .Bytes(Nic + "/config", new byte[] { 0x86, 0x80, 0x0e, 0x10 })
            .Bytes(Nic + "/resource0", new byte[4096]).Bytes(Nic + "/rom", new byte[] { 0x55, 0xaa })
            .Link(Nic + "/driver", "../../../bus/pci/drivers/e1000")
            .Directory("/sys/bus/pci/drivers/e1000").Link("/sys/bus/pci/devices/0000:00:02.0", "../../../devices/pci0000:00/0000:00:02.0")
            .Link("/sys/class/dmi/id", "../../devices/virtual/dmi/id")
            .File("/sys/devices/virtual/dmi/id/sys_vendor", "QEMU").File("/sys/devices/virtual/dmi/id/product_serial", "SECRET-1")
            .File("/sys/kernel/mm/ksm/run", "0").File("/sys/module/kvm/refcnt", "1").File("/sys/module/kvm_intel/parameters/nested", "Y")
            .Bytes("/sys/firmware/acpi/tables/DMAR", new byte[] { 1, 2, 3 })
            .File("/sys/devices/system/cpu/online", "0-3")
            .File("/proc/cpuinfo", "flags : vmx").File("/proc/1/environ", "SECRET=2")
            .Link("/proc/self", "1").File("/proc/1/mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1 rw")
            .Link("/proc/mounts", "self/mounts").File("/proc/1/mounts", "/dev/sda1 / ext4 rw 0 0")
            .File("/proc/1/cmdline", "mysql\0--password=SECRET-3\0", newline: false)
            .File("/proc/42/cmdline", "/usr/bin/qemu-system-x86_64\0-name\0guest=web1\0", newline: false)
            .File("/proc/42/comm", "qemu-system-x86").Link("/proc/42/fd/3", "/dev/vfio/2").Link("/proc/42/fd/4", "/dev/null")
            .File("/dev/kvm", "not a real node").File("/dev/vfio/2", "").File("/dev/sda", "disk contents")
            .File("/etc/modprobe.d/virttools-vfio-pci.conf", "options vfio-pci ids=8086:100e").File("/etc/modprobe.d/other.conf", "x")
            .File("/home/user/notes", "private");
    }

    private Dictionary<string, TarEntry> Save()
    {
        var archive = Path.Combine(_out.Path, "host.tgz");
        VirtHostSnapshot.Save(new SystemRoot(_host.Path), archive);
        var entries = new Dictionary<string, TarEntry>(StringComparer.Ordinal);
        using var gzip = new GZipStream(File.OpenRead(archive), CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        while (reader.GetNextEntry(copyData: true) is { } entry) entries[entry.Name.TrimEnd('/')] = entry;
        return entries;
    }

    private static string Content(TarEntry entry)
    {
        if (entry.DataStream is null) return "";
        using var text = new StreamReader(entry.DataStream);
        return text.ReadToEnd();
    }

    [Fact]
    public void Attributes_the_readers_use_are_in_with_their_contents()
    {
        var entries = Save();
        Assert.Equal("0x8086\n", Content(entries["./" + Nic.TrimStart('/') + "/vendor"]));
        Assert.Equal(4, entries["./" + Nic.TrimStart('/') + "/config"].Length);
        Assert.Equal("0\n", Content(entries["./sys/kernel/mm/ksm/run"]));
        Assert.Equal("Y\n", Content(entries["./sys/module/kvm_intel/parameters/nested"]));
        Assert.Equal("flags : vmx\n", Content(entries["./proc/cpuinfo"]));
        Assert.Equal("options vfio-pci ids=8086:100e\n", Content(entries["./etc/modprobe.d/virttools-vfio-pci.conf"]));
    }

    [Fact]
    public void Symlinks_stay_symlinks_with_their_targets_as_written_and_the_trees_they_name_are_taken()
    {
        var entries = Save();
        Assert.Equal(TarEntryType.SymbolicLink, entries["./sys/bus/pci/devices/0000:00:02.0"].EntryType);
        Assert.Equal("../../../bus/pci/drivers/e1000", entries["./" + Nic.TrimStart('/') + "/driver"].LinkName);
        Assert.Equal("../../devices/virtual/dmi/id", entries["./sys/class/dmi/id"].LinkName);
        Assert.Equal("QEMU\n", Content(entries["./sys/devices/virtual/dmi/id/sys_vendor"]));
        Assert.Equal("1", entries["./proc/self"].LinkName);
        Assert.True(entries.ContainsKey("./proc/1/mountinfo"));
        Assert.Equal("/dev/vfio/2", entries["./proc/42/fd/3"].LinkName);
    }

    [Fact]
    public void A_link_whose_target_passes_through_another_link_is_followed_link_by_link()
    {
        var entries = Save();
        Assert.Equal("self/mounts", entries["./proc/mounts"].LinkName);
        Assert.Equal(TarEntryType.SymbolicLink, entries["./proc/self"].EntryType);
        Assert.Equal("/dev/sda1 / ext4 rw 0 0\n", Content(entries["./proc/1/mounts"]));
    }

    [Fact]
    public void Binary_windows_device_contents_and_machine_serials_stay_empty_placeholders()
    {
        var entries = Save();
        foreach (var placeholder in new[] { Nic.TrimStart('/') + "/resource0", Nic.TrimStart('/') + "/rom", "dev/kvm", "dev/vfio/2",
                     "sys/firmware/acpi/tables/DMAR", "sys/devices/virtual/dmi/id/product_serial", "sys/module/kvm" })
            Assert.True(entries["./" + placeholder].Length == 0, placeholder);
    }

    [Fact]
    public void What_VirtTools_never_reads_is_left_out()
    {
        var entries = Save();
        Assert.True(entries.ContainsKey("./proc/42/cmdline"));
        foreach (var absent in new[] { "home/user/notes", "dev/sda", "proc/1/environ", "proc/1/cmdline", "proc/42/fd/4", "etc/modprobe.d/other.conf",
                     "sys/devices/system/cpu/online", "sys/module/kvm/refcnt" })
            Assert.False(entries.ContainsKey("./" + absent), absent);
    }

    [Fact]
    public void A_sandbox_made_from_a_snapshot_of_the_captured_host_reads_as_that_host()
    {
        var archive = Path.Combine(_out.Path, "fixture.tgz");
        VirtHostSnapshot.Save(new SystemRoot(CapturedFixture.Shared), archive);
        var sandbox = VirtHostSandbox.FromSnapshot(archive, Path.Combine(_out.Path, "sandbox"));
        try
        {
            var expected = new PciDeviceReader(new SystemRoot(CapturedFixture.Shared)).GetDevices().Select(d => (d.Address.ToString(), d.Driver));
            var actual = new PciDeviceReader(new SystemRoot(sandbox.Root)).GetDevices().Select(d => (d.Address.ToString(), d.Driver));
            Assert.Equal(expected, actual);
            Assert.Equal(archive, sandbox.Source);
        }
        finally { sandbox.Remove(); }
    }

    public void Dispose()
    {
        _host.Dispose();
        _out.Dispose();
    }
}
