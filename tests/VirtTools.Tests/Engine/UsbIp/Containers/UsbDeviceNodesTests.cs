using VirtTools.Usb;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using VirtTools.UsbIp.Containers;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp.Containers;

/// <summary>Which nodes of an imported device are given to a container, read from the captured kernel and from synthetic trees.</summary>
public sealed class UsbDeviceNodesTests
{
    [Fact]
    public void The_captured_stick_brings_its_usb_node_first_and_its_disk_as_a_block_node_and_bsg_is_left_out()
    {
        using var tree = CapturedFixture.CreateCopy();
        var nodes = UsbDeviceNodes.Find(new SystemRoot(tree.Path), UsbBusId.Parse("4-1"));
        Assert.Equal(new[]
        {
            new DeviceNode("/dev/bus/usb/004/002", IsBlock: false, 189, 385),
            new DeviceNode("/dev/sda", IsBlock: true, 8, 0),
        }, nodes);
    }

    [Fact]
    public void A_device_sysfs_does_not_show_has_no_nodes()
    {
        using var tree = CapturedFixture.CreateCopy();
        Assert.Null(UsbDeviceNodes.Find(new SystemRoot(tree.Path), UsbBusId.Parse("4-2")));
    }

    [Fact]
    public void Hidraw_serial_input_event_and_partitions_are_found_and_hiddev_and_sg_are_not()
    {
        using var tree = new TemporaryTree("nodes");
        var device = Device(tree, "5-1", "bus/usb/005/003", 189, 514);
        Node(tree, device + "/5-1:1.0/0003:046D:C52B.0001/hidraw/hidraw2", "hidraw2", 243, 2, "hidraw");
        Node(tree, device + "/5-1:1.0/usbmisc/hiddev0", "usb/hiddev0", 180, 0, "usbmisc");
        Node(tree, device + "/5-1:1.0/0003:046D:C52B.0001/input/input7/event5", "input/event5", 13, 69, "input");
        Node(tree, device + "/5-1:1.1/ttyACM0/tty/ttyACM0", "ttyACM0", 166, 0, "tty");
        Node(tree, device + "/5-1:1.2/host3/target3:0:0/3:0:0:0/block/sdb", "sdb", 8, 16, "block");
        Node(tree, device + "/5-1:1.2/host3/target3:0:0/3:0:0:0/block/sdb/sdb1", "sdb1", 8, 17, "block");
        Node(tree, device + "/5-1:1.2/host3/target3:0:0/3:0:0:0/scsi_generic/sg1", "sg1", 21, 1, "scsi_generic");

        var nodes = UsbDeviceNodes.Find(new SystemRoot(tree.Path), UsbBusId.Parse("5-1"))!;

        Assert.Equal(new[] { "/dev/bus/usb/005/003", "/dev/hidraw2", "/dev/input/event5", "/dev/sdb", "/dev/sdb1", "/dev/ttyACM0" }, nodes.Select(n => n.Path));
        Assert.Equal(new[] { "c 189:514", "c 243:2", "c 13:69", "b 8:16", "b 8:17", "c 166:0" }, nodes.Select(n => n.Rule));
    }

    [Fact]
    public void Symlinked_directories_are_not_followed_so_a_link_back_up_the_tree_ends_nothing()
    {
        using var tree = new TemporaryTree("nodes");
        var device = Device(tree, "5-1", "bus/usb/005/003", 189, 514);
        tree.Link(device + "/5-1:1.0/loop", "../..");
        tree.Link(device + "/5-1:1.0/elsewhere", "/");
        Assert.Equal(new[] { "/dev/bus/usb/005/003" }, UsbDeviceNodes.Find(new SystemRoot(tree.Path), UsbBusId.Parse("5-1"))!.Select(n => n.Path));
    }

    [Fact]
    public void A_node_name_that_could_leave_dev_or_a_device_that_is_no_usb_device_gives_nothing()
    {
        using var tree = new TemporaryTree("nodes");
        var device = Device(tree, "5-1", "../etc/passwd", 189, 514);
        Node(tree, device + "/5-1:1.0/x", "sda/../../etc/shadow", 8, 0, "block");
        Assert.Empty(UsbDeviceNodes.Find(new SystemRoot(tree.Path), UsbBusId.Parse("5-1"))!);
    }

    [Fact]
    public void The_walk_is_bounded_in_depth()
    {
        using var tree = new TemporaryTree("nodes");
        var device = Device(tree, "5-1", "bus/usb/005/003", 189, 514);
        var deep = device + string.Concat(Enumerable.Repeat("/d", UsbDeviceNodes.MaxDepth + 1));
        Node(tree, deep + "/hidraw9", "hidraw9", 243, 9, "hidraw");
        Node(tree, device + "/d/hidraw1", "hidraw1", 243, 1, "hidraw");
        Assert.Equal(new[] { "/dev/bus/usb/005/003", "/dev/hidraw1" }, UsbDeviceNodes.Find(new SystemRoot(tree.Path), UsbBusId.Parse("5-1"))!.Select(n => n.Path));
    }

    /// <summary>A USB device below a vhci root hub with its /sys/bus/usb/devices link, as the kernel shows it; returns its directory.</summary>
    internal static string Device(TemporaryTree tree, string busId, string devName, int major, int minor)
    {
        var bus = busId.Split('-')[0];
        var path = $"/sys/devices/platform/vhci_hcd.0/usb{bus}/{busId}";
        tree.File(path + "/uevent", $"MAJOR={major}\nMINOR={minor}\nDEVNAME={devName}\nDEVTYPE=usb_device\n");
        tree.Link(path + "/subsystem", "../../../../../bus/usb");
        tree.Link("/sys/bus/usb/devices/" + busId, "../../../devices/platform/vhci_hcd.0/usb" + bus + "/" + busId);
        return path;
    }

    internal static void Node(TemporaryTree tree, string path, string devName, int major, int minor, string subsystem)
    {
        tree.File(path + "/uevent", $"MAJOR={major}\nMINOR={minor}\nDEVNAME={devName}\n");
        tree.Directory("/sys/class/" + subsystem);
        tree.Link(path + "/subsystem", Path.GetRelativePath(tree.Resolve(path), tree.Resolve("/sys/class/" + subsystem)));
    }
}
