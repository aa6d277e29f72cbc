using VirtTools.Usb;
using Xunit;

namespace VirtTools.Tests.Engine.Usb;

public sealed class UsbBusIdTests
{
    [Theory]
    [InlineData("1-1.2", 1, new[] { 1, 2 })]
    [InlineData("12-3", 12, new[] { 3 })]
    [InlineData("usb4", 4, new int[0])]
    public void A_device_name_splits_into_bus_and_port_path(string busId, int bus, int[] ports)
    {
        Assert.True(UsbBusId.TryParse(busId, out var parsedBus, out var parsedPorts));
        Assert.Equal(bus, parsedBus);
        Assert.Equal(ports, parsedPorts);
    }

    [Theory]
    [InlineData("1-1:1.0")]
    [InlineData("../1-1")]
    [InlineData("1-")]
    [InlineData("usb")]
    [InlineData("1-1..2")]
    [InlineData("0-1")]
    [InlineData("")]
    public void Interfaces_paths_and_garbage_are_not_bus_ids(string text) => Assert.False(UsbBusId.IsValid(text));

    [Theory]
    [InlineData("1-1.2.3", "1-1.2")]
    [InlineData("1-1", "usb1")]
    [InlineData("usb1", null)]
    public void The_parent_is_the_hub_one_level_up(string busId, string? parent) => Assert.Equal(parent, UsbBusId.Parent(busId));

    [Fact]
    public void Bus_ids_sort_by_bus_then_port_numerically_with_the_root_hub_first()
    {
        var ids = new List<string> { "10-1", "2-10", "2-9", "usb2", "2-9.1", "1-1" };
        ids.Sort(UsbBusId.Comparer);
        Assert.Equal(new[] { "1-1", "usb2", "2-9", "2-9.1", "2-10", "10-1" }, ids);
    }

    [Theory]
    [InlineData(1.5, UsbSpeed.Low)]
    [InlineData(12, UsbSpeed.Full)]
    [InlineData(480, UsbSpeed.High)]
    [InlineData(5000, UsbSpeed.Super)]
    [InlineData(10000, UsbSpeed.SuperPlus)]
    [InlineData(20000, UsbSpeed.SuperPlus)]
    public void A_sysfs_speed_maps_to_the_USBIP_speed_code(double mbps, UsbSpeed speed) => Assert.Equal(speed, UsbSpeeds.FromMbps(mbps));

    [Theory]
    [InlineData("1.5", 1.5)]
    [InlineData("5000", 5000.0)]
    [InlineData("unknown", null)]
    [InlineData("", null)]
    public void The_sysfs_speed_text_parses_as_megabits(string text, double? mbps) => Assert.Equal(mbps, UsbSpeeds.ParseMbps(text));
}
