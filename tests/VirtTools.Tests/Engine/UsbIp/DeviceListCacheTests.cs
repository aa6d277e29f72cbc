using System.Collections.Concurrent;
using System.Net.Sockets;
using VirtTools.Usb;
using VirtTools.UsbIp.Server;
using VirtTools.UsbIp;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>
/// The cached device list against a fresh sysfs reading, on a tree that changes as the kernel changes it, with the
/// uevent the kernel sends fed through a fake channel. The readings are kept for an hour here, so a list that follows
/// a change was read again because of the uevent, and one that does not follow it was served from the cache.
/// </summary>
public sealed class DeviceListCacheTests : IDisposable
{
    private static readonly TimeSpan Forever = TimeSpan.FromHours(1);

    private readonly DeviceListTree _tree = new DeviceListTree().Plug("1-1", 2).Plug("1-2", 3, "0002").Bind("1-1");
    private readonly FakeUeventChannel _channel = new();
    private readonly CachedExportedDeviceSource _cache;

    public DeviceListCacheTests() =>
        _cache = new CachedExportedDeviceSource(new SysfsExportedDeviceSource(_tree.Root), () => _channel, Forever);

    public void Dispose()
    {
        _cache.Dispose();
        _tree.Dispose();
    }

    private string Cached() => DeviceListTree.Describe(_cache.ReadExportedDevices());

    public static TheoryData<string> Changes => new() { "bind", "unbind", "remove", "add", "change", "interfaces", "rebind" };

    [Theory]
    [MemberData(nameof(Changes))]
    public async Task After_each_kind_of_change_and_its_uevent_the_cache_lists_what_a_fresh_read_lists(string change)
    {
        Assert.Equal(_tree.Fresh(), Cached());
        Assert.Contains("1-1", Cached());
        var uevents = Apply(change);
        var stale = Cached();
        Assert.NotEqual(_tree.Fresh(), stale); // the change alone is not seen: this is the cache answering

        foreach (var uevent in uevents) _channel.Send(uevent);
        await _channel.WaitHandledAsync();
        Assert.Equal(_tree.Fresh(), Cached());
    }

    /// <summary>The tree changed as the kernel changes it; the uevents it sends for that.</summary>
    private byte[][] Apply(string change)
    {
        switch (change)
        {
            case "bind":
                _tree.Bind("1-2");
                return new[] { DeviceListTree.UsbDeviceUevent("unbind", "1-2"), DeviceListTree.UsbDeviceUevent("bind", "1-2", "DRIVER=usbip-host") };
            case "unbind":
                _tree.Unbind("1-1");
                return new[] { DeviceListTree.UsbDeviceUevent("unbind", "1-1") };
            case "remove":
                _tree.Unplug("1-1");
                return new[] { DeviceListTree.UsbDeviceUevent("remove", "1-1") };
            case "add":
                _tree.Plug("1-3", 9).Bind("1-3");
                return new[] { DeviceListTree.UsbDeviceUevent("add", "1-3"), DeviceListTree.UsbDeviceUevent("bind", "1-3", "DRIVER=usbip-host") };
            case "change":
                _tree.Set("1-1", "idProduct", "beef");
                return new[] { DeviceListTree.UsbDeviceUevent("change", "1-1") };
            case "interfaces":
                // A new configuration: the old interface goes, two new ones come, each with its own uevent.
                Directory.Delete(_tree.Tree.Resolve(DeviceListTree.DevicePath("1-1") + "/1-1:1.0"), recursive: true);
                _tree.Set("1-1", "bConfigurationValue", "2").Set("1-1", "bNumInterfaces", " 2").Interface("1-1", "2.0", "03").Interface("1-1", "2.1", "0a");
                return new[]
                {
                    DeviceListTree.Uevent("remove", DeviceListTree.DevicePath("1-1") + "/1-1:1.0", "usb", "DEVTYPE=usb_interface"),
                    DeviceListTree.Uevent("add", DeviceListTree.DevicePath("1-1") + "/1-1:2.0", "usb", "DEVTYPE=usb_interface"),
                    DeviceListTree.Uevent("add", DeviceListTree.DevicePath("1-1") + "/1-1:2.1", "usb", "DEVTYPE=usb_interface"),
                };
            case "rebind":
                // usbip-host unloaded: its devices unbound, then the driver itself goes.
                _tree.Unbind("1-1");
                return new[] { DeviceListTree.Uevent("remove", "/sys/bus/usb/drivers/usbip-host", "drivers") };
            default:
                throw new ArgumentOutOfRangeException(nameof(change));
        }
    }

    [Fact]
    public async Task A_list_read_after_an_invalidating_uevent_is_never_the_stale_one()
    {
        Assert.Contains("0001", Cached());
        for (var round = 0; round < 20; round++)
        {
            var product = (0x1000 + round).ToString("x4");
            _tree.Set("1-1", "idProduct", product);
            _channel.Send(DeviceListTree.UsbDeviceUevent("change", "1-1"));
            await _channel.WaitHandledAsync();
            Assert.Contains(":" + product, Cached());
        }
    }

    [Fact]
    public async Task Uevents_of_other_subsystems_do_not_throw_the_list_away()
    {
        Assert.Contains("0001", Cached());
        _tree.Set("1-1", "idProduct", "beef");
        _channel.Send(DeviceListTree.Uevent("add", "/sys/devices/virtual/block/loop0", "block", "DEVTYPE=disk"));
        _channel.Send(DeviceListTree.Uevent("change", DeviceListTree.HostController + "/usb1/1-1/1-1:1.0/host0/target0:0:0", "scsi"));
        await _channel.WaitHandledAsync();
        Assert.Contains("46f4:0001", Cached());
    }

    public static TheoryData<string, byte[]> Malformed => new()
    {
        { "empty", Array.Empty<byte>() },
        { "no header", "ACTION=change\0DEVPATH=/devices/x\0SUBSYSTEM=usb\0"u8.ToArray() },
        { "udev's re-broadcast", "libudev\0\u00fe\u00ed\u00ca\u00feSUBSYSTEM=usb\0"u8.ToArray() },
        { "header and ACTION disagree", "change@/devices/x\0ACTION=add\0DEVPATH=/devices/x\0SUBSYSTEM=usb\0"u8.ToArray() },
        { "header and DEVPATH disagree", "change@/devices/x\0ACTION=change\0DEVPATH=/devices/y\0SUBSYSTEM=usb\0"u8.ToArray() },
        { "relative devpath", "change@devices/x\0SUBSYSTEM=usb\0"u8.ToArray() },
        { "not UTF-8", new byte[] { 0xff, 0xfe, (byte)'@', (byte)'/', 0 }.Concat("SUBSYSTEM=usb\0"u8.ToArray()).ToArray() },
        { "huge", DeviceListTree.UsbDeviceUevent("change", "1-1", "PAD=" + new string('x', 100_000)) },
        { "just over the limit", DeviceListTree.UsbDeviceUevent("change", "1-1", "PAD=" + new string('x', Uevent.MaxDatagramBytes)) },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task Malformed_and_huge_datagrams_are_ignored_and_the_listener_goes_on(string what, byte[] datagram)
    {
        Assert.Contains("0001", Cached());
        _tree.Set("1-1", "idProduct", "beef");
        _channel.Send(datagram);
        await _channel.WaitHandledAsync();
        Assert.True(Cached().Contains("46f4:0001"), $"{what}: the datagram was taken for a uevent");

        _channel.Send(DeviceListTree.UsbDeviceUevent("change", "1-1"));
        await _channel.WaitHandledAsync();
        Assert.Contains("46f4:beef", Cached());
    }

    [Fact]
    public async Task Lost_uevents_throw_the_list_away()
    {
        Assert.Contains("0001", Cached());
        _tree.Set("1-1", "idProduct", "beef");
        _channel.Overflow();
        await _channel.WaitHandledAsync();
        Assert.Contains("46f4:beef", Cached());
    }

    [Fact]
    public void Usbip_status_is_read_for_every_request_since_an_import_sends_no_uevent()
    {
        Assert.Contains("Available", Cached());
        _tree.Set("1-1", "usbip_status", "2");
        Assert.Equal(UsbIpStatus.InUse, Assert.Single(_cache.ReadExportedDevices(), d => d.Record.BusId == "1-1").Status);
        _tree.Set("1-1", "usbip_status", "1");
        Assert.Equal(UsbIpStatus.Available, Assert.Single(_cache.ReadExportedDevices(), d => d.Record.BusId == "1-1").Status);
        Assert.Equal(_tree.Fresh(), Cached());
    }

    [Fact]
    public void A_reading_older_than_the_maximum_age_is_read_again_even_without_a_uevent()
    {
        using var cache = new CachedExportedDeviceSource(new SysfsExportedDeviceSource(_tree.Root), () => new FakeUeventChannel(), TimeSpan.FromMilliseconds(50));
        Assert.Contains("46f4:0001", DeviceListTree.Describe(cache.ReadExportedDevices()));
        _tree.Set("1-1", "idProduct", "beef");
        Assert.True(SpinWait.SpinUntil(() => DeviceListTree.Describe(cache.ReadExportedDevices()).Contains("46f4:beef"), TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public void Under_a_root_without_uevents_binding_unbinding_usbip_status_and_the_devices_own_files_show_at_once()
    {
        using var cache = new CachedExportedDeviceSource(new SysfsExportedDeviceSource(_tree.Root), uevents: null, Forever);
        Assert.False(cache.IsListening);
        Assert.Equal(_tree.Fresh(), DeviceListTree.Describe(cache.ReadExportedDevices()));
        _tree.Bind("1-2");
        Assert.Equal(_tree.Fresh(), DeviceListTree.Describe(cache.ReadExportedDevices()));
        _tree.Unbind("1-1");
        Assert.Equal(_tree.Fresh(), DeviceListTree.Describe(cache.ReadExportedDevices()));
        for (var round = 0; round < 10; round++)
        {
            _tree.Set("1-2", "usbip_status", round % 2 == 0 ? "2" : "1");
            Assert.Equal(round % 2 == 0 ? UsbIpStatus.InUse : UsbIpStatus.Available, Assert.Single(cache.ReadExportedDevices()).Status);
        }
        _tree.Set("1-2", "idProduct", "beef");
        Assert.Contains("46f4:beef", DeviceListTree.Describe(cache.ReadExportedDevices()));
        Assert.Equal(_tree.Fresh(), DeviceListTree.Describe(cache.ReadExportedDevices()));
    }

    [Fact]
    public void Under_a_root_an_interface_attribute_is_read_again_within_the_maximum_age()
    {
        using var kept = new CachedExportedDeviceSource(new SysfsExportedDeviceSource(_tree.Root), uevents: null, Forever);
        Assert.Contains("i1[080650]", DeviceListTree.Describe(kept.ReadExportedDevices()));
        _tree.Interface("1-1", "1.0", "03");
        Assert.Contains("i1[080650]", DeviceListTree.Describe(kept.ReadExportedDevices())); // the interface folder is not watched

        using var aging = new CachedExportedDeviceSource(new SysfsExportedDeviceSource(_tree.Root), uevents: null, TimeSpan.FromMilliseconds(50));
        _tree.Interface("1-1", "1.0", "0a");
        Assert.True(SpinWait.SpinUntil(() => DeviceListTree.Describe(aging.ReadExportedDevices()).Contains("i1[0a0650]"), TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public void Under_a_root_whose_driver_folder_cannot_be_watched_the_bound_list_and_usbip_status_are_read_per_request()
    {
        using var tree = new DeviceListTree().Plug("1-1", 2);
        Directory.Delete(tree.Tree.Resolve(DeviceListTree.DriverPath), recursive: true); // usbip-host not loaded yet
        using var cache = new CachedExportedDeviceSource(new SysfsExportedDeviceSource(tree.Root), uevents: null, Forever);
        Assert.Empty(cache.ReadExportedDevices());
        tree.Tree.Directory(DeviceListTree.DriverPath);
        tree.Bind("1-1");
        Assert.Equal("1-1", Assert.Single(cache.ReadExportedDevices()).Record.BusId);
        tree.Set("1-1", "usbip_status", "2");
        Assert.Equal(UsbIpStatus.InUse, Assert.Single(cache.ReadExportedDevices()).Status);
    }

    [Fact]
    public async Task Under_a_root_a_write_made_before_a_request_begins_is_in_its_answer_while_others_ask_at_the_same_time()
    {
        using var cache = new CachedExportedDeviceSource(new SysfsExportedDeviceSource(_tree.Root), uevents: null, Forever);
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 1_000_000 && !stop.IsCancellationRequested; i++) cache.ReadExportedDevices();
        })).ToArray();
        try
        {
            for (var round = 0; round < 200; round++)
            {
                var status = round % 2 == 0 ? UsbIpStatus.InUse : UsbIpStatus.Available;
                _tree.Set("1-1", "usbip_status", ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture));
                Assert.Equal(status, Assert.Single(cache.ReadExportedDevices()).Status);
            }
        }
        finally
        {
            stop.Cancel();
            await Task.WhenAll(load).WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public void Where_the_uevent_socket_cannot_be_opened_it_says_so_once_and_lists_without_it()
    {
        var log = new ConcurrentQueue<string>();
        var opened = 0;
        using var cache = new CachedExportedDeviceSource(new SysfsExportedDeviceSource(_tree.Root), () =>
        {
            Interlocked.Increment(ref opened);
            throw new SocketException((int)SocketError.AccessDenied);
        }, Forever, log.Enqueue);
        Assert.Equal(_tree.Fresh(), DeviceListTree.Describe(cache.ReadExportedDevices()));
        _tree.Bind("1-2");
        Assert.Equal(_tree.Fresh(), DeviceListTree.Describe(cache.ReadExportedDevices()));
        Assert.False(cache.IsListening);
        Assert.Equal(1, opened);
        Assert.Contains("kernel uevents cannot be listened to", Assert.Single(log));
    }

    [Fact]
    public void The_socket_is_closed_when_nobody_asks_and_opened_again_by_the_next_request_which_reads_afresh()
    {
        var channels = new ConcurrentQueue<FakeUeventChannel>();
        using var cache = new CachedExportedDeviceSource(new SysfsExportedDeviceSource(_tree.Root), () =>
        {
            var channel = new FakeUeventChannel();
            channels.Enqueue(channel);
            return channel;
        }, Forever, idleTimeout: TimeSpan.FromMilliseconds(100));
        Assert.Contains("46f4:0001", DeviceListTree.Describe(cache.ReadExportedDevices()));
        var first = Assert.Single(channels);
        Assert.True(SpinWait.SpinUntil(() => first.IsDisposed, TimeSpan.FromSeconds(20)), "the idle socket was not closed");

        _tree.Set("1-1", "idProduct", "beef"); // while nobody listened
        Assert.Contains("46f4:beef", DeviceListTree.Describe(cache.ReadExportedDevices()));
        Assert.Equal(2, channels.Count);
    }

    [Fact]
    public void Disposing_closes_the_socket()
    {
        Assert.True(_cache.IsListening);
        _cache.Dispose();
        Assert.True(_channel.IsDisposed);
        Assert.False(_cache.IsListening);
    }
}
