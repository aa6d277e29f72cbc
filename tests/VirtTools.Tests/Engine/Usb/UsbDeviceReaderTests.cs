using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using VirtTools.Usb;
using VirtTools.UsbIp;
using Xunit;

namespace VirtTools.Tests.Engine.Usb;

public sealed class UsbDeviceReaderTests
{
    private static UsbDeviceReader Captured => new(new SystemRoot(CapturedFixture.Shared));

    [Fact]
    public void Every_device_and_root_hub_of_the_captured_kernel_is_listed_in_bus_order()
    {
        var ids = Captured.GetBusIds();
        Assert.Equal(new[] { "1-1", "1-2", "2-3", "4-1" }, ids.Where(id => !id.IsRootHub).Select(id => id.ToString()));
        Assert.Equal(18, ids.Count(id => id.IsRootHub));
        Assert.Equal("usb1", ids[0].ToString());
    }

    [Fact]
    public void A_device_carries_both_identities_the_port_path_and_the_bus_and_device_numbers()
    {
        var disk = Captured.Find(UsbBusId.Parse("2-3"))!;
        Assert.Equal("2-3", disk.BusId.ToString());
        Assert.Equal(2, disk.BusNumber);
        Assert.Equal(2, disk.DeviceNumber);
        Assert.Equal("/dev/bus/usb/002/002", disk.DevicePath);
        Assert.Equal(new[] { 3 }, disk.PortPath);
        Assert.Equal("usb2", disk.ParentBusId.ToString());
        Assert.Equal("/sys/devices/pci0000:00/0000:00:01.0/usb2/2-3", disk.SysfsPath);
        Assert.Equal(CapturedFixture.Shared, disk.Root);
    }

    [Fact]
    public void Ids_strings_speed_and_descriptor_fields_are_read_as_the_kernel_prints_them()
    {
        var disk = Captured.Find(UsbBusId.Parse("2-3"))!;
        Assert.Equal("46f4", disk.VendorId);
        Assert.Equal("0001", disk.ProductId);
        Assert.Equal("QEMU", disk.Manufacturer);
        Assert.Equal("QEMU USB HARDDRIVE", disk.Product);
        Assert.Equal("LAB0001", disk.SerialNumber);
        Assert.Equal(5000.0, disk.SpeedMbps);
        Assert.Equal(UsbSpeed.Super, disk.Speed);
        Assert.Equal("3.00", disk.UsbVersion);
        Assert.Equal("00", disk.DeviceClass);
        Assert.Equal(1, disk.Configuration);
        Assert.Equal(1, disk.InterfaceCount);
    }

    [Fact]
    public void Interfaces_carry_their_class_codes_and_driver()
    {
        var keyboard = Captured.Find(UsbBusId.Parse("1-1"))!;
        var only = Assert.Single(keyboard.Interfaces);
        Assert.Equal("1-1:1.0", only.Name);
        Assert.Equal(0, only.Number);
        Assert.Equal(("03", "01", "01"), (only.Class, only.SubClass, only.Protocol));
        Assert.Equal("usbhid", only.Driver);
        Assert.Equal("usb", keyboard.Driver);
        Assert.Equal(new[] { "usbhid" }, keyboard.InterfaceDrivers);
    }

    [Fact]
    public void A_device_bound_to_usbip_host_is_exported_with_its_usbip_status()
    {
        var disk = Captured.Find(UsbBusId.Parse("2-3"))!;
        Assert.True(disk.IsExported);
        Assert.Equal(UsbIpStatus.InUse, disk.UsbIpStatus);
        Assert.False(disk.IsImported);
        Assert.Null(Assert.Single(disk.Interfaces).Driver); // usbip-host took the whole device
    }

    [Fact]
    public void A_device_on_a_vhci_bus_is_imported_and_names_its_controller()
    {
        var imported = Captured.Find(UsbBusId.Parse("4-1"))!;
        Assert.True(imported.IsImported);
        Assert.Equal("vhci_hcd.0", imported.VhciController);
        Assert.False(imported.IsExported);
        Assert.Null(imported.UsbIpStatus);
        Assert.Equal("usb-storage", Assert.Single(imported.Interfaces).Driver);
    }

    [Fact]
    public void Root_hubs_are_hubs_and_a_vhci_root_hub_is_not_an_imported_device()
    {
        var reader = Captured;
        var xhci = reader.Find(UsbBusId.Parse("usb1"))!;
        Assert.True(xhci.IsHub);
        Assert.Empty(xhci.PortPath);
        Assert.Null(xhci.ParentBusId);
        var vhci = reader.Find(UsbBusId.Parse("usb4"))!;
        Assert.True(vhci.IsHub);
        Assert.False(vhci.IsImported);
        Assert.Equal("vhci_hcd.0", vhci.VhciController);
    }

    [Fact]
    public void An_unknown_bus_id_finds_nothing() => Assert.Null(Captured.Find(UsbBusId.Parse("9-9")));

    [Fact]
    public void Names_come_from_usb_ids_under_the_root()
    {
        using var tree = CapturedFixture.CreateCopy();
        tree.File("/usr/share/misc/usb.ids", "46f4  QEMU\n\t0001  QEMU Disk\nC 08  Mass Storage\n\t06  SCSI\n");
        var disk = new UsbDeviceReader(new SystemRoot(tree.Path)).Find(UsbBusId.Parse("2-3"))!;
        Assert.Equal("QEMU", disk.VendorName);
        Assert.Equal("QEMU Disk", disk.ProductName);
        Assert.Equal("Mass Storage", Assert.Single(disk.Interfaces).ClassName);
    }

    [Fact]
    public void Names_come_from_the_usb_ids_database_Debian_installs()
    {
        const string installed = "/usr/share/misc/usb.ids";
        Assert.True(File.Exists(installed), $"{installed} is missing: install the Debian package usb.ids");
        using var tree = CapturedFixture.CreateCopy();
        tree.Link(installed, installed);
        var hub = new UsbDeviceReader(new SystemRoot(tree.Path)).Find(UsbBusId.Parse("usb1"))!;
        Assert.Equal("Linux Foundation", hub.VendorName);
        Assert.Equal("2.0 root hub", hub.ProductName);
        Assert.Equal("Hub", hub.DeviceClassName);
    }

    [Fact]
    public void Without_usb_ids_in_the_tree_or_on_the_system_names_are_null()
    {
        using var bareSystem = new TemporaryTree("system");
        var disk = new UsbDeviceReader(new SystemRoot(CapturedFixture.Shared), new SystemRoot(bareSystem.Path)).Find(UsbBusId.Parse("2-3"))!;
        Assert.Equal((null, null, null), (disk.VendorName, disk.ProductName, disk.NameSource));
        Assert.Equal("QEMU USB HARDDRIVE", disk.Description);
    }

    [Fact]
    public void A_tree_without_usb_ids_is_named_from_the_system_s_and_says_so()
    {
        using var system = new TemporaryTree("system").File("/usr/share/misc/usb.ids", "46f4  QEMU\n\t0001  QEMU USB HARDDRIVE (test name)\n");
        var disk = new UsbDeviceReader(new SystemRoot(CapturedFixture.Shared), new SystemRoot(system.Path)).Find(UsbBusId.Parse("2-3"))!;
        Assert.Equal(("QEMU", "QEMU USB HARDDRIVE (test name)"), (disk.VendorName, disk.ProductName));
        Assert.Equal(system.Resolve("/usr/share/misc/usb.ids"), disk.NameSource);
    }

    [Fact]
    public void A_root_without_sys_bus_usb_has_no_devices()
    {
        using var tree = new TemporaryTree().Directory("/sys");
        var reader = new UsbDeviceReader(new SystemRoot(tree.Path));
        Assert.Empty(reader.GetDevices());
        Assert.Null(reader.Find(UsbBusId.Parse("1-1")));
    }

    [Fact]
    public void Missing_attribute_files_read_as_null_not_zero()
    {
        using var tree = new TemporaryTree()
            .Directory("/sys/devices/pci0000:00/usb1/1-4")
            .Link("/sys/bus/usb/devices/1-4", "../../../devices/pci0000:00/usb1/1-4");
        var device = new UsbDeviceReader(new SystemRoot(tree.Path)).Find(UsbBusId.Parse("1-4"))!;
        Assert.Equal(1, device.BusNumber); // from the name when busnum is missing
        Assert.Null(device.DeviceNumber);
        Assert.Null(device.DevicePath);
        Assert.Null(device.VendorId);
        Assert.Null(device.SpeedMbps);
        Assert.Equal(UsbSpeed.Unknown, device.Speed);
        Assert.Null(device.Configuration);
        Assert.Null(device.Driver);
        Assert.Null(device.Description);
        Assert.Empty(device.Interfaces);
    }

    [Fact]
    public void Garbage_in_attribute_files_reads_as_null()
    {
        using var tree = new TemporaryTree();
        const string dir = "/sys/devices/pci0000:00/usb1/1-4";
        foreach (var attribute in new[] { "idVendor", "idProduct", "busnum", "devnum", "speed", "bDeviceClass", "bConfigurationValue" })
            tree.File($"{dir}/{attribute}", "zz\u0001garbage");
        tree.File($"{dir}/manufacturer", "").Link("/sys/bus/usb/devices/1-4", "../../../devices/pci0000:00/usb1/1-4");
        var device = new UsbDeviceReader(new SystemRoot(tree.Path)).Find(UsbBusId.Parse("1-4"))!;
        Assert.Null(device.VendorId);
        Assert.Null(device.ProductId);
        Assert.Null(device.DeviceNumber);
        Assert.Null(device.SpeedMbps);
        Assert.Null(device.DeviceClass);
        Assert.Null(device.Configuration);
        Assert.Null(device.Manufacturer);
        Assert.False(device.IsHub);
    }

    [Fact]
    public void A_hub_behind_a_port_is_a_hub_and_its_children_name_it_as_parent()
    {
        using var tree = new TemporaryTree()
            .File("/sys/devices/pci0000:00/usb1/1-1/bDeviceClass", "09")
            .File("/sys/devices/pci0000:00/usb1/1-1/1-1.4/bDeviceClass", "00")
            .Link("/sys/bus/usb/devices/1-1", "../../../devices/pci0000:00/usb1/1-1")
            .Link("/sys/bus/usb/devices/1-1.4", "../../../devices/pci0000:00/usb1/1-1/1-1.4");
        var reader = new UsbDeviceReader(new SystemRoot(tree.Path));
        Assert.True(reader.Find(UsbBusId.Parse("1-1"))!.IsHub);
        var child = reader.Find(UsbBusId.Parse("1-1.4"))!;
        Assert.False(child.IsHub);
        Assert.Equal("1-1", child.ParentBusId.ToString());
        Assert.Equal(new[] { 1, 4 }, child.PortPath);
    }
    [Fact]
    public void A_hub_has_its_maxchild_as_PortCount_and_a_device_none()
    {
        Assert.Equal(4, Captured.Find(UsbBusId.Parse("usb1"))!.PortCount);
        Assert.Equal(15, Captured.Find(UsbBusId.Parse("usb4"))!.PortCount);
        Assert.Null(Captured.Find(UsbBusId.Parse("2-3"))!.PortCount);
    }

    [Fact]
    public void The_imported_stick_shows_its_disk_as_a_node_and_its_usbfs_node_only_as_DevicePath()
    {
        var stick = Captured.Find(UsbBusId.Parse("4-1"))!;
        Assert.Equal(new[] { "/dev/sda" }, stick.Nodes);
        Assert.Equal("/dev/bus/usb/004/002", stick.DevicePath);
    }

    [Fact]
    public void Nodes_list_every_kind_a_device_brings_and_a_hub_lists_none_of_its_devices()
    {
        using var tree = new TemporaryTree("reader-nodes");
        var device = VirtTools.Tests.Engine.UsbIp.Containers.UsbDeviceNodesTests.Device(tree, "5-1", "bus/usb/005/003", 189, 514);
        tree.File(device + "/idVendor", "046d\n");
        tree.File(device + "/idProduct", "c52b\n");
        VirtTools.Tests.Engine.UsbIp.Containers.UsbDeviceNodesTests.Node(tree, device + "/5-1:1.0/0003:046D:C52B.0001/hidraw/hidraw2", "hidraw2", 243, 2, "hidraw");
        VirtTools.Tests.Engine.UsbIp.Containers.UsbDeviceNodesTests.Node(tree, device + "/5-1:1.1/ttyUSB0/tty/ttyUSB0", "ttyUSB0", 188, 0, "tty");
        var hub = "/sys/devices/platform/vhci_hcd.0/usb5";
        tree.File(hub + "/maxchild", "8\n");
        tree.Link("/sys/bus/usb/devices/usb5", "../../../devices/platform/vhci_hcd.0/usb5");

        var reader = new UsbDeviceReader(new SystemRoot(tree.Path), idsSystem: new SystemRoot(tree.Path));
        var found = reader.Find(UsbBusId.Parse("5-1"))!;
        Assert.Equal(new[] { "/dev/hidraw2", "/dev/ttyUSB0" }, found.Nodes);
        Assert.Equal(new UsbId(0x046d, 0xc52b), found.UsbId);
        var root = reader.Find(UsbBusId.RootHub(5))!;
        Assert.Equal((8, 0), (root.PortCount!.Value, root.Nodes.Length));
    }
}
