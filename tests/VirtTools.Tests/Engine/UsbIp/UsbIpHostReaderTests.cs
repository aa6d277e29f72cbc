using VirtTools.Usb;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Host;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

public sealed class UsbIpHostReaderTests
{
    private static UsbIpHostReader Captured => new(new SystemRoot(CapturedFixture.Shared));

    [Fact]
    public void The_captured_export_is_bound_matched_and_in_use_with_its_device_identity()
    {
        var export = Assert.Single(Captured.GetExports());
        Assert.Equal("2-3", export.BusId.ToString());
        Assert.True(export.IsBound);
        Assert.True(export.IsInMatchTable);
        Assert.Equal(UsbIpStatus.InUse, export.Status);
        Assert.Equal(("46f4", "0001"), (export.VendorId, export.ProductId));
        Assert.Equal("LAB0001", export.SerialNumber);
        Assert.Equal("QEMU USB HARDDRIVE", export.Product);
        Assert.Equal(CapturedFixture.Shared, export.Root);
    }

    [Fact]
    public void Match_busid_and_the_driver_links_are_read_separately()
    {
        Assert.Equal(new[] { "2-3" }, Captured.GetMatchBusIds().Select(b => b.ToString()));
        Assert.Equal(new[] { "2-3" }, Captured.GetBoundBusIds().Select(b => b.ToString()));
    }

    [Fact]
    public void Find_returns_the_export_or_null_for_a_device_that_is_not_exported()
    {
        Assert.Equal("2-3", (Captured.Find(UsbBusId.Parse("2-3"))!.BusId).ToString());
        Assert.Null(Captured.Find(UsbBusId.Parse("1-1")));
    }

    [Fact]
    public void A_matched_bus_id_whose_device_is_unplugged_is_listed_as_not_present()
    {
        using var tree = CapturedFixture.CreateCopy();
        tree.File("/sys/bus/usb/drivers/usbip-host/match_busid", "2-3 1-7 ");
        var pending = new UsbIpHostReader(new SystemRoot(tree.Path)).Find(UsbBusId.Parse("1-7"))!;
        Assert.False(pending.IsBound);
        Assert.True(pending.IsInMatchTable);
        Assert.False(pending.IsPresent);
        Assert.Null(pending.Status);
        Assert.Null(pending.VendorId);
    }

    [Theory]
    [InlineData("1", UsbIpStatus.Available)]
    [InlineData("3", UsbIpStatus.Error)]
    [InlineData("9", null)]
    [InlineData("garbage", null)]
    public void Usbip_status_maps_to_the_enum_and_unknown_values_to_null(string content, UsbIpStatus? status)
    {
        using var tree = CapturedFixture.CreateCopy();
        tree.File("/sys/devices/pci0000:00/0000:00:01.0/usb2/2-3/usbip_status", content);
        Assert.Equal(status, new UsbIpHostReader(new SystemRoot(tree.Path)).Find(UsbBusId.Parse("2-3"))!.Status);
    }

    [Fact]
    public void Without_the_usbip_host_driver_nothing_is_exported_and_nothing_fails()
    {
        using var tree = new TemporaryTree().Directory("/sys/bus/usb/drivers/usb");
        var reader = new UsbIpHostReader(new SystemRoot(tree.Path));
        Assert.False(reader.IsDriverLoaded);
        Assert.Empty(reader.GetExports());
        Assert.Empty(reader.GetMatchBusIds());
        Assert.Null(reader.Find(UsbBusId.Parse("1-1")));
    }
}
