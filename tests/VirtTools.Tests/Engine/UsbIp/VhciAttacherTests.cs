using VirtTools.Usb;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Tests.KernelDouble;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Protocol;
using VirtTools.UsbIp.Vhci;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>The sysfs half of Connect/Disconnect against the vhci_hcd double, with the import faked.</summary>
public sealed class VhciAttacherTests : IDisposable
{
    private const string Attach0 = "/sys/devices/platform/vhci_hcd.0/attach";
    private const string Detach0 = "/sys/devices/platform/vhci_hcd.0/detach";

    private Double? _kernel;

    /// <summary>The captured tree: 8 mainline controllers of 15 + 15 ports, port 15 (SuperSpeed) in use.</summary>
    private Double Captured => _kernel ??= Double.OnCapturedFixture();

    private Double Synthetic(int controllers, int portsPerHub, bool perController = false)
    {
        _kernel = Double.OnEmptyTree();
        _kernel.Usb.AddVhci(controllers, portsPerHub, perController);
        return _kernel;
    }

    private static UsbIpPort Connect(Double kernel, FakeImporter importer, string busId = "1-1") =>
        new VhciAttacher(kernel.Root, importer).ConnectAsync("192.0.2.10", 3240, UsbBusId.Parse(busId), TimeSpan.FromSeconds(5)).GetAwaiter().GetResult();

    private static UsbIpPort Connect(Double kernel, UsbSpeed speed) => Connect(kernel, new FakeImporter(FakeImporter.Device(speed: speed)));

    /// <summary>Occupies ports through the kernel's own attach file, as another attacher would.</summary>
    private static void Occupy(Double kernel, string attach, params int[] ports)
    {
        foreach (var port in ports)
            kernel.Root.Writer.Write(attach, $"{port} 7 65537 {(kernel.Usb.VhciPortLine(port, attach.Contains("vhci_hcd.1") ? 1 : 0)!.StartsWith("ss") ? 5 : 3)}");
    }

    private IReadOnlyList<KernelWrite> VhciWrites => _kernel!.Writes.Where(w => w.SystemPath.Contains("/vhci_hcd.")).ToList();

    [Fact]
    public void A_high_speed_device_is_attached_to_the_first_free_high_speed_port_with_the_line_usbip_writes()
    {
        var port = Connect(Captured, UsbSpeed.High);
        Assert.Equal(new KernelWrite(Attach0, "0 42 131075 3\n"), Assert.Single(VhciWrites));
        Assert.Equal(("vhci_hcd.0", VhciHub.HighSpeed, 0, UsbIpPortStatus.InUse), (port.Controller, port.Hub, port.Port, port.Status));
        Assert.Equal((0x00020003, 42, "3-1"), (port.DeviceId, port.SocketFd, port.LocalBusId?.ToString()));
    }

    [Theory]
    [InlineData(UsbSpeed.Low, VhciHub.HighSpeed, 0)]
    [InlineData(UsbSpeed.Full, VhciHub.HighSpeed, 0)]
    [InlineData(UsbSpeed.High, VhciHub.HighSpeed, 0)]
    [InlineData(UsbSpeed.Wireless, VhciHub.HighSpeed, 0)]
    [InlineData(UsbSpeed.Super, VhciHub.SuperSpeed, 2)]
    [InlineData(UsbSpeed.SuperPlus, VhciHub.SuperSpeed, 2)]
    public void The_device_speed_chooses_the_hub_and_speeds_5_and_6_go_to_SuperSpeed(UsbSpeed speed, VhciHub hub, int expectedPort)
    {
        var port = Connect(Synthetic(controllers: 1, portsPerHub: 2), speed);
        Assert.Equal((hub, expectedPort), (port.Hub, port.Port));
        Assert.EndsWith($" {(int)speed}\n", Assert.Single(VhciWrites).Text);
    }

    [Fact]
    public void When_the_first_controller_is_full_the_next_controller_takes_the_device()
    {
        var kernel = Synthetic(controllers: 2, portsPerHub: 2);
        Occupy(kernel, Attach0, 0, 1);
        var port = Connect(kernel, UsbSpeed.High);
        Assert.Equal(("vhci_hcd.1", 4, 4), (port.Controller, port.Port, port.ControllerPort));
        Assert.Equal(new KernelWrite(Attach0, "4 42 131075 3\n"), VhciWrites[^1]);
    }

    [Fact]
    public void On_the_per_controller_layout_the_next_controller_is_written_with_its_own_port_number()
    {
        var kernel = Synthetic(controllers: 2, portsPerHub: 2, perController: true);
        Occupy(kernel, Attach0, 0, 1);
        var port = Connect(kernel, UsbSpeed.High);
        Assert.Equal(new KernelWrite("/sys/devices/platform/vhci_hcd.1/attach", "0 42 131075 3\n"), VhciWrites[^1]);
        Assert.Equal(("vhci_hcd.1", 4, 0, UsbIpPortStatus.InUse), (port.Controller, port.Port, port.ControllerPort, port.Status));
        Assert.Equal("192.0.2.10 3240 1-1\n", kernel.Tree.Read("/run/vhci_hcd/port1-0"));
        Assert.Equal("192.0.2.10", port.RemoteHost);
    }

    [Fact]
    public void A_port_taken_by_another_attacher_meanwhile_EBUSY_is_retried_on_the_next_port_of_the_hub()
    {
        Captured.Usb.RaceForPort(0).RaceForPort(1);
        var port = Connect(Captured, UsbSpeed.High);
        Assert.Equal(new[] { "0", "1", "2" }, VhciWrites.Select(w => w.Text.Split(' ')[0]));
        Assert.Equal(2, port.Port);
    }

    [Fact]
    public void The_attach_record_is_written_as_usbip_attach_writes_it_and_owner_only()
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("Linux file modes.");
        var kernel = Synthetic(controllers: 1, portsPerHub: 2);
        var port = Connect(kernel, UsbSpeed.High);
        var record = kernel.Tree.Resolve("/run/vhci_hcd/port0");
        Assert.Equal("192.0.2.10 3240 1-1\n", File.ReadAllText(record));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(record));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(record)!));
        Assert.Equal(("192.0.2.10", 3240, "1-1"), (port.RemoteHost, port.RemoteTcpPort, port.RemoteBusId?.ToString()));
    }

    [Theory]
    [InlineData(KernelErrno.EINVAL, "VhciAttachFailed", "rejected the socket or the device's speed")]
    [InlineData(KernelErrno.EAGAIN, "VhciAttachFailed", "not ready")]
    [InlineData(KernelErrno.EACCES, "PermissionDenied", "permission denied")]
    public void An_attach_the_kernel_refuses_otherwise_than_EBUSY_is_not_retried_and_says_why(KernelErrno errno, string errorId, string says)
    {
        var kernel = Synthetic(controllers: 1, portsPerHub: 2);
        kernel.FailWrite(Attach0, errno);
        var error = Assert.ThrowsAny<VirtToolsException>(() => Connect(kernel, UsbSpeed.High));
        Assert.Equal(errorId, error.ErrorId);
        Assert.Contains(says, error.Message);
        Assert.Single(VhciWrites);
        Assert.Null(kernel.Tree.Read("/run/vhci_hcd/port0"));
    }

    [Fact]
    public void A_speed_vhci_hcd_does_not_know_is_refused_quoting_the_line_it_logged_during_the_attach()
    {
        var kernel = Synthetic(controllers: 1, portsPerHub: 2);
        kernel.Tree.File("/dev/kmsg", "3,1,0,-;vhci_hcd: logged before this attach\n");
        var error = Assert.ThrowsAny<VirtToolsException>(() => Connect(kernel, UsbSpeed.Unknown));
        Assert.Equal("VhciAttachFailed", error.ErrorId);
        Assert.EndsWith("The kernel said: vhci_hcd: Failed attach request for unsupported USB speed: UNKNOWN.", error.Message);
        Assert.DoesNotContain("logged before this attach", error.Message);
        Assert.Null(kernel.Tree.Read("/run/vhci_hcd/port0"));
    }

    [Fact]
    public void An_attach_whose_record_cannot_be_written_is_undone_and_is_VhciAttachFailed()
    {
        var kernel = Synthetic(controllers: 1, portsPerHub: 2);
        kernel.Tree.File("/run/vhci_hcd", "not a directory");
        var error = Assert.Throws<VirtToolsException>(() => Connect(kernel, UsbSpeed.High));
        Assert.Equal(VhciErrors.AttachFailed, error.ErrorId);
        Assert.Equal(new KernelWrite(Detach0, "0\n"), VhciWrites[^1]);
        Assert.StartsWith("hs  0000 004", kernel.Usb.VhciPortLine(0));
    }

    [Fact]
    public void The_attacher_closes_its_end_of_the_connection_once_the_kernel_has_it()
    {
        var importer = new FakeImporter(FakeImporter.Device());
        Connect(Synthetic(controllers: 1, portsPerHub: 2), importer);
        Assert.True(importer.Closed);
    }

    [Fact]
    public void Disconnect_writes_the_global_port_to_vhci_hcd_0_detach_and_removes_the_record()
    {
        var kernel = Synthetic(controllers: 2, portsPerHub: 2);
        Occupy(kernel, Attach0, 0, 1);
        var attacher = new VhciAttacher(kernel.Root, new FakeImporter(FakeImporter.Device()));
        var port = Connect(kernel, UsbSpeed.High);
        attacher.Disconnect(attacher.GetAttachedPort(port.Port));
        Assert.Equal(new KernelWrite(Detach0, "4\n"), VhciWrites[^1]);
        Assert.StartsWith("hs  0004 004", kernel.Usb.VhciPortLine(4));
        Assert.Null(kernel.Tree.Read("/run/vhci_hcd/port4"));
    }

    [Fact]
    public void Disconnect_on_the_per_controller_layout_writes_the_owners_detach_with_its_own_number()
    {
        var kernel = Synthetic(controllers: 2, portsPerHub: 2, perController: true);
        Occupy(kernel, Attach0, 0, 1);
        var port = Connect(kernel, UsbSpeed.High);
        var attacher = new VhciAttacher(kernel.Root, new FakeImporter(FakeImporter.Device()));
        attacher.Disconnect(attacher.GetAttachedPort(port.Port));
        Assert.Equal(new KernelWrite("/sys/devices/platform/vhci_hcd.1/detach", "0\n"), VhciWrites[^1]);
        Assert.Null(kernel.Tree.Read("/run/vhci_hcd/port1-0"));
    }

    [Fact]
    public void Disconnect_removes_a_record_usbip_left_under_var_run()
    {
        Captured.Tree.File("/var/run/vhci_hcd/port15", "10.0.0.9 3240 2-3\n", newline: false);
        var attacher = new VhciAttacher(Captured.Root, new FakeImporter(FakeImporter.Device()));
        attacher.Disconnect(attacher.GetAttachedPort(15));
        Assert.Equal(new KernelWrite(Detach0, "15\n"), Assert.Single(VhciWrites));
        Assert.Null(Captured.Tree.Read("/var/run/vhci_hcd/port15"));
    }

    [Fact]
    public void The_ports_of_a_server_and_busid_are_found_from_their_records()
    {
        var kernel = Synthetic(controllers: 1, portsPerHub: 2);
        Connect(kernel, new FakeImporter(FakeImporter.Device("1-4")), "1-4");
        var attacher = new VhciAttacher(kernel.Root, new FakeImporter(FakeImporter.Device()));
        Assert.Equal(0, Assert.Single(attacher.FindAttached("192.0.2.10", UsbBusId.Parse("1-4"))).Port);
        Assert.Equal(UsbIpErrors.PortNotFound, Assert.Throws<VirtToolsException>(() => attacher.FindAttached("192.0.2.11", UsbBusId.Parse("1-4"))).ErrorId);
    }

    [Fact]
    public void No_free_port_of_the_speed_is_VhciNoFreePort_stating_the_capacity_and_the_fix()
    {
        var kernel = Synthetic(controllers: 2, portsPerHub: 2);
        Occupy(kernel, Attach0, 2, 3, 6, 7);
        var importer = new FakeImporter(FakeImporter.Device("2-3", UsbSpeed.Super));
        var error = Assert.Throws<VirtToolsException>(() => Connect(kernel, importer, "2-3"));
        Assert.Equal((VhciErrors.NoFreePort, FailureKind.LimitExceeded, "2-3"), (error.ErrorId, error.Kind, error.Target?.ToString()));
        Assert.Contains("all 4 are in use (2 controllers × 2 SuperSpeed (USB 3) ports; 4 not free, 4 of them with a device attached)", error.Message);
        Assert.Contains("CONFIG_USBIP_VHCI_HC_PORTS", error.RecommendedAction);
        Assert.Contains("CONFIG_USBIP_VHCI_NR_HCS", error.RecommendedAction);
        Assert.True(importer.Closed);
    }

    [Fact]
    public void Without_vhci_hcd_Connect_is_VhciNotLoaded_before_anything_is_imported()
    {
        _kernel = Double.OnEmptyTree();
        var importer = new FakeImporter(FakeImporter.Device());
        var error = Assert.Throws<VirtToolsException>(() => Connect(_kernel, importer));
        Assert.Equal(VhciErrors.NotLoaded, error.ErrorId);
        Assert.Contains("modprobe vhci-hcd", error.RecommendedAction);
        Assert.Equal(0, importer.Imports);
    }

    [Fact]
    public void Disconnecting_a_free_port_is_UsbIpPortNotInUse_and_a_missing_port_UsbIpPortNotFound()
    {
        var attacher = new VhciAttacher(Synthetic(controllers: 1, portsPerHub: 2).Root, new FakeImporter(FakeImporter.Device()));
        var free = Assert.Throws<VirtToolsException>(() => attacher.GetAttachedPort(3));
        Assert.Equal((VhciErrors.PortNotInUse, FailureKind.InvalidArgument, (object?)3), (free.ErrorId, free.Kind, free.Target));
        Assert.Equal(UsbIpErrors.PortNotFound, Assert.Throws<VirtToolsException>(() => attacher.GetAttachedPort(999)).ErrorId);
        Assert.Empty(VhciWrites);
    }

    [Fact]
    public void A_port_freed_since_it_was_read_makes_the_kernels_EINVAL_UsbIpPortNotInUse()
    {
        var attacher = new VhciAttacher(Captured.Root, new FakeImporter(FakeImporter.Device()));
        var port = attacher.GetAttachedPort(15);
        Captured.Root.Writer.Write(Detach0, "15");
        Assert.Equal(VhciErrors.PortNotInUse, Assert.Throws<VirtToolsException>(() => attacher.Disconnect(port)).ErrorId);
    }

    public void Dispose() => _kernel?.Dispose();
}
