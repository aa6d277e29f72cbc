using VirtTools.Sysfs;
using VirtTools.Tests.KernelDouble;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.KernelDouble;

/// <summary>The PCI double must behave as the 6.1 kernel does, or tests built on it prove nothing.</summary>
public sealed class PciBusDoubleTests : IDisposable
{
    private const string E1000 = "0000:00:02.0";
    private const string Disk = "0000:00:03.0";
    private readonly Double _kernel = Double.OnCapturedFixture();

    private void Write(string path, string value) => SysfsWriter.Write(_kernel.Root, path, value);

    private KernelErrno Refused(string path, string value) =>
        Assert.Throws<KernelWriteException>(() => Write(path, value)).Errno;

    [Fact]
    public void The_captured_tree_gains_the_control_files_the_capture_could_not_copy_and_the_vfio_node_of_group_2()
    {
        Assert.True(File.Exists(_kernel.Tree.Resolve("/sys/bus/pci/drivers/e1000/bind")));
        Assert.True(File.Exists(_kernel.Tree.Resolve("/sys/bus/pci/drivers_probe")));
        Assert.True(_kernel.Pci.VfioGroupNodeExists(2));
        Assert.Equal("vfio-pci", _kernel.Pci.DriverOf(E1000));
    }

    [Fact]
    public void Unbind_removes_the_driver_link_on_both_sides_and_the_last_vfio_member_takes_the_group_node_with_it()
    {
        Write("/sys/bus/pci/drivers/vfio-pci/unbind", E1000);
        Assert.Null(_kernel.Pci.DriverOf(E1000));
        Assert.False(File.Exists(_kernel.Tree.Resolve("/sys/bus/pci/drivers/vfio-pci/" + E1000)));
        Assert.False(_kernel.Pci.VfioGroupNodeExists(2));
    }

    [Fact]
    public void Unbind_from_a_driver_the_device_is_not_bound_to_is_ENODEV() =>
        Assert.Equal(KernelErrno.ENODEV, Refused("/sys/bus/pci/drivers/e1000/unbind", E1000));

    [Fact]
    public void Bind_of_a_bound_device_is_EBUSY() =>
        Assert.Equal(KernelErrno.EBUSY, Refused("/sys/bus/pci/drivers/virtio-pci/bind", Disk));

    [Fact]
    public void Bind_of_an_unknown_device_is_ENODEV() =>
        Assert.Equal(KernelErrno.ENODEV, Refused("/sys/bus/pci/drivers/e1000/bind", "0000:00:09.0"));

    [Fact]
    public void Bind_is_ENODEV_when_driver_override_names_another_driver()
    {
        Write("/sys/bus/pci/drivers/vfio-pci/unbind", E1000);
        Assert.Equal(KernelErrno.ENODEV, Refused("/sys/bus/pci/drivers/e1000/bind", E1000));
        Write($"/sys/bus/pci/devices/{E1000}/driver_override", "");
        Write("/sys/bus/pci/drivers/e1000/bind", E1000);
        Assert.Equal("e1000", _kernel.Pci.DriverOf(E1000));
    }

    [Fact]
    public void Driver_override_strips_the_newline_and_an_empty_write_shows_null_again()
    {
        Write($"/sys/bus/pci/devices/{Disk}/driver_override", "vfio-pci");
        Assert.Equal("vfio-pci\n", _kernel.Tree.Read($"/sys/bus/pci/devices/{Disk}/driver_override"));
        Write($"/sys/bus/pci/devices/{Disk}/driver_override", "\n");
        Assert.Equal("(null)\n", _kernel.Tree.Read($"/sys/bus/pci/devices/{Disk}/driver_override"));
    }

    [Fact]
    public void Drivers_probe_binds_the_override_driver_first()
    {
        Write($"/sys/bus/pci/devices/{Disk}/driver_override", "vfio-pci");
        Write("/sys/bus/pci/drivers/virtio-pci/unbind", Disk);
        Write("/sys/bus/pci/drivers_probe", Disk);
        Assert.Equal("vfio-pci", _kernel.Pci.DriverOf(Disk));
        Assert.True(_kernel.Pci.VfioGroupNodeExists(3));
    }

    [Fact]
    public void Drivers_probe_without_an_override_binds_by_the_id_table()
    {
        Write($"/sys/bus/pci/devices/{E1000}/driver_override", "");
        Write("/sys/bus/pci/drivers/vfio-pci/unbind", E1000);
        Write("/sys/bus/pci/drivers_probe", E1000);
        Assert.Equal("e1000", _kernel.Pci.DriverOf(E1000));
    }

    [Fact]
    public void Drivers_probe_succeeds_although_nothing_binds()
    {
        Write("/sys/bus/pci/drivers_probe", "0000:00:1f.2"); // AHCI: its driver is not loaded in the capture
        Assert.Null(_kernel.Pci.DriverOf("0000:00:1f.2"));
    }

    [Fact]
    public void Drivers_probe_of_an_unknown_device_is_ENODEV() =>
        Assert.Equal(KernelErrno.ENODEV, Refused("/sys/bus/pci/drivers_probe", "0000:00:09.0"));

    [Fact]
    public void A_failing_probe_leaves_the_device_unbound_while_drivers_probe_succeeds()
    {
        _kernel.Pci.FailProbe("virtio-pci", KernelErrno.EIO);
        Write("/sys/bus/pci/drivers/virtio-pci/unbind", Disk);
        Write("/sys/bus/pci/drivers_probe", Disk);
        Assert.Null(_kernel.Pci.DriverOf(Disk));
    }

    [Fact]
    public void Vfio_pci_refuses_a_bridge_with_EINVAL()
    {
        _kernel.Pci.AddFunction("0000:00:1c.0", "8086", "2940", 0x060400, iommuGroup: 7, bridge: true);
        Write("/sys/bus/pci/devices/0000:00:1c.0/driver_override", "vfio-pci");
        Assert.Equal(KernelErrno.EINVAL, Refused("/sys/bus/pci/drivers/vfio-pci/bind", "0000:00:1c.0"));
    }

    [Fact]
    public void New_id_binds_every_unbound_matching_device_and_a_repeat_is_EEXIST()
    {
        _kernel.Pci.AddDriver("ahci");
        Write("/sys/bus/pci/drivers/ahci/new_id", "8086 2922");
        Assert.Equal("ahci", _kernel.Pci.DriverOf("0000:00:1f.2"));
        Assert.Equal(KernelErrno.EEXIST, Refused("/sys/bus/pci/drivers/ahci/new_id", "8086 2922"));
    }

    [Fact]
    public void Remove_id_of_an_id_never_added_is_ENODEV_and_garbage_is_EINVAL()
    {
        Assert.Equal(KernelErrno.ENODEV, Refused("/sys/bus/pci/drivers/vfio-pci/remove_id", "8086 100e"));
        Assert.Equal(KernelErrno.EINVAL, Refused("/sys/bus/pci/drivers/vfio-pci/new_id", "8086"));
    }

    [Fact]
    public void A_driver_that_is_not_loaded_has_no_bind_file_so_the_write_is_ENOENT() =>
        Assert.Equal(KernelErrno.ENOENT, Refused("/sys/bus/pci/drivers/pci-stub/bind", E1000));

    [Fact]
    public void Unbind_through_the_device_driver_link_reaches_the_driver()
    {
        Write($"/sys/bus/pci/devices/{Disk}/driver/unbind", Disk);
        Assert.Null(_kernel.Pci.DriverOf(Disk));
    }

    [Fact]
    public void An_injected_failure_hits_the_nth_write_only_and_changes_nothing()
    {
        _kernel.FailWrite("/sys/bus/pci/drivers/virtio-pci/unbind", KernelErrno.EBUSY, nth: 1);
        Assert.Equal(KernelErrno.EBUSY, Refused("/sys/bus/pci/drivers/virtio-pci/unbind", Disk));
        Assert.Equal("virtio-pci", _kernel.Pci.DriverOf(Disk));
        Write("/sys/bus/pci/drivers/virtio-pci/unbind", Disk);
        Assert.Null(_kernel.Pci.DriverOf(Disk));
    }

    [Fact]
    public void Every_write_is_logged_in_order_with_its_exact_text()
    {
        Write($"/sys/bus/pci/devices/{Disk}/driver_override", "vfio-pci");
        Assert.Equal(new KernelWrite($"/sys/bus/pci/devices/{Disk}/driver_override", "vfio-pci\n"), Assert.Single(_kernel.Writes));
    }

    public void Dispose() => _kernel.Dispose();
}
