using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using VirtTools.Usb;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Vhci;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

public sealed class VhciReaderTests
{
    private static VhciReader Captured => new(new SystemRoot(CapturedFixture.Shared));

    [Fact]
    public void The_mainline_layout_keeps_every_control_on_vhci_hcd_0()
    {
        var controllers = Captured.GetControllers();
        Assert.Equal(8, controllers.Count);
        Assert.All(controllers, c => Assert.Equal(VhciLayout.Mainline, c.Layout));
        Assert.Equal("/sys/devices/platform/vhci_hcd.0/status", controllers[0].StatusPath);
        Assert.Equal("vhci_hcd.3", controllers[3].Name);
        Assert.Equal("/sys/devices/platform/vhci_hcd.0/status.3", controllers[3].StatusPath);
        Assert.Equal("/sys/devices/platform/vhci_hcd.0/attach", controllers[3].AttachPath);
        Assert.Equal("/sys/devices/platform/vhci_hcd.0/detach", controllers[7].DetachPath);
    }

    [Fact]
    public void Every_port_of_every_controller_is_listed_with_its_global_number_and_hub()
    {
        var ports = Captured.GetPorts();
        Assert.Equal(240, ports.Count);
        Assert.Equal(Enumerable.Range(0, 240), ports.Select(p => p.Port));
        var p45 = ports[45];
        Assert.Equal(("vhci_hcd.1", VhciHub.SuperSpeed), (p45.Controller, p45.Hub));
        Assert.Equal(("vhci_hcd.2", VhciHub.HighSpeed), (ports[60].Controller, ports[60].Hub));
    }

    [Fact]
    public void The_imported_disk_occupies_super_speed_port_15_of_vhci_hcd_0()
    {
        var used = Assert.Single(Captured.GetPorts(), p => p.IsInUse);
        Assert.Equal(("vhci_hcd.0", VhciHub.SuperSpeed, 15), (used.Controller, used.Hub, used.Port));
        Assert.Equal(UsbIpPortStatus.InUse, used.Status);
        Assert.Equal(UsbSpeed.Super, used.Speed);
        Assert.Equal(5000.0, used.SpeedMbps);
        Assert.Equal(0x00020002, used.DeviceId);
        Assert.Equal((2, 2), (used.RemoteBusNumber, used.RemoteDeviceNumber));
        Assert.Equal("4-1", used.LocalBusId.ToString());
        Assert.Equal(3, used.SocketFd);
        Assert.Null(used.RemoteHost); // the capture has no attach record
    }

    [Fact]
    public void The_attach_record_supplies_the_remote_end()
    {
        using var tree = CapturedFixture.CreateCopy();
        tree.File("/run/vhci_hcd/port15", "127.0.0.1 3240 2-3\n", newline: false);
        var used = Assert.Single(new VhciReader(new SystemRoot(tree.Path)).GetPorts(), p => p.IsInUse);
        Assert.Equal(("127.0.0.1", 3240, "2-3"), (used.RemoteHost, used.RemoteTcpPort, used.RemoteBusId?.ToString()));
    }

    [Fact]
    public void A_stale_record_of_a_free_port_is_ignored()
    {
        using var tree = CapturedFixture.CreateCopy();
        tree.File("/var/run/vhci_hcd/port3", "10.0.0.9 3240 1-1");
        var port3 = new VhciReader(new SystemRoot(tree.Path)).GetPorts().Single(p => p.Port == 3);
        Assert.True(port3.IsFree);
        Assert.Null(port3.RemoteHost);
    }

    [Theory]
    [InlineData("10.0.0.9 3240 1-1\n", "10.0.0.9", 3240, "1-1")]
    [InlineData("fe80::1 3240 2-4.1", "fe80::1", 3240, "2-4.1")]
    [InlineData("host.example usbip 1-1", "host.example", null, "1-1")]
    public void An_attach_record_reads_as_usbip_writes_it(string text, string host, int? tcpPort, string busId)
    {
        var record = VhciPortRecord.Parse(text)!;
        Assert.Equal(new VhciPortRecord(host, tcpPort, UsbBusId.Parse(busId)), record);
    }

    [Theory]
    [InlineData("")]
    [InlineData("10.0.0.9 3240")]
    [InlineData("a b c d")]
    public void A_malformed_attach_record_reads_as_none(string text) => Assert.Null(VhciPortRecord.Parse(text));

    [Fact]
    public void A_record_with_a_container_reads_back_as_written_and_usbip_sees_its_first_line_only()
    {
        var record = new VhciPortRecord("127.0.0.1", 3240, UsbBusId.Parse("2-3"), new VirtTools.UsbIp.Containers.ContainerGrant("desk042", 4242, new[]
        {
            new VirtTools.Usb.DeviceNode("/dev/bus/usb/004/002", false, 189, 385),
            new VirtTools.Usb.DeviceNode("/dev/sda", true, 8, 0),
        }));
        var text = record.ToFileText();
        Assert.StartsWith("127.0.0.1 3240 2-3\n", text);
        Assert.Equal(record, VhciPortRecord.Parse(text));
    }

    [Theory]
    [InlineData("127.0.0.1 3240 2-3\ncontainer desk042\n")]
    [InlineData("127.0.0.1 3240 2-3\ncontainer -rf 1\n")]
    [InlineData("127.0.0.1 3240 2-3\ncontainer desk042 0\n")]
    [InlineData("127.0.0.1 3240 2-3\nowner desk042 5\n")]
    [InlineData("127.0.0.1 3240 2-3\ncontainer desk042 5\nnode /etc/passwd c 1 3\n")]
    [InlineData("127.0.0.1 3240 2-3\ncontainer desk042 5\nnode /dev/../etc/shadow c 1 3\n")]
    [InlineData("127.0.0.1 3240 2-3\ncontainer desk042 5\nnode /dev/sda x 8 0\n")]
    [InlineData("127.0.0.1 3240 2-3\ncontainer desk042 5\nnode /dev/sda b 8\n")]
    public void A_record_whose_container_lines_are_not_valid_reads_as_none(string text) => Assert.Null(VhciPortRecord.Parse(text));

    [Fact]
    public void A_record_with_more_nodes_than_a_device_brings_reads_as_none()
    {
        var text = "127.0.0.1 3240 2-3\ncontainer desk042 5\n" + string.Concat(Enumerable.Range(0, 65).Select(i => $"node /dev/hidraw{i} c 243 {i}\n"));
        Assert.Null(VhciPortRecord.Parse(text));
    }

    [Fact]
    public void An_attach_record_writes_back_the_same_text()
    {
        Assert.Equal("127.0.0.1 3240 2-3\n", new VhciPortRecord("127.0.0.1", 3240, UsbBusId.Parse("2-3")).ToFileText());
    }

    [Fact]
    public void The_first_free_port_of_a_hub_is_found_as_usbip_attach_would_pick_it()
    {
        Assert.Equal(0, Captured.FindFreePort(VhciHub.HighSpeed)!.Port);
        Assert.Equal(16, Captured.FindFreePort(VhciHub.SuperSpeed)!.Port);
        Assert.Equal(VhciHub.SuperSpeed, VhciReader.HubFor(UsbSpeed.SuperPlus));
        Assert.Equal(VhciHub.HighSpeed, VhciReader.HubFor(UsbSpeed.Full));
    }

    [Fact]
    public void Capacity_counts_controllers_nports_and_free_ports_per_hub()
    {
        var capacity = Captured.GetCapacity();
        Assert.Equal(new VhciCapacity(8, 240,
            new VhciHubCapacity(VhciHub.HighSpeed, Ports: 120, InUse: 0, Free: 120, PortsPerController: 15),
            new VhciHubCapacity(VhciHub.SuperSpeed, Ports: 120, InUse: 1, Free: 119, PortsPerController: 15)), capacity);
        Assert.True(capacity.IsAvailable);
    }

    [Fact]
    public void The_per_controller_layout_is_read_from_each_controllers_own_status()
    {
        using var tree = new TemporaryTree();
        for (int c = 0; c < 2; c++)
        {
            var rows = string.Join("\n", Enumerable.Range(0, 2).Select(i => $"hs  {i:0000} 004 000 00000000 000000 0-0")
                .Concat(Enumerable.Range(2, 2).Select(i => $"ss  {i:0000} 004 000 00000000 000000 0-0")));
            tree.File($"/sys/devices/platform/vhci_hcd.{c}/status", "hub port sta spd dev      sockfd local_busid\n" + rows)
                .File($"/sys/devices/platform/vhci_hcd.{c}/nports", "4");
        }
        tree.File("/sys/devices/platform/vhci_hcd.1/status", "hub port sta spd dev      sockfd local_busid\nhs  0000 006 003 00010002 000007 6-1\n");
        var reader = new VhciReader(new SystemRoot(tree.Path));
        var controllers = reader.GetControllers();
        Assert.All(controllers, c => Assert.Equal(VhciLayout.PerController, c.Layout));
        Assert.Equal("/sys/devices/platform/vhci_hcd.1/attach", controllers[1].AttachPath);
        var ports = reader.GetPorts();
        Assert.Equal(5, ports.Count);
        var used = Assert.Single(ports, p => p.IsInUse);
        Assert.Equal(("vhci_hcd.1", "6-1", UsbSpeed.High), (used.Controller, used.LocalBusId?.ToString(), used.Speed));
        Assert.Equal(8, reader.GetCapacity().PortCount);
    }

    [Fact]
    public void An_older_kernel_without_a_hub_column_puts_every_port_on_the_high_speed_hub()
    {
        using var tree = new TemporaryTree()
            .File("/sys/devices/platform/vhci_hcd.0/status", "prt sta spd bus dev socket           local_busid\n000 004 000 000 000 0000000000000000 0-0\n001 006 002 00030005 ffff88003d2a6a80 3-2");
        var ports = new VhciReader(new SystemRoot(tree.Path)).GetPorts();
        Assert.All(ports, p => Assert.Equal(VhciHub.HighSpeed, p.Hub));
        Assert.Equal(("3-2", UsbSpeed.Full, (int?)null), (ports[1].LocalBusId?.ToString(), ports[1].Speed, ports[1].SocketFd));
    }

    [Fact]
    public void An_unknown_port_state_keeps_its_code_and_has_no_status()
    {
        using var tree = new TemporaryTree().File("/sys/devices/platform/vhci_hcd.0/status", "hs  0000 009 000 00000000 000000 0-0");
        var port = Assert.Single(new VhciReader(new SystemRoot(tree.Path)).GetPorts());
        Assert.Null(port.Status);
        Assert.Equal(9, port.StatusCode);
    }

    [Fact]
    public void Without_vhci_hcd_there_are_no_controllers_and_no_ports()
    {
        using var tree = new TemporaryTree().Directory("/sys/devices/platform/serial8250");
        var reader = new VhciReader(new SystemRoot(tree.Path));
        Assert.Empty(reader.GetControllers());
        Assert.Empty(reader.GetPorts());
        Assert.False(reader.GetCapacity().IsAvailable);
        Assert.Null(reader.GetCapacity().PortCount);
    }
}
