using System.Net;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Protocol;
using VirtTools.UsbIp.Server;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>
/// What the device list sends as a device's path under -Root (its place in /sys/devices as seen inside the root, as
/// usbipd sends udev's syspath), and that a device that vanishes, loops or leads out of the root while the list is
/// read is left out without costing the others their place in the list.
/// </summary>
public sealed class DeviceListPathTests
{
    [Fact]
    public void The_captured_export_is_sent_with_its_sysfs_path_inside_the_root_not_the_roots_folder()
    {
        var root = new SystemRoot(CapturedFixture.Shared);
        var device = Assert.Single(new SysfsExportedDeviceSource(root).ReadExportedDevices());
        Assert.Equal("/sys/devices/pci0000:00/0000:00:01.0/usb2/2-3", device.Record.Path);
        Assert.DoesNotContain(root.Path, device.Record.Path);
    }

    [Fact]
    public async Task Paths_a_server_on_a_root_sends_never_contain_the_root()
    {
        using var tree = new DeviceListTree().Plug("1-1").Bind("1-1").Plug("3-2", 4).Bind("3-2");
        var server = UsbIpServer.Start(CachedExportedDeviceSource.For(tree.Root), new UsbIpServerFixture.RecordingHandoff(), new UsbIpServerOptions
        {
            Addresses = new[] { IPAddress.Loopback }, TcpPort = 0, Root = tree.Root.Path,
        });
        try
        {
            var devices = await UsbIpClient.ListDevicesAsync("127.0.0.1", server.TcpPort, TimeSpan.FromSeconds(20));
            Assert.Equal(new[] { DeviceListTree.DevicePath("1-1"), DeviceListTree.DevicePath("3-2") }, devices.Select(d => d.Path));
            Assert.All(devices, d => Assert.DoesNotContain(tree.Tree.Path, d.Path));
        }
        finally
        {
            await server.StopAsync();
        }
    }

    [Fact]
    public void A_device_whose_link_leads_out_of_the_root_is_left_out_and_its_place_never_sent()
    {
        using var outside = new DeviceListTree().Plug("1-5");
        using var tree = new DeviceListTree().Plug("1-1").Bind("1-1");
        // An absolute link to a device folder outside the root: following it would read (and send) someone else's device.
        var escaped = outside.Tree.Resolve(DeviceListTree.DevicePath("1-5"));
        tree.Tree.Link("/sys/bus/usb/devices/1-5", escaped).Link(DeviceListTree.DriverPath + "/1-5", escaped);

        var devices = new SysfsExportedDeviceSource(tree.Root).ReadExportedDevices();
        Assert.Equal(new[] { "1-1" }, devices.Select(d => d.Record.BusId));
        Assert.All(devices, d => Assert.DoesNotContain(outside.Tree.Path, d.Record.Path));
    }

    [Theory]
    [InlineData("absolute")]
    [InlineData("climbing")]
    public void A_link_in_a_tree_that_the_system_would_follow_out_of_it_is_not_followed(string how)
    {
        using var tree = new DeviceListTree().Plug("1-1").Bind("1-1").Plug("1-7").Bind("1-7");
        // "/sys/devices/..." (absolute), or enough ".." to climb above the root and down again: the system follows
        // either to this machine's own /sys, whatever the tree holds at that place.
        var target = how == "absolute" ? DeviceListTree.DevicePath("1-7") : string.Concat(Enumerable.Repeat("../", 40)) + DeviceListTree.DevicePath("1-7")[1..];
        foreach (var link in new[] { "/sys/bus/usb/devices/1-7", DeviceListTree.DriverPath + "/1-7" })
        {
            File.Delete(tree.Tree.Resolve(link));
            tree.Tree.Link(link, target);
        }
        Assert.Equal(new[] { "1-1" }, new SysfsExportedDeviceSource(tree.Root).ReadExportedDevices().Select(d => d.Record.BusId));
    }

    [Fact]
    public void Vanished_looping_and_oversized_devices_are_left_out_and_the_others_listed()
    {
        using var tree = new DeviceListTree().Plug("1-1").Bind("1-1").Plug("1-2").Bind("1-2").Plug("1-3").Bind("1-3");
        // 1-2 unplugged between the driver folder's listing and the read: its links dangle.
        Directory.Delete(tree.Tree.Resolve(DeviceListTree.DevicePath("1-2")), recursive: true);
        // 1-3's link loops.
        File.Delete(tree.Tree.Resolve("/sys/bus/usb/devices/1-3"));
        tree.Tree.Link("/sys/bus/usb/devices/1-3", "1-3");
        // A bus id that does not fit the protocol's 32 bytes.
        var longName = "1-" + string.Join('.', Enumerable.Repeat("1", 16));
        tree.Plug(longName).Bind(longName);

        var devices = new SysfsExportedDeviceSource(tree.Root).ReadExportedDevices();
        Assert.Equal(new[] { "1-1" }, devices.Select(d => d.Record.BusId));
        var reply = new byte[UsbIpManagementCodec.DeviceListReplySize(devices.Select(d => d.Record).ToList())];
        UsbIpManagementCodec.WriteDeviceListReply(reply, devices.Select(d => d.Record).ToList());
    }

    [Fact]
    public void A_path_longer_than_the_field_is_cut_as_usbipd_cuts_it_and_the_list_is_still_sent()
    {
        // Hubs behind hubs behind a long PCI chain: a real path can pass 255 bytes.
        using var tree = new DeviceListTree().Plug("1-1").Bind("1-1");
        var deep = DeviceListTree.HostController + string.Concat(Enumerable.Range(0, 12).Select(i => $"/0000:{i:x2}:00.0-bridge-with-a-long-name"));
        var path = tree.Tree.Resolve(DeviceListTree.DevicePath("1-1"));
        Directory.CreateDirectory(tree.Tree.Resolve(deep));
        Directory.Move(path, tree.Tree.Resolve(deep + "/1-1"));
        var relative = "../../.." + deep["/sys".Length..] + "/1-1";
        File.Delete(tree.Tree.Resolve("/sys/bus/usb/devices/1-1"));
        File.Delete(tree.Tree.Resolve(DeviceListTree.DriverPath + "/1-1"));
        tree.Tree.Link("/sys/bus/usb/devices/1-1", relative).Link(DeviceListTree.DriverPath + "/1-1", "../../../.." + deep["/sys".Length..] + "/1-1");

        var record = Assert.Single(new SysfsExportedDeviceSource(tree.Root).ReadExportedDevices()).Record;
        Assert.Equal(UsbIpProtocol.PathFieldSize - 1, record.Path.Length);
        Assert.StartsWith(deep[..200], record.Path);
        var reply = new byte[UsbIpManagementCodec.DeviceListReplySize(new[] { record })];
        UsbIpManagementCodec.WriteDeviceListReply(reply, new[] { record });
        Assert.Equal(record.Path, Assert.Single(UsbIpManagementCodec.DecodeDeviceListReply(reply)).Path);
    }

    [Fact]
    public async Task A_device_unplugged_and_plugged_again_while_lists_are_read_never_costs_a_reply()
    {
        using var tree = new DeviceListTree().Plug("1-1").Bind("1-1").Plug("1-2").Bind("1-2");
        // Read each time (no cache), so every request races the churn.
        var server = UsbIpServer.Start(new SysfsExportedDeviceSource(tree.Root), new UsbIpServerFixture.RecordingHandoff(), new UsbIpServerOptions
        {
            Addresses = new[] { IPAddress.Loopback }, TcpPort = 0, Root = tree.Root.Path,
        });
        using var stop = new CancellationTokenSource();
        var churn = Task.Run(() =>
        {
            var rounds = 0;
            for (; !stop.IsCancellationRequested && rounds < 100_000; rounds++)
            {
                tree.Unplug("1-2");
                tree.Plug("1-2").Bind("1-2");
            }
            return rounds;
        });
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            for (var i = 0; i < 300 && DateTime.UtcNow < deadline; i++)
            {
                var devices = await UsbIpClient.ListDevicesAsync("127.0.0.1", server.TcpPort, TimeSpan.FromSeconds(20));
                Assert.Contains(devices, d => d.BusId == "1-1");
                Assert.All(devices, d => Assert.StartsWith(DeviceListTree.HostController + "/usb1/1-", d.Path));
            }
            Assert.Equal(0, server.ProtocolErrors);
        }
        finally
        {
            stop.Cancel();
            Assert.True(await churn > 0);
            await server.StopAsync();
        }
    }
}
