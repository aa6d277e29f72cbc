using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using VirtTools.Usb;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Containers;
using VirtTools.UsbIp.Vhci;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.UsbIp.Containers;

/// <summary>
/// Attach into a container against the vhci_hcd double and the container double: the order of the steps, the
/// record, and the undo of everything when a step after the attach fails.
/// </summary>
public sealed class ContainerUsbAttacherTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly Double _kernel = Double.OnEmptyTree();
    private readonly ContainerDevicesDouble _lxc = new ContainerDevicesDouble().Run("deskA", 1001).Run("deskB", 1002);

    public ContainerUsbAttacherTests()
    {
        // 2 controllers of 2 + 2 ports: high-speed ports 0, 1 (local 11-1, 11-2) and 4, 5 (13-1, 13-2).
        _kernel.Usb.AddVhci(controllers: 2, portsPerHub: 2);
        // Each is a stick: its USB node and one disk (bus 11's first is /dev/sda, 8:0).
        foreach (var (busId, bus, devnum, disk) in new[] { ("11-1", 11, 2, 0), ("11-2", 11, 3, 1), ("13-1", 13, 2, 2), ("13-2", 13, 3, 3) })
        {
            var device = UsbDeviceNodesTests.Device(_kernel.Tree, busId, $"bus/usb/{bus:000}/{devnum:000}", 189, devnum);
            var name = "sd" + (char)('a' + disk);
            UsbDeviceNodesTests.Node(_kernel.Tree, device + $"/{busId}:1.0/host{disk}/block/{name}", name, 8, 16 * disk, "block");
        }
    }

    public void Dispose() => _kernel.Dispose();

    private ContainerUsbAttacher Attacher(TimeSpan? enumeration = null) =>
        new(new VhciAttacher(_kernel.Root, new FakeImporter(FakeImporter.Device("1-1", UsbSpeed.High))), _lxc,
            enumeration ?? TimeSpan.FromSeconds(20), quietPeriod: TimeSpan.FromMilliseconds(50));

    private void ConnectForTheHost() =>
        new VhciAttacher(_kernel.Root, new FakeImporter(FakeImporter.Device())).ConnectAsync("192.0.2.10", 3240, UsbBusId.Parse("1-1"), Timeout).GetAwaiter().GetResult();

    private UsbIpPort Connect(string container, bool dedicated = false, TimeSpan? enumeration = null) =>
        Attacher(enumeration).ConnectAsync("192.0.2.10", 3240, UsbBusId.Parse("1-1"), container, dedicated, Timeout).GetAwaiter().GetResult();

    private VirtToolsException Fails(string container, bool dedicated = false, TimeSpan? enumeration = null) =>
        Assert.ThrowsAny<VirtToolsException>(() => Connect(container, dedicated, enumeration));

    private IReadOnlyList<string> VhciWrites => _kernel.Writes.Where(w => w.SystemPath.Contains("/vhci_hcd.")).Select(w => w.SystemPath[^6..] + " " + w.Text.Trim()).ToList();

    [Fact]
    public void The_container_is_asked_first_then_the_port_attached_then_each_node_added_the_usb_node_first()
    {
        var port = Connect("deskB");

        Assert.Equal(new[] { "info deskB", "add deskB /dev/bus/usb/011/002", "add deskB /dev/sda" }, _lxc.Calls);
        Assert.Equal(new[] { "attach 0 42 131075 3" }, VhciWrites);
        Assert.Equal(("deskB", 1002, UsbIpPortStatus.InUse), (port.Container, port.ContainerProcessId, port.Status));
        Assert.Equal(new[] { "/dev/bus/usb/011/002", "/dev/sda" }, port.ContainerNodes);
        Assert.Equal(new[] { "/dev/bus/usb/011/002", "/dev/sda" }, _lxc.Held("deskB"));
        Assert.Empty(_lxc.Held("deskA"));
    }

    [Fact]
    public void The_record_keeps_usbips_first_line_and_names_the_container_its_process_and_nodes()
    {
        Connect("deskB");
        Assert.Equal("192.0.2.10 3240 1-1\ncontainer deskB 1002\nnode /dev/bus/usb/011/002 c 189 2\nnode /dev/sda b 8 0\n",
            _kernel.Tree.Read("/run/vhci_hcd/port0"));
    }

    [Fact]
    public void A_container_that_does_not_run_is_refused_before_anything_is_imported()
    {
        var importer = new FakeImporter(FakeImporter.Device());
        var attacher = new ContainerUsbAttacher(new VhciAttacher(_kernel.Root, importer), _lxc);
        var error = Assert.ThrowsAny<VirtToolsException>(() =>
            attacher.ConnectAsync("192.0.2.10", 3240, UsbBusId.Parse("1-1"), "deskC", false, Timeout).GetAwaiter().GetResult());
        Assert.Equal((ContainerErrors.NotRunningId, (object?)"deskC"), (error.ErrorId, error.Target));
        Assert.Contains("lxc-start -n deskC", error.RecommendedAction);
        Assert.Equal(0, importer.Imports);
        Assert.Empty(VhciWrites);
    }

    [Theory]
    [InlineData("-n")]
    [InlineData("desk 1")]
    [InlineData("../desk")]
    [InlineData("")]
    public void A_name_that_is_no_container_name_is_refused_before_the_container_manager_is_asked(string name)
    {
        Assert.Equal(ContainerErrors.InvalidNameId, Fails(name).ErrorId);
        Assert.Empty(_lxc.Calls);
        Assert.Empty(VhciWrites);
    }

    [Fact]
    public void When_a_node_cannot_be_added_the_nodes_added_are_taken_back_and_the_port_is_detached()
    {
        _lxc.FailOn = "/dev/sda";
        var error = Fails("deskB");

        Assert.Equal(ContainerErrors.ManagerFailedId, error.ErrorId);
        Assert.Equal(new[] { "info deskB", "add deskB /dev/bus/usb/011/002", "add deskB /dev/sda", "del deskB /dev/bus/usb/011/002" }, _lxc.Calls);
        Assert.Empty(_lxc.Held("deskB"));
        Assert.Equal(new[] { "attach 0 42 131075 3", "detach 0" }, VhciWrites);
        Assert.StartsWith("hs  0000 004", _kernel.Usb.VhciPortLine(0));
        Assert.Null(_kernel.Tree.Read("/run/vhci_hcd/port0"));
    }

    [Fact]
    public void When_undoing_fails_too_the_error_is_ContainerAttachNotUndone()
    {
        _lxc.FailOn = "/dev/sda";
        var sticky = new StickyFailure(_lxc, "/dev/bus/usb/011/002");
        var error = Assert.ThrowsAny<VirtToolsException>(() =>
            new ContainerUsbAttacher(new VhciAttacher(_kernel.Root, new FakeImporter(FakeImporter.Device())), sticky, Timeout, TimeSpan.FromMilliseconds(50))
                .ConnectAsync("192.0.2.10", 3240, UsbBusId.Parse("1-1"), "deskB", false, Timeout).GetAwaiter().GetResult());
        Assert.Equal(ContainerErrors.NotUndoneId, error.ErrorId);
        Assert.Contains("undoing it failed too (lxc-cgroup devices.deny", error.Message.Replace("'", ""));
        Assert.Equal("detach 0", VhciWrites[^1]); // the port is detached even so
    }

    [Fact]
    public void A_device_that_never_appears_in_sysfs_is_ContainerDeviceNotEnumerated_and_the_port_is_detached()
    {
        File.Delete(_kernel.Tree.Resolve("/sys/bus/usb/devices/11-1"));
        var error = Fails("deskB", enumeration: TimeSpan.FromMilliseconds(300));
        Assert.Equal(ContainerErrors.DeviceNotEnumeratedId, error.ErrorId);
        Assert.Contains("11-1", error.Message);
        Assert.Equal(new[] { "info deskB" }, _lxc.Calls);
        Assert.Equal(new[] { "attach 0 42 131075 3", "detach 0" }, VhciWrites);
    }

    [Fact]
    public void Disconnect_takes_the_nodes_back_last_first_and_then_detaches()
    {
        var port = Connect("deskB");
        _lxc.Calls.Clear();
        Attacher().Disconnect(port);
        Assert.Equal(new[] { "info deskB", "del deskB /dev/sda", "del deskB /dev/bus/usb/011/002" }, _lxc.Calls);
        Assert.Empty(_lxc.Held("deskB"));
        Assert.Equal("detach 0", VhciWrites[^1]);
        Assert.Null(_kernel.Tree.Read("/run/vhci_hcd/port0"));
    }

    [Fact]
    public void Disconnect_of_a_stopped_or_restarted_container_asks_nothing_back_and_detaches()
    {
        var port = Connect("deskB");
        _lxc.Stop("deskB");
        _lxc.Run("deskB", 2002); // started again: a new init, a new cgroup without the nodes
        _lxc.Calls.Clear();
        Attacher().Disconnect(port);
        Assert.Equal(new[] { "info deskB" }, _lxc.Calls);
        Assert.Equal("detach 0", VhciWrites[^1]);
    }

    [Fact]
    public void When_a_node_cannot_be_taken_back_the_port_stays_attached()
    {
        var port = Connect("deskB");
        _lxc.FailOn = "/dev/sda";
        Assert.Equal(ContainerErrors.ManagerFailedId, Assert.ThrowsAny<VirtToolsException>(() => Attacher().Disconnect(port)).ErrorId);
        Assert.Equal(UsbIpPortStatus.InUse, new VhciReader(_kernel.Root).GetPorts()[0].Status);
        Assert.NotNull(_kernel.Tree.Read("/run/vhci_hcd/port0"));
    }

    [Fact]
    public void Orphans_are_the_ports_whose_container_stopped_and_only_they_are_detached()
    {
        Connect("deskA");
        Connect("deskB");
        _lxc.Stop("deskA");
        var detached = Attacher().DetachOrphans(new VhciReader(_kernel.Root).GetPorts());
        Assert.Equal(new[] { ("deskA", 0) }, detached.Select(p => (p.Container!, p.Port)));
        var ports = new VhciReader(_kernel.Root).GetPorts();
        Assert.True(ports[0].IsFree);
        Assert.Equal("deskB", ports[1].Container);
    }

    [Fact]
    public void Get_ports_shows_each_ports_container_and_the_hosts_own_attach_has_none()
    {
        ConnectForTheHost();
        Connect("deskA");
        var ports = new VhciReader(_kernel.Root).GetPorts().Where(p => p.IsInUse).ToList();
        Assert.Equal(new[] { ((string?)null, (int?)null), ("deskA", 1001) }, ports.Select(p => (p.Container, p.ContainerProcessId)));
        Assert.Empty(ports[0].ContainerNodes);
    }

    [Fact]
    public void Dedicated_placement_puts_each_container_on_a_controller_of_its_own_and_keeps_it_there()
    {
        var a = Connect("deskA", dedicated: true);
        var b = Connect("deskB", dedicated: true);
        var a2 = Connect("deskA", dedicated: true);
        Assert.Equal(new[] { (0, 0), (1, 4), (0, 1) }, new[] { a, b, a2 }.Select(p => (p.ControllerIndex, p.Port)));
    }

    [Fact]
    public void A_dedicated_placement_is_recorded_and_shown_on_the_port()
    {
        var port = Connect("deskA", dedicated: true);
        Assert.True(port.ContainerDedicatedController);
        Assert.StartsWith("192.0.2.10 3240 1-1\ncontainer deskA 1001 dedicated\n", _kernel.Tree.Read("/run/vhci_hcd/port0"));
        Assert.False(Connect("deskB").ContainerDedicatedController);
    }

    [Fact]
    public void Dedicated_placement_avoids_a_controller_that_holds_the_hosts_own_devices()
    {
        ConnectForTheHost();
        Assert.Equal(1, Connect("deskA", dedicated: true).ControllerIndex);
    }

    [Fact]
    public void Dedicated_placement_that_cannot_hold_is_ContainerNoOwnController_before_anything_is_attached()
    {
        Connect("deskA", dedicated: true);
        Connect("deskB", dedicated: true);
        _lxc.Run("deskC", 1003);
        var writes = VhciWrites.Count;
        var error = Fails("deskC", dedicated: true);
        Assert.Equal((ContainerErrors.NoOwnControllerId, FailureKind.LimitExceeded), (error.ErrorId, error.Kind));
        Assert.Contains("each of the 2 vhci_hcd controllers already holds devices", error.Message);
        Assert.Equal(writes, VhciWrites.Count);

        Connect("deskA", dedicated: true); // its second high-speed port
        var full = Fails("deskA", dedicated: true);
        Assert.Equal(ContainerErrors.NoOwnControllerId, full.ErrorId);
        Assert.Contains("its controller vhci_hcd.0 has no free high-speed (USB 2) port left", full.Message);
    }

    private ContainerGrantKeeper Keeper() => new(new VhciAttacher(_kernel.Root, new FakeImporter(FakeImporter.Device())), _lxc);

    /// <summary>What the kernel does when the peer ends or the device is unplugged on the server: the port is freed, /run/vhci_hcd is left as it was.</summary>
    private void PortFreedByTheKernel(int port) => SysfsWriter.Write(_kernel.Root, "/sys/devices/platform/vhci_hcd.0/detach", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private string? Entry(string name) => _kernel.Tree.Read(ContainerGrantLedger.Directory + "/" + name);

    [Fact]
    public void The_ledger_keeps_what_was_given_under_run_virttools_for_root_alone()
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("Linux file modes.");
        Connect("deskB");
        Assert.Equal(_kernel.Tree.Read("/run/vhci_hcd/port0"), Entry("port0@deskB"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_kernel.Tree.Resolve(ContainerGrantLedger.Directory + "/port0@deskB")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_kernel.Tree.Resolve(ContainerGrantLedger.Directory)));
    }

    [Fact]
    public void A_ledger_that_is_a_symlink_out_of_the_root_is_neither_followed_nor_written_through()
    {
        using var outside = new TemporaryTree("outside");
        _kernel.Tree.Directory("/run/virttools");
        File.CreateSymbolicLink(_kernel.Tree.Resolve(ContainerGrantLedger.Directory), Path.GetRelativePath(_kernel.Tree.Resolve("/run/virttools"), outside.Path));
        Assert.Equal(RootConfinement.PathOutsideRootId, Fails("deskB").ErrorId);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside.Path));
        Assert.Null(_kernel.Tree.Read("/run/vhci_hcd/port0")); // nothing left attached
    }

    [Fact]
    public void A_device_gone_on_its_own_is_taken_back_from_its_container_without_its_host_node_and_the_entry_dropped()
    {
        Connect("deskB");
        PortFreedByTheKernel(0);
        _lxc.Calls.Clear();

        var change = Keeper().Keep().Single();

        Assert.Equal(new[] { "info deskB", "del deskB /dev/sda", "del deskB /dev/bus/usb/011/002" }, _lxc.Calls);
        Assert.Empty(_lxc.Held("deskB"));
        Assert.True(change.DeviceGone);
        Assert.Equal((0, "deskB", "1-1"), (change.Port, change.Container, change.BusId.ToString()));
        Assert.Null(Entry("port0@deskB"));
        Assert.Empty(Keeper().Keep());
    }

    [Fact]
    public void A_port_that_holds_another_attachment_since_counts_as_gone()
    {
        Connect("deskB");
        PortFreedByTheKernel(0);
        ConnectForTheHost(); // usbip attach takes port 0 again and overwrites its record
        Assert.True(Keeper().Keep().Single().DeviceGone);
        Assert.Empty(_lxc.Held("deskB"));
    }

    [Fact]
    public void A_device_gone_while_its_container_stopped_drops_the_entry_and_asks_nothing_back()
    {
        Connect("deskB");
        PortFreedByTheKernel(0);
        _lxc.Stop("deskB");
        _lxc.Calls.Clear();
        Assert.True(Keeper().Keep().Single().ContainerGone);
        Assert.Equal(new[] { "info deskB" }, _lxc.Calls);
        Assert.Null(Entry("port0@deskB"));
    }

    [Fact]
    public void A_take_back_that_fails_keeps_the_entry_for_the_next_sweep()
    {
        Connect("deskB");
        PortFreedByTheKernel(0);
        _lxc.FailOn = "/dev/sda";
        Assert.Equal(ContainerErrors.ManagerFailedId, Assert.ThrowsAny<VirtToolsException>(() => Keeper().Keep()).ErrorId);
        Assert.NotNull(Entry("port0@deskB"));
        Assert.True(Keeper().Keep().Single().DeviceGone);
        Assert.Empty(_lxc.Held("deskB"));
    }

    [Fact]
    public void An_attach_into_a_container_first_takes_back_what_it_was_given_for_a_device_since_gone()
    {
        Connect("deskB");
        PortFreedByTheKernel(0);
        _lxc.Calls.Clear();
        Connect("deskB");
        Assert.Equal(new[] { "info deskB", "info deskB", "del deskB /dev/sda", "del deskB /dev/bus/usb/011/002",
            "add deskB /dev/bus/usb/011/002", "add deskB /dev/sda" }, _lxc.Calls);
        Assert.Equal(_kernel.Tree.Read("/run/vhci_hcd/port0"), Entry("port0@deskB"));
    }

    [Fact]
    public void Disconnect_and_a_stopped_containers_detach_drop_the_entry()
    {
        Attacher().Disconnect(Connect("deskB"));
        Assert.Null(Entry("port0@deskB"));
        Connect("deskA");
        _lxc.Stop("deskA");
        Attacher().DetachOrphans(new VhciReader(_kernel.Root).GetPorts());
        Assert.Null(Entry("port0@deskA"));
    }

    [Fact]
    public void A_disk_that_appears_after_the_attach_is_recorded_then_given_on_the_next_sweep()
    {
        var disk = "/sys/devices/platform/vhci_hcd.0/usb11/11-1/11-1:1.0";
        Directory.Delete(_kernel.Tree.Resolve(disk), recursive: true);
        var port = Connect("deskB");
        Assert.Equal(new[] { "/dev/bus/usb/011/002" }, port.ContainerNodes);
        Assert.Empty(Keeper().Keep()); // nothing new yet

        UsbDeviceNodesTests.Node(_kernel.Tree, disk + "/host0/block/sda", "sda", 8, 0, "block"); // the SCSI scan, late
        _lxc.Calls.Clear();
        var change = Keeper().Keep().Single();

        Assert.Equal(new[] { "info deskB", "add deskB /dev/sda" }, _lxc.Calls);
        Assert.Equal(new[] { "/dev/sda" }, change.Added.Select(n => n.Path));
        Assert.False(change.DeviceGone);
        Assert.Equal("192.0.2.10 3240 1-1\ncontainer deskB 1002\nnode /dev/bus/usb/011/002 c 189 2\nnode /dev/sda b 8 0\n", _kernel.Tree.Read("/run/vhci_hcd/port0"));
        Assert.Equal(_kernel.Tree.Read("/run/vhci_hcd/port0"), Entry("port0@deskB"));
        Assert.Equal(new[] { "/dev/bus/usb/011/002", "/dev/sda" }, _lxc.Held("deskB"));
    }

    [Fact]
    public async Task A_storage_devices_disk_found_after_the_quiet_period_is_waited_for_and_given_with_it()
    {
        var storage = "/sys/devices/platform/vhci_hcd.0/usb11/11-1/11-1:1.0";
        Directory.Delete(_kernel.Tree.Resolve(storage + "/host0"), recursive: true);
        _kernel.Tree.Directory("/sys/bus/usb/drivers/usb-storage");
        _kernel.Tree.Link(storage + "/driver", Path.GetRelativePath(_kernel.Tree.Resolve(storage), _kernel.Tree.Resolve("/sys/bus/usb/drivers/usb-storage")));
        // The SCSI scan, late: well after the 50 ms quiet period, well within the 20 s enumeration bound.
        var scan = Task.Delay(TimeSpan.FromSeconds(1)).ContinueWith(_ => UsbDeviceNodesTests.Node(_kernel.Tree, storage + "/host0/block/sda", "sda", 8, 0, "block"), TaskScheduler.Default);

        var port = await Attacher().ConnectAsync("192.0.2.10", 3240, UsbBusId.Parse("1-1"), "deskB", false, Timeout);
        await scan;

        Assert.Equal(new[] { "/dev/bus/usb/011/002", "/dev/sda" }, port.ContainerNodes);
        Assert.Equal(new[] { "/dev/bus/usb/011/002", "/dev/sda" }, _lxc.Held("deskB"));
    }

    [Fact]
    public void A_disk_that_goes_away_while_its_device_stays_is_taken_back()
    {
        Connect("deskB");
        Directory.Delete(_kernel.Tree.Resolve("/sys/devices/platform/vhci_hcd.0/usb11/11-1/11-1:1.0"), recursive: true);
        _lxc.Calls.Clear();
        var change = Keeper().Keep().Single();
        Assert.Equal(new[] { "info deskB", "del deskB /dev/sda" }, _lxc.Calls);
        Assert.Equal(new[] { "/dev/sda" }, change.TakenBack.Select(n => n.Path));
        Assert.Equal(new[] { "/dev/bus/usb/011/002" }, new VhciReader(_kernel.Root).GetPorts()[0].ContainerNodes);
    }

    /// <summary>Passes every call to the double, but removing one path always fails.</summary>
    private sealed class StickyFailure(ContainerDevicesDouble inner, string path) : IContainerDevices
    {
        public int? FindRunning(string container, CancellationToken cancellation) => inner.FindRunning(container, cancellation);

        public void Add(string container, DeviceNode node, CancellationToken cancellation) => inner.Add(container, node, cancellation);

        public void Remove(string container, int processId, DeviceNode node, CancellationToken cancellation)
        {
            if (node.Path == path) throw ContainerErrors.ManagerFailed("lxc-cgroup devices.deny", "sticky", container);
            inner.Remove(container, processId, node, cancellation);
        }
    }
}
