using System.Runtime.InteropServices;
using VirtTools.Tests.Support;
using VirtTools.Usb;
using VirtTools.UsbIp.Containers;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp.Containers;

/// <summary>
/// Taking a node back inside a container's root without the host's node: only that device is unlinked, and the
/// container's symlinks resolve inside its root. Device nodes are made with mknod, which needs root (CAP_MKNOD).
/// </summary>
public sealed class ContainerNodeFileTests : IDisposable
{
    private static readonly DeviceNode Usb = new("/dev/bus/usb/004/002", false, 189, 385);

    private readonly TemporaryTree _container = new("container-root");

    public void Dispose() => _container.Dispose();

    private bool Exists(string path) => new FileInfo(_container.Resolve(path)).Exists || new FileInfo(_container.Resolve(path)).LinkTarget is not null;

    [RootFact]
    public void The_node_is_removed_when_it_is_still_that_device()
    {
        MakeNode(_container.Resolve(Usb.Path), character: true, 189, 385);
        Assert.True(ContainerNodeFile.Remove(_container.Path, Usb));
        Assert.False(Exists(Usb.Path));
    }

    [RootFact]
    public void A_node_of_another_number_or_type_is_left()
    {
        MakeNode(_container.Resolve(Usb.Path), character: true, 189, 386);
        MakeNode(_container.Resolve("/dev/sda"), character: true, 8, 0);
        Assert.False(ContainerNodeFile.Remove(_container.Path, Usb));
        Assert.False(ContainerNodeFile.Remove(_container.Path, new DeviceNode("/dev/sda", true, 8, 0)));
        Assert.True(Exists(Usb.Path) && Exists("/dev/sda"));
    }

    [RootFact]
    public void A_symlink_the_container_planted_in_its_dev_resolves_inside_the_container_never_on_the_host()
    {
        using var host = new TemporaryTree("host-dev");
        MakeNode(host.Resolve("/bus/usb/004/002"), character: true, 189, 385); // the very device, outside the container
        _container.Directory("/");
        File.CreateSymbolicLink(_container.Resolve("/dev"), host.Path); // an absolute link: the host's path
        Assert.False(ContainerNodeFile.Remove(_container.Path, Usb)); // resolved inside the container: not there (a loop, here)
        Assert.True(File.Exists(host.Resolve("/bus/usb/004/002")));
        File.Delete(_container.Resolve("/dev"));
        File.CreateSymbolicLink(_container.Resolve("/dev"), "../../../../../../../../" + host.Path.TrimStart('/')); // climbing out
        Assert.False(ContainerNodeFile.Remove(_container.Path, Usb));
        Assert.True(File.Exists(host.Resolve("/bus/usb/004/002")));
    }

    [Fact]
    public void A_symlink_or_a_file_at_the_path_is_left_and_nothing_there_is_no_error()
    {
        _container.File("/dev/sda", "a file").Directory("/dev/bus/usb/004");
        File.CreateSymbolicLink(_container.Resolve(Usb.Path), "/dev/null");
        Assert.False(ContainerNodeFile.Remove(_container.Path, Usb));
        Assert.False(ContainerNodeFile.Remove(_container.Path, new DeviceNode("/dev/sda", true, 8, 0)));
        Assert.False(ContainerNodeFile.Remove(_container.Path, new DeviceNode("/dev/hidraw3", false, 243, 3)));
        Assert.True(Exists(Usb.Path) && Exists("/dev/sda"));
    }

    private static void MakeNode(string path, bool character, int major, int minor)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var type = character ? 0x2000u : 0x6000u;
        ulong ma = (uint)major, mi = (uint)minor; // glibc's makedev
        var device = ((ma & 0xfff) << 8) | (mi & 0xff) | ((mi & ~0xffUL) << 12) | ((ma & ~0xfffUL) << 32);
        Assert.True(Mknod(path, type | 0x180u, device) == 0, $"mknod {path}: errno {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", EntryPoint = "mknod", SetLastError = true)]
    private static extern int Mknod([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode, ulong device);

    /// <summary>A test that makes device nodes: it runs as root only (mknod needs CAP_MKNOD).</summary>
    private sealed class RootFactAttribute : FactAttribute
    {
        public RootFactAttribute()
        {
            if (!Environment.IsPrivilegedProcess) Skip = "mknod needs root (CAP_MKNOD): run the tests as root to make device nodes.";
        }
    }
}
