using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Sysfs;

/// <summary>
/// Attribute writes under a -Root tree whose symlinks point out of it (issue 14, item 6): an absolute link is taken
/// relative to the root, a "../" link that climbs above the root is refused, and nothing outside the tree changes.
/// </summary>
public sealed class RootConfinementTests : IDisposable
{
    private const string Sockfd = "/sys/bus/usb/devices/1-1/usbip_sockfd";
    private readonly TemporaryTree _tree = new("confined");
    private readonly TemporaryTree _outside = new("outside");

    private SystemRoot Root => new(_tree.Path);

    private string Victim => _outside.Resolve("/victim");

    public RootConfinementTests() => _outside.File("/victim", "untouched");

    [Fact]
    public void An_attribute_that_is_an_absolute_link_to_a_host_file_is_resolved_under_the_root_and_the_host_file_is_untouched()
    {
        // As the finding had it: usbip_sockfd -> /tmp/.../victim, an absolute path on the host.
        _tree.Directory("/sys/bus/usb/devices/1-1").Link(Sockfd, Victim);
        var error = Assert.Throws<KernelWriteException>(() => SysfsWriter.Write(Root, Sockfd, "5"));
        Assert.Equal("KernelAttributeNotFound", error.ErrorId);
        Assert.Equal("untouched\n", File.ReadAllText(Victim));
    }

    [Fact]
    public void An_absolute_link_lands_on_the_same_path_inside_the_root_as_the_kernel_would_if_the_tree_were_slash()
    {
        _tree.File(Victim, "inside").Directory("/sys/bus/usb/devices/1-1").Link(Sockfd, Victim);
        SysfsWriter.Write(Root, Sockfd, "5");
        Assert.Equal("5\n", _tree.Read(Victim));
        Assert.Equal("untouched\n", File.ReadAllText(Victim));
    }

    [Fact]
    public void An_attribute_that_is_a_dotdot_link_out_of_the_root_is_refused_with_PathOutsideRoot()
    {
        var climb = string.Concat(Enumerable.Repeat("../", 12)) + Victim.TrimStart('/');
        _tree.Directory("/sys/bus/usb/devices/1-1").Link(Sockfd, climb);
        var error = Assert.Throws<VirtToolsException>(() => SysfsWriter.Write(Root, Sockfd, "5"));
        Assert.Equal(RootConfinement.PathOutsideRootId, error.ErrorId);
        Assert.Equal(Sockfd, error.Target);
        Assert.Equal("untouched\n", File.ReadAllText(Victim));
    }

    [Fact]
    public void A_device_folder_that_links_out_of_the_root_is_refused_too()
    {
        // The folder on the way, not the attribute, is the link: /sys/bus/usb/devices/1-1 -> ../../../../<outside>.
        _outside.File("/usbip_sockfd", "untouched");
        _tree.Link("/sys/bus/usb/devices/1-1", "../../../../" + Path.GetRelativePath(_tree.Path, _outside.Path));
        var error = Assert.Throws<VirtToolsException>(() => SysfsWriter.Write(Root, Sockfd, "5"));
        Assert.Equal(RootConfinement.PathOutsideRootId, error.ErrorId);
        Assert.Equal("untouched\n", _outside.Read("/usbip_sockfd"));
    }

    [Fact]
    public void Relative_links_inside_the_root_are_followed_as_sysfs_uses_them()
    {
        _tree.File("/sys/devices/pci0000:00/0000:00:01.0/driver_override", "(null)")
            .Link("/sys/bus/pci/devices/0000:00:01.0", "../../../devices/pci0000:00/0000:00:01.0");
        SysfsWriter.Write(Root, "/sys/bus/pci/devices/0000:00:01.0/driver_override", "vfio-pci");
        Assert.Equal("vfio-pci\n", _tree.Read("/sys/devices/pci0000:00/0000:00:01.0/driver_override"));
    }

    [Fact]
    public void A_link_loop_is_refused_rather_than_walked_without_end()
    {
        _tree.Directory("/sys/a").Link("/sys/a/loop", "loop");
        var error = Assert.Throws<VirtToolsException>(() => SysfsWriter.Write(Root, "/sys/a/loop/x", "1"));
        Assert.Equal(RootConfinement.PathOutsideRootId, error.ErrorId);
    }

    [Fact]
    public void The_live_root_is_left_to_the_kernel() =>
        Assert.Equal("/sys/bus/usb/devices/1-1/usbip_sockfd", SystemRoot.Live.ResolveForWrite(Sockfd));

    public void Dispose()
    {
        _tree.Dispose();
        _outside.Dispose();
    }
}
