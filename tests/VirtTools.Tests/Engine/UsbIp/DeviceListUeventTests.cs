using System.Collections.Concurrent;
using System.Net.Sockets;
using VirtTools.Sysfs;
using VirtTools.UsbIp.Server;
using Xunit;
using Xunit.Abstractions;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>Kernel uevent datagrams as the device-list cache reads them, and the real netlink socket where it may be opened.</summary>
public sealed class DeviceListUeventTests(ITestOutputHelper output)
{
    [Fact]
    public void A_kernel_uevent_is_read_with_its_action_path_subsystem_type_and_driver()
    {
        var datagram = DeviceListTree.UsbDeviceUevent("bind", "2-3", "DRIVER=usbip-host", "PRODUCT=46f4/1/0", "BUSNUM=002");
        Assert.True(Uevent.TryParse(datagram, out var uevent));
        Assert.Equal(new Uevent("bind", "/devices/pci0000:00/0000:00:14.0/usb2/2-3", "usb", "usb_device", "usbip-host"), uevent);
        Assert.True(uevent!.IsUsbRelated);
    }

    [Theory]
    [InlineData("add", "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0", "usb", true)]
    [InlineData("remove", "/sys/bus/usb/drivers/usbip-host", "drivers", true)]
    [InlineData("add", "/sys/module/usbip_host", "module", true)]
    [InlineData("add", "/sys/devices/virtual/block/loop0", "block", false)]
    [InlineData("add", "/sys/bus/pci/drivers/vfio-pci", "drivers", false)]
    [InlineData("add", "/sys/module/kvm", "module", false)]
    [InlineData("change", "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/0003:046D:C52B.0001/input/input5", "input", false)]
    public void Only_uevents_about_the_usb_bus_its_drivers_and_the_usbip_modules_count(string action, string path, string subsystem, bool counts)
    {
        Assert.True(Uevent.TryParse(DeviceListTree.Uevent(action, path, subsystem), out var uevent));
        Assert.Equal(counts, uevent!.IsUsbRelated);
    }

    [Fact]
    public void Fields_past_the_kernels_sixty_four_are_not_read()
    {
        var padding = Enumerable.Range(0, 70).Select(i => $"X{i}=y").ToArray();
        var datagram = DeviceListTree.Uevent("change", "/sys/devices/platform/x", "platform", padding.Append("DRIVER=usbip-host").ToArray());
        Assert.True(Uevent.TryParse(datagram, out var uevent));
        Assert.Null(uevent!.Driver);
    }

    /// <summary>
    /// Opens the kernel's uevent socket where this machine allows it and checks the cache listens and lists what a
    /// fresh reading lists; where it is refused (a container without netlink), checks the fallback instead and says so.
    /// </summary>
    [Fact]
    public void On_the_live_root_the_cache_listens_to_the_kernel_where_permitted_and_falls_back_with_a_note_where_not()
    {
        string? refusal = null;
        try { NetlinkUeventChannel.Open().Dispose(); }
        catch (SocketException e) { refusal = e.Message; }

        var log = new ConcurrentQueue<string>();
        using var cache = CachedExportedDeviceSource.For(SystemRoot.Live, log.Enqueue);
        var fresh = DeviceListTree.Describe(new SysfsExportedDeviceSource(SystemRoot.Live).ReadExportedDevices());
        Assert.Equal(fresh, DeviceListTree.Describe(cache.ReadExportedDevices()));
        if (refusal is null)
        {
            output.WriteLine("netlink uevent socket opened: the listening path was tested");
            Assert.True(cache.IsListening);
            Assert.Empty(log);
        }
        else
        {
            output.WriteLine($"SKIPPED the listening path: this machine refuses the netlink uevent socket ({refusal}); the fallback was tested");
            Assert.False(cache.IsListening);
            Assert.Contains("kernel uevents cannot be listened to", Assert.Single(log));
        }
        cache.Dispose();
        Assert.False(cache.IsListening);
    }
}
