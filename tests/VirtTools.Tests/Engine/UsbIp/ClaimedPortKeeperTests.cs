using VirtTools.Sandbox;
using VirtTools.Sysfs;
using VirtTools.Usb;
using VirtTools.UsbIp.Host;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>
/// The keeper of shared ports on the captured tree with the sandbox behind it: 2-3 is a stick on usbip-host, 1-1 a
/// keyboard and 1-2 a tablet on the generic driver with usbhid on their interfaces. Rounds are run by hand.
/// </summary>
public sealed class ClaimedPortKeeperTests : IDisposable
{
    private const string Stick = "2-3";
    private readonly Double _kernel = Double.OnCapturedFixture();
    private readonly List<string> _log = new();
    private readonly ClaimedPortKeeper _keeper;

    public ClaimedPortKeeperTests() => _keeper = new ClaimedPortKeeper(_kernel.Root, line => { lock (_log) _log.Add(line); });

    private UsbDevice Device(string busId) => new UsbDeviceReader(_kernel.Root).Find(UsbBusId.Parse(busId))!;

    private int IndexOf(string path, string value, int after = -1)
    {
        var writes = _kernel.Writes;
        for (int i = after + 1; i < writes.Count; i++)
            if (writes[i].SystemPath == path && writes[i].Text.TrimEnd('\n') == value) return i;
        return -1;
    }

    [Fact]
    public void An_exported_device_holds_its_own_port_so_the_keeper_claims_nothing()
    {
        _keeper.Reconcile();
        Assert.Empty(_keeper.Held);
        Assert.Empty(_kernel.Kernel.HubPorts.Claimed);
    }

    [Fact]
    public void When_an_exported_device_is_unplugged_the_keeper_claims_its_port()
    {
        _keeper.Reconcile();
        _kernel.Usb.Unplug(Stick);
        _keeper.Reconcile();
        Assert.Equal(new[] { Stick }, _keeper.Held.Select(b => b.ToString()));
        Assert.Equal(new[] { new HubPort(UsbBusId.Parse("usb2"), 3) }, _kernel.Kernel.HubPorts.Claimed);
    }

    [Fact]
    public void A_replugged_device_stays_off_host_drivers_and_goes_straight_back_to_usbip_host()
    {
        _keeper.Reconcile();
        _kernel.Usb.Unplug(Stick);
        _keeper.Reconcile();
        _kernel.Usb.Plug(Stick);
        var arrived = Device(Stick);
        Assert.Equal("usb", arrived.Driver);
        Assert.Empty(arrived.InterfaceDrivers);
        Assert.Null(arrived.Configuration);

        _keeper.Reconcile();
        Assert.Equal("usbip-host", Device(Stick).Driver);
        Assert.Equal(1, _kernel.Usb.StatusOf(Stick));
        Assert.Empty(_keeper.Held);
    }

    [Fact]
    public void On_arrival_the_claim_is_released_after_the_unbind_from_usb_and_before_usbip_host_binds()
    {
        _keeper.Reconcile();
        _kernel.Usb.Unplug(Stick);
        _keeper.Reconcile();
        _kernel.Usb.Plug(Stick);
        int before = _kernel.Writes.Count - 1;
        _keeper.Reconcile();
        int unbind = IndexOf("/sys/bus/usb/drivers/usb/unbind", Stick, before);
        int bind = IndexOf("/sys/bus/usb/drivers/usbip-host/bind", Stick, before);
        Assert.True(unbind > before && bind > unbind, "unbind from usb, then bind usbip-host");
        // usbip-host's probe binds only on a port nobody else owns: the claim was gone by the bind, and is not taken back.
        Assert.Equal("usbip-host", Device(Stick).Driver);
        Assert.Empty(_kernel.Kernel.HubPorts.Claimed);
    }

    [Fact]
    public void A_port_the_profile_reserves_exports_the_device_there_in_the_kernels_order()
    {
        _keeper.Reserve(new[] { UsbBusId.Parse("1-1") });
        _keeper.Reconcile();
        int add = IndexOf(UsbIpExporter.MatchBusIdPath, "add 1-1");
        int unbind = IndexOf("/sys/bus/usb/drivers/usb/unbind", "1-1");
        int bind = IndexOf("/sys/bus/usb/drivers/usbip-host/bind", "1-1");
        Assert.True(add >= 0 && unbind > add && bind > unbind, "match_busid add, unbind from usb, bind usbip-host");
        Assert.Equal("usbip-host", Device("1-1").Driver);
    }

    [Fact]
    public void A_reserved_empty_port_is_held_and_a_device_plugged_there_is_exported()
    {
        _kernel.Usb.Unplug("1-2");
        _keeper.Reserve(new[] { UsbBusId.Parse("1-2") });
        _keeper.Reconcile();
        Assert.Equal(new[] { "1-2" }, _keeper.Held.Select(b => b.ToString()));
        _kernel.Usb.Plug("1-2");
        Assert.Empty(Device("1-2").InterfaceDrivers);
        _keeper.Reconcile();
        Assert.Equal("usbip-host", Device("1-2").Driver);
    }

    [Fact]
    public void A_failed_export_claims_the_port_again_before_the_device_is_handed_back_so_it_stays_unconfigured()
    {
        _kernel.Usb.Unplug("1-2");
        _keeper.Reserve(new[] { UsbBusId.Parse("1-2") });
        _keeper.Reconcile();
        _kernel.Usb.Plug("1-2");
        _kernel.Usb.FailProbe("usbip-host", KernelErrno.EIO);
        _keeper.Reconcile();
        var tablet = Device("1-2");
        Assert.Equal("usb", tablet.Driver);
        Assert.Null(tablet.Configuration);
        Assert.Empty(tablet.InterfaceDrivers);
        Assert.Equal(new[] { "1-2" }, _keeper.Held.Select(b => b.ToString()));
        Assert.Contains(_log, line => line.Contains("could not be exported", StringComparison.Ordinal));
    }

    [Fact]
    public void A_device_whose_export_was_removed_while_plugged_in_is_no_longer_followed()
    {
        _keeper.Reconcile();
        var exporter = new UsbIpExporter(_kernel.Root);
        exporter.Remove(exporter.PlanRemove(UsbBusId.Parse(Stick)), force: true);
        _keeper.Reconcile();
        _kernel.Usb.Unplug(Stick);
        _keeper.Reconcile();
        Assert.Empty(_keeper.Held);
    }

    [Fact]
    public void Stopping_releases_every_port_and_hands_an_unconfigured_device_back_to_the_host_drivers()
    {
        _kernel.Usb.Unplug("1-2");
        _keeper.Reserve(new[] { UsbBusId.Parse("1-2") });
        _keeper.Reconcile();
        _kernel.Usb.Plug("1-2");
        _kernel.Usb.FailProbe("usbip-host", KernelErrno.EIO);
        _keeper.Reconcile();
        _keeper.Dispose();
        Assert.Empty(_kernel.Kernel.HubPorts.Claimed);
        var tablet = Device("1-2");
        Assert.NotNull(tablet.Configuration);
        Assert.Equal(new[] { "usbhid" }, tablet.InterfaceDrivers);
    }

    [Fact]
    public void A_port_that_cannot_be_claimed_is_logged_once_however_many_rounds_run()
    {
        _keeper.Reserve(new[] { UsbBusId.Parse("1-1.1") }); // the keyboard has no ports
        for (int i = 0; i < 3; i++) _keeper.Reconcile();
        Assert.Single(_log, line => line.Contains(UsbErrors.PortNotClaimableId, StringComparison.Ordinal));
    }

    [Fact]
    public void An_export_removed_through_the_keeper_on_a_reserved_port_is_claimed_again_before_the_reprobe_so_no_host_driver_binds()
    {
        _keeper.Reserve(new[] { UsbBusId.Parse("1-2") });
        _keeper.Reconcile();
        Assert.Equal("usbip-host", Device("1-2").Driver);
        var exporter = new UsbIpExporter(_kernel.Root);

        var device = _keeper.Unexport(exporter.PlanRemove(UsbBusId.Parse("1-2")), force: true);

        Assert.NotNull(device);
        var tablet = Device("1-2");
        Assert.Equal("usb", tablet.Driver);
        Assert.Null(tablet.Configuration);
        Assert.Empty(tablet.InterfaceDrivers);
        Assert.Equal(new[] { "1-2" }, _keeper.Held.Select(b => b.ToString()));
        Assert.Equal(new[] { new HubPort(UsbBusId.Parse("usb1"), 2) }, _kernel.Kernel.HubPorts.Claimed);
        Assert.DoesNotContain(UsbBusId.Parse("1-2"), new UsbIpHostReader(_kernel.Root).GetMatchBusIds());
    }

    [Fact]
    public void A_device_unexported_through_the_keeper_is_not_exported_again_until_it_is_replugged()
    {
        _keeper.Reserve(new[] { UsbBusId.Parse("1-2") });
        _keeper.Reconcile();
        var exporter = new UsbIpExporter(_kernel.Root);
        _keeper.Unexport(exporter.PlanRemove(UsbBusId.Parse("1-2")), force: true);

        _keeper.Reconcile();
        _keeper.Reconcile();
        Assert.Equal("usb", Device("1-2").Driver);
        Assert.Equal(new[] { "1-2" }, _keeper.Held.Select(b => b.ToString()));

        _kernel.Usb.Unplug("1-2");
        _keeper.Reconcile();
        _kernel.Usb.Plug("1-2");
        _keeper.Reconcile();
        Assert.Equal("usbip-host", Device("1-2").Driver);
    }

    [Fact]
    public void An_export_removed_through_the_keeper_on_a_port_it_only_follows_goes_back_to_the_host_drivers()
    {
        _keeper.Reconcile(); // follows the exported stick, reserves nothing
        var exporter = new UsbIpExporter(_kernel.Root);

        var stick = _keeper.Unexport(exporter.PlanRemove(UsbBusId.Parse(Stick)), force: true);

        Assert.Equal("usb", stick!.Driver);
        Assert.NotNull(Device(Stick).Configuration);
        Assert.Empty(_keeper.Held);
        Assert.Empty(_kernel.Kernel.HubPorts.Claimed);
    }

    public void Dispose()
    {
        _keeper.Dispose();
        _kernel.Dispose();
    }
}
