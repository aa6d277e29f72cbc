using VirtTools.Sysfs;
using VirtTools.Tests.KernelDouble;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.KernelDouble;

/// <summary>The usbip-host and vhci_hcd double, on the captured tree where 2-3 is exported and in use.</summary>
public sealed class UsbIpDoubleTests : IDisposable
{
    private readonly Double _kernel = Double.OnCapturedFixture();

    /// <summary>Raw writes, without the newline SysfsWriter adds: usbip writes match_busid and rebind that way.</summary>
    private void Raw(string path, string text) => _kernel.Root.Writer.Write(path, text);

    private KernelErrno RawRefused(string path, string text) =>
        SysfsWriter.ErrnoOf(Assert.ThrowsAny<Exception>(() => Raw(path, text)));

    [Fact]
    public void The_captured_export_shows_in_the_table_and_status()
    {
        Assert.Equal(new[] { "2-3" }, _kernel.Usb.MatchBusIds);
        Assert.Equal("usbip-host", _kernel.Usb.DriverOf("2-3"));
        Assert.Equal(2, _kernel.Usb.StatusOf("2-3"));
    }

    [Fact]
    public void Usbip_unbind_sequence_returns_the_device_to_the_generic_driver()
    {
        Raw("/sys/bus/usb/drivers/usbip-host/unbind", "2-3");
        Assert.Null(_kernel.Usb.StatusOf("2-3"));
        Raw("/sys/bus/usb/drivers/usbip-host/match_busid", "del 2-3");
        Raw("/sys/bus/usb/drivers/usbip-host/match_busid", "add 2-3");
        Raw("/sys/bus/usb/drivers/usbip-host/rebind", "2-3");
        Assert.Equal("usb", _kernel.Usb.DriverOf("2-3"));
        Assert.Empty(_kernel.Usb.MatchBusIds);
    }

    [Fact]
    public void Usbip_bind_sequence_exports_with_status_1_and_a_socket_makes_it_2()
    {
        Raw("/sys/bus/usb/drivers/usb/unbind", "1-2");
        Raw("/sys/bus/usb/drivers/usbip-host/match_busid", "add 1-2");
        Raw("/sys/bus/usb/drivers/usbip-host/bind", "1-2");
        Assert.Equal(1, _kernel.Usb.StatusOf("1-2"));
        Raw("/sys/bus/usb/devices/1-2/usbip_sockfd", "5\n");
        Assert.Equal(2, _kernel.Usb.StatusOf("1-2"));
        Assert.Equal(KernelErrno.EINVAL, RawRefused("/sys/bus/usb/devices/1-2/usbip_sockfd", "6\n"));
    }

    [Fact]
    public void Bind_to_usbip_host_without_a_match_busid_entry_is_ENODEV()
    {
        Raw("/sys/bus/usb/drivers/usb/unbind", "1-2");
        Assert.Equal(KernelErrno.ENODEV, RawRefused("/sys/bus/usb/drivers/usbip-host/bind", "1-2"));
    }

    [Fact]
    public void A_busid_written_with_a_newline_never_matches_the_device()
    {
        Raw("/sys/bus/usb/drivers/usb/unbind", "1-2");
        Raw("/sys/bus/usb/drivers/usbip-host/match_busid", "add 1-2\n");
        Assert.Equal(KernelErrno.ENODEV, RawRefused("/sys/bus/usb/drivers/usbip-host/bind", "1-2"));
    }

    [Fact]
    public void Bind_of_a_bound_device_is_EBUSY()
    {
        Raw("/sys/bus/usb/drivers/usbip-host/match_busid", "add 1-2");
        Assert.Equal(KernelErrno.EBUSY, RawRefused("/sys/bus/usb/drivers/usbip-host/bind", "1-2"));
    }

    [Fact]
    public void The_match_busid_table_holds_16_entries_then_ENOMEM()
    {
        for (int i = 1; i < UsbIpDouble.MaxBusIds; i++) Raw("/sys/bus/usb/drivers/usbip-host/match_busid", $"add 9-{i}");
        Assert.Equal(UsbIpDouble.MaxBusIds, _kernel.Usb.MatchBusIds.Count);
        Assert.Equal(KernelErrno.ENOMEM, RawRefused("/sys/bus/usb/drivers/usbip-host/match_busid", "add 9-99"));
    }

    [Fact]
    public void Deleting_an_unknown_busid_is_ENODEV_and_a_short_write_is_EINVAL()
    {
        Assert.Equal(KernelErrno.ENODEV, RawRefused("/sys/bus/usb/drivers/usbip-host/match_busid", "del 7-7"));
        Assert.Equal(KernelErrno.EINVAL, RawRefused("/sys/bus/usb/drivers/usbip-host/match_busid", "add"));
    }

    [Fact]
    public void Vhci_attach_fills_the_port_line_and_a_second_attach_to_it_is_EBUSY()
    {
        Raw("/sys/devices/platform/vhci_hcd.0/attach", "0 7 65538 3");
        Assert.Equal("hs  0000 006 003 00010002 000007 3-1", _kernel.Usb.VhciPortLine(0));
        Assert.Equal(KernelErrno.EBUSY, RawRefused("/sys/devices/platform/vhci_hcd.0/attach", "0 8 65539 3"));
    }

    [Fact]
    public void Vhci_attach_of_a_superspeed_device_to_a_highspeed_port_is_EINVAL() =>
        Assert.Equal(KernelErrno.EINVAL, RawRefused("/sys/devices/platform/vhci_hcd.0/attach", "1 7 65538 5"));

    [Fact]
    public void Vhci_detach_frees_the_captured_attachment_and_a_second_detach_is_EINVAL()
    {
        Raw("/sys/devices/platform/vhci_hcd.0/detach", "15");
        Assert.Equal("ss  0015 004 000 00000000 000000 0-0", _kernel.Usb.VhciPortLine(15));
        Assert.Equal(KernelErrno.EINVAL, RawRefused("/sys/devices/platform/vhci_hcd.0/detach", "15"));
    }

    public void Dispose() => _kernel.Dispose();
}
