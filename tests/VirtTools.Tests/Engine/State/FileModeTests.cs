using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.State;

/// <summary>
/// Issue 14, item 5: files VirtTools owns get their mode from VirtTools, not from the umask. A child `virttools`
/// runs with umask 002 (which made modprobe.d and passthrough.json group-writable) and writes each kind of file.
/// </summary>
public sealed class FileModeTests : IDisposable
{
    private const UnixFileMode Public = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly TemporaryTree _tree = new("file-modes");

    [Fact]
    public void Under_umask_002_state_modprobe_d_and_profile_files_are_0644_and_the_lock_and_snapshot_0600()
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("Linux file modes.");
        var root = _tree.Path;
        _tree.File("/sys/kernel/mm/ksm/run", "0");
        RecordLockTests.Finish(RecordLockTests.Virttools(
            $"$r = [VirtTools.Sysfs.SystemRoot]::new('{root}'); " +
            "$rec = [VirtTools.Pci.PassthroughRecord]@{ Address = '0000:00:01.0'; Driver = 'vfio-pci'; OriginalDriver = 'xhci_hcd'; VendorId = '1b36'; DeviceId = '000d'; Persisted = $true }; " +
            "[VirtTools.Pci.PassthroughStateStore]::new($r).Commit([VirtTools.Pci.PassthroughRecord[]]@($rec), [string[]]@(), [string[]]@('vfio-pci')); " +
            "[VirtTools.UsbIp.Host.UsbIpExportRecord]::Store($r).Save([VirtTools.UsbIp.Host.UsbIpExportRecord]@{ BusId = '1-1' }); " +
            $"Export-VirtHostConfig -Root '{root}' -Path '{root}/etc/virttools/host.yaml'; " +
            $"$null = [VirtTools.Sandbox.VirtHostSnapshot]::Save($r, '{root}/host.tgz')",
            umask: "002"));
        Assert.Equal(Public, File.GetUnixFileMode(_tree.Resolve("/var/lib/virttools/passthrough.json")));
        Assert.Equal(Public, File.GetUnixFileMode(_tree.Resolve("/etc/modprobe.d/virttools-vfio-pci.conf")));
        Assert.Equal(Public, File.GetUnixFileMode(_tree.Resolve("/run/virttools/usbip-exports.json")));
        Assert.Equal(Public, File.GetUnixFileMode(_tree.Resolve("/etc/virttools/host.yaml")));
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(_tree.Resolve("/var/lib/virttools/passthrough.json.lock")));
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(_tree.Resolve("/host.tgz")));
    }

    public void Dispose() => _tree.Dispose();
}
