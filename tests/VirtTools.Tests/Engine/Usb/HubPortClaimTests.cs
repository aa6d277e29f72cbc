using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using VirtTools.Usb;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.Usb;

/// <summary>
/// Claiming hub ports on the captured tree with the sandbox's port owners behind it: usb1 and usb2 are xHCI root hubs
/// with 4 ports (001/001, 002/001), 1-1 a keyboard and 1-2 a tablet on the generic driver, 2-3 a stick on usbip-host.
/// </summary>
public sealed class HubPortClaimTests : IDisposable
{
    private readonly Double _kernel = Double.OnCapturedFixture();

    private UsbDevice Device(string busId) => new UsbDeviceReader(_kernel.Root).Find(UsbBusId.Parse(busId))!;

    private VirtToolsException Refusal(string busId) =>
        Assert.IsAssignableFrom<VirtToolsException>(Record.Exception(() => HubPortClaim.Acquire(_kernel.Root, UsbBusId.Parse(busId))));

    [Theory]
    [InlineData("1-2.3", "1-2", 3, "1-2-port3")]
    [InlineData("1-2", "usb1", 2, "usb1-port2")]
    [InlineData("3-1.4.2", "3-1.4", 2, "3-1.4-port2")]
    public void A_device_bus_id_names_its_parent_hub_and_the_last_port_number(string busId, string hub, int port, string name)
    {
        Assert.True(HubPort.TryFrom(UsbBusId.Parse(busId), out var found));
        Assert.Equal(new HubPort(UsbBusId.Parse(hub), port), found);
        Assert.Equal(name, found.ToString());
    }

    [Fact]
    public void A_root_hub_hangs_off_no_port() => Assert.False(HubPort.TryFrom(UsbBusId.Parse("usb1"), out _));

    [Fact]
    public void A_port_of_a_root_hub_is_claimed_on_the_root_hubs_usbfs_node()
    {
        using var claim = HubPortClaim.Acquire(_kernel.Root, UsbBusId.Parse("1-3"));
        Assert.Equal(new HubPort(UsbBusId.Parse("usb1"), 3), claim.Port);
        Assert.Equal("/dev/bus/usb/001/001", claim.HubDevicePath);
        Assert.Equal(new[] { new HubPort(UsbBusId.Parse("usb1"), 3) }, _kernel.Kernel.HubPorts.Claimed);
    }

    [Fact]
    public void A_second_claim_of_a_held_port_is_busy_and_names_the_node()
    {
        using var first = HubPortClaim.Acquire(_kernel.Root, UsbBusId.Parse("1-3"));
        var busy = Refusal("1-3");
        Assert.Equal(UsbErrors.PortClaimBusyId, busy.ErrorId);
        Assert.Equal(FailureKind.ResourceBusy, busy.Kind);
        Assert.Contains("/dev/bus/usb/001/001", busy.RecommendedAction, StringComparison.Ordinal);
    }

    [Fact]
    public void The_port_of_a_device_usbip_host_holds_is_busy_because_usbip_host_claimed_it() =>
        Assert.Equal(UsbErrors.PortClaimBusyId, Refusal("2-3").ErrorId);

    [Theory]
    [InlineData("1-1.1")] // 1-1 is a keyboard: no ports (maxchild 0)
    [InlineData("1-5")]   // usb1 has 4 ports
    public void A_port_the_parent_does_not_have_is_not_claimable(string busId)
    {
        var refused = Refusal(busId);
        Assert.Equal(UsbErrors.PortNotClaimableId, refused.ErrorId);
        Assert.Equal(FailureKind.InvalidArgument, refused.Kind);
    }

    [Fact]
    public void A_root_hub_is_refused_before_any_node_is_opened() => Assert.Equal(UsbErrors.NotAPortId, Refusal("usb1").ErrorId);

    [Fact]
    public void A_port_of_a_hub_that_is_not_plugged_in_is_refused_as_no_hub() => Assert.Equal(UsbErrors.HubNotFoundId, Refusal("3-1.2").ErrorId);

    [Fact]
    public void Release_gives_the_port_back_so_it_can_be_claimed_again()
    {
        var claim = HubPortClaim.Acquire(_kernel.Root, UsbBusId.Parse("1-3"));
        claim.Release();
        Assert.False(claim.IsHeld);
        Assert.Empty(_kernel.Kernel.HubPorts.Claimed);
        using var again = HubPortClaim.Acquire(_kernel.Root, UsbBusId.Parse("1-3"));
        Assert.True(again.IsHeld);
    }

    [Fact]
    public void Disposing_closes_the_node_which_releases_the_port()
    {
        HubPortClaim.Acquire(_kernel.Root, UsbBusId.Parse("1-3")).Dispose();
        Assert.Empty(_kernel.Kernel.HubPorts.Claimed);
    }

    [Fact]
    public void A_device_plugged_into_a_claimed_port_stays_unconfigured_with_no_interface_driver_and_reads_as_claimed()
    {
        _kernel.Usb.Unplug("1-2");
        using var claim = HubPortClaim.Acquire(_kernel.Root, UsbBusId.Parse("1-2"));
        _kernel.Usb.Plug("1-2");
        var tablet = Device("1-2");
        Assert.Equal("usb", tablet.Driver);
        Assert.Null(tablet.Configuration);
        Assert.Empty(tablet.Interfaces);
        Assert.True(tablet.PortClaimed);
    }

    [Fact]
    public void Usbip_host_cannot_bind_while_the_port_is_claimed_and_can_once_it_is_released()
    {
        _kernel.Usb.Unplug("1-2");
        var claim = HubPortClaim.Acquire(_kernel.Root, UsbBusId.Parse("1-2"));
        _kernel.Usb.Plug("1-2");
        SysfsWriter.WriteExact(_kernel.Root, "/sys/bus/usb/drivers/usbip-host/match_busid", "add 1-2");
        SysfsWriter.WriteExact(_kernel.Root, "/sys/bus/usb/drivers/usb/unbind", "1-2");
        var busy = Assert.Throws<KernelWriteException>(() => SysfsWriter.WriteExact(_kernel.Root, "/sys/bus/usb/drivers/usbip-host/bind", "1-2"));
        Assert.Equal(KernelErrno.EBUSY, busy.Errno);
        claim.Release();
        SysfsWriter.WriteExact(_kernel.Root, "/sys/bus/usb/drivers/usbip-host/bind", "1-2");
        Assert.Equal("usbip-host", Device("1-2").Driver);
    }

    [Fact]
    public void The_kernel_shows_a_claim_for_a_device_on_usbip_host_and_does_not_tell_for_a_configured_device_or_a_root_hub()
    {
        Assert.True(Device("2-3").PortClaimed);
        Assert.Null(Device("1-2").PortClaimed);
        Assert.Null(Device("usb1").PortClaimed);
    }

    [Fact]
    public void On_a_captured_tree_without_a_sandbox_the_missing_node_fails_the_claim_with_its_errno()
    {
        using var tree = CapturedFixture.CreateCopy();
        var refused = Assert.IsAssignableFrom<VirtToolsException>(Record.Exception(() => HubPortClaim.Acquire(new SystemRoot(tree.Path), UsbBusId.Parse("1-3"))));
        Assert.Equal(UsbErrors.PortClaimFailedId, refused.ErrorId);
        Assert.Contains("/dev/bus/usb/001/001", refused.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _kernel.Dispose();
}
