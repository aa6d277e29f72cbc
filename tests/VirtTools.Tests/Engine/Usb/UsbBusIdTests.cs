using VirtTools.Usb;
using Xunit;

namespace VirtTools.Tests.Engine.Usb;

public sealed class UsbBusIdTests
{
    [Theory]
    [InlineData("1-1.2", 1, new[] { 1, 2 })]
    [InlineData("12-3", 12, new[] { 3 })]
    [InlineData("usb4", 4, new int[0])]
    public void A_device_name_splits_into_bus_and_port_path(string text, int bus, int[] ports)
    {
        Assert.True(UsbBusId.TryParse(text, out var busId));
        Assert.Equal(bus, busId.Bus);
        Assert.Equal(ports, busId.Ports);
        Assert.Equal(ports.Length == 0, busId.IsRootHub);
    }

    [Theory]
    [InlineData("1-1.2")]
    [InlineData("usb3")]
    [InlineData("255-255.255.255.255.255.255.255.255")]
    public void The_name_reads_back_exactly_as_the_kernel_wrote_it(string text) => Assert.Equal(text, UsbBusId.Parse(text).ToString());

    [Theory]
    [InlineData("1-1:1.0")]
    [InlineData("../1-1")]
    [InlineData("1-")]
    [InlineData("usb")]
    [InlineData("usb0")]
    [InlineData("1-1..2")]
    [InlineData("0-1")]
    [InlineData("01-1")]
    [InlineData("1-01")]
    [InlineData("1-+1")]
    [InlineData("1-1 ")]
    [InlineData("1-256")]
    [InlineData("1-1.1.1.1.1.1.1.1.1")]
    [InlineData("99999999999-1")]
    [InlineData("")]
    [InlineData(null)]
    public void Interfaces_paths_non_canonical_numbers_and_garbage_are_not_bus_ids(string? text) => Assert.False(UsbBusId.TryParse(text, out _));

    [Fact]
    public void Parse_names_the_text_it_refuses()
    {
        var error = Assert.Throws<FormatException>(() => UsbBusId.Parse("1-1:1.0"));
        Assert.Contains("'1-1:1.0'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1-1.2.3", "1-1.2")]
    [InlineData("1-1", "usb1")]
    [InlineData("usb1", null)]
    public void The_parent_is_the_hub_one_level_up(string busId, string? parent) => Assert.Equal(parent, UsbBusId.Parse(busId).Parent?.ToString());

    [Fact]
    public void A_child_is_one_port_down_and_names_its_port()
    {
        var hub = UsbBusId.Parse("2-4");
        Assert.Equal(UsbBusId.Parse("2-4.3"), hub.Child(3));
        Assert.Equal(3, hub.Child(3).Port);
        Assert.Equal(UsbBusId.Parse("2-1"), UsbBusId.RootHub(2).Child(1));
        Assert.Null(UsbBusId.RootHub(2).Port);
    }

    [Fact]
    public void Equal_names_are_equal_values()
    {
        Assert.Equal(UsbBusId.Parse("3-1.4"), UsbBusId.Parse("3-1.4"));
        Assert.NotEqual(UsbBusId.Parse("3-1.4"), UsbBusId.Parse("3-1.4.1"));
        Assert.Equal(UsbBusId.Parse("3-1.4").GetHashCode(), UsbBusId.Parse("3-1").Child(4).GetHashCode());
    }

    [Fact]
    public void Bus_ids_sort_by_bus_then_port_numerically_with_the_root_hub_first()
    {
        var ids = new[] { "10-1", "2-10", "2-9", "usb2", "2-9.1", "1-1" }.Select(UsbBusId.Parse).ToList();
        ids.Sort();
        Assert.Equal(new[] { "1-1", "usb2", "2-9", "2-9.1", "2-10", "10-1" }, ids.Select(id => id.ToString()));
    }

    [Theory]
    [InlineData("046d:c52b", 0x046d, 0xc52b)]
    [InlineData("0x46D:0XC52B", 0x046d, 0xc52b)]
    [InlineData("1:2", 1, 2)]
    public void A_usb_id_reads_vendor_and_product_as_hex(string text, int vendor, int product)
    {
        var id = UsbId.Parse(text);
        Assert.Equal(new UsbId((ushort)vendor, (ushort)product), id);
        Assert.Equal($"{vendor:x4}:{product:x4}", id.ToString());
        Assert.Equal($"{vendor:x4}", id.VendorId);
        Assert.Equal($"{product:x4}", id.ProductId);
    }

    [Theory]
    [InlineData("046d")]
    [InlineData("046d:")]
    [InlineData("1046d:c52b")]
    [InlineData("046d:c52b:1")]
    [InlineData("zz:c52b")]
    [InlineData("")]
    public void Anything_else_is_not_a_usb_id(string text)
    {
        Assert.False(UsbId.TryParse(text, out _));
        Assert.Contains($"'{text}'", Assert.Throws<FormatException>(() => UsbId.Parse(text)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Usb_ids_order_by_vendor_then_product()
    {
        var ids = new[] { "8087:0024", "046d:c52b", "046d:0a1f" }.Select(UsbId.Parse).Order().Select(id => id.ToString());
        Assert.Equal(new[] { "046d:0a1f", "046d:c52b", "8087:0024" }, ids);
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
