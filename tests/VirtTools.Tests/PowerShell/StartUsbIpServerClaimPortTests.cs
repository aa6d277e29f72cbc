using System.Management.Automation;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using VirtTools.Usb;
using VirtTools.UsbIp.Host;
using VirtTools.UsbIp.Server;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.PowerShell;

/// <summary>
/// Start-UsbIpServer -ClaimPort on a sandbox of the captured host (1-2, a tablet on usbhid): the session holds the port
/// as virttools usbipd --claim-port does, Remove-UsbIpExport goes through it (or through another process's keeper, by
/// its socket), and Stop-UsbIpServer gives the port back.
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class StartUsbIpServerClaimPortTests : IDisposable
{
    private readonly PowerShellHarness _ps = new();
    private readonly Double _kernel = Double.OnCapturedFixture();

    private Dictionary<string, object?> Root => new() { ["r"] = _kernel.RootPath };

    private UsbDevice Tablet => new UsbDeviceReader(_kernel.Root).Find(UsbBusId.Parse("1-2"))!;

    [Fact]
    public void The_reserved_port_is_exported_at_start_and_Remove_UsbIpExport_keeps_it_claimed_with_no_host_driver()
    {
        var server = _ps.Ok<UsbIpServer>("param($r) Start-UsbIpServer -Root $r -Address 127.0.0.1 -TcpPort 0 -ClaimPort 1-2", Root).Single();
        try
        {
            Assert.Equal("usbip-host", Tablet.Driver);

            _ps.Ok("param($r) Remove-UsbIpExport -Root $r -BusId 1-2 -Confirm:$false", Root);

            var tablet = Tablet;
            Assert.Equal("usb", tablet.Driver);
            Assert.Null(tablet.Configuration);
            Assert.Empty(tablet.InterfaceDrivers);
            Assert.Contains(new HubPort(UsbBusId.Parse("usb1"), 2), _kernel.Kernel.HubPorts.Claimed);
        }
        finally
        {
            _ps.Ok("param($s) $s | Stop-UsbIpServer", new Dictionary<string, object?> { ["s"] = server });
        }
        Assert.Empty(_kernel.Kernel.HubPorts.Claimed);
        Assert.Equal(new[] { "usbhid" }, Tablet.InterfaceDrivers);
    }

    [Fact]
    public void Without_a_server_claiming_the_port_Remove_UsbIpExport_gives_the_device_back_to_its_host_drivers()
    {
        var server = _ps.Ok<UsbIpServer>("param($r) Start-UsbIpServer -Root $r -Address 127.0.0.1 -TcpPort 0 -ClaimPort 1-2", Root).Single();
        _ps.Ok("param($s) $s | Stop-UsbIpServer", new Dictionary<string, object?> { ["s"] = server });
        Assert.Equal("usbip-host", Tablet.Driver); // stopping claims nothing more and unexports nothing

        _ps.Ok("param($r) Remove-UsbIpExport -Root $r -BusId 1-2 -Confirm:$false", Root);

        Assert.Equal(new[] { "usbhid" }, Tablet.InterfaceDrivers);
        Assert.Empty(_kernel.Kernel.HubPorts.Claimed);
    }

    [Fact]
    public void Remove_UsbIpExport_has_the_keeper_of_another_process_remove_the_export_so_the_port_stays_claimed()
    {
        // A keeper this session did not start, as `virttools usbipd --claim-port 1-2` would run one: reached through its socket.
        using var keeper = new ClaimedPortKeeper(_kernel.Root, _ => { });
        keeper.Reserve(new[] { UsbBusId.Parse("1-2") });
        keeper.Reconcile();
        using var listener = ClaimedPortControlListener.TryStart(_kernel.Root, keeper, _ => { });
        Assert.NotNull(listener);
        Assert.Equal("usbip-host", Tablet.Driver);

        var device = _ps.Ok<UsbDevice>("param($r) Remove-UsbIpExport -Root $r -BusId 1-2 -Confirm:$false -PassThru", Root).Single();

        Assert.Equal(("1-2", "usb"), (device.BusId.ToString(), device.Driver));
        var tablet = Tablet;
        Assert.Null(tablet.Configuration);
        Assert.Empty(tablet.InterfaceDrivers);
        Assert.Contains(new HubPort(UsbBusId.Parse("usb1"), 2), _kernel.Kernel.HubPorts.Claimed);
    }

    [Fact]
    public void What_the_other_process_refuses_is_an_error_record_with_its_ErrorId_category_and_target()
    {
        using var keeper = new ClaimedPortKeeper(_kernel.Root, _ => { });
        keeper.Reserve(new[] { UsbBusId.Parse("1-2") });
        keeper.Reconcile();
        using var listener = ClaimedPortControlListener.TryStart(_kernel.Root, keeper, _ => { });
        _kernel.FailWrite("/sys/bus/usb/drivers/usbip-host/unbind", KernelErrno.EACCES);

        var result = _ps.Run("param($r) Remove-UsbIpExport -Root $r -BusId 1-2 -Confirm:$false", Root);

        var error = Assert.Single(result.Errors);
        Assert.StartsWith("PermissionDenied,", error.FullyQualifiedErrorId);
        Assert.Equal((ErrorCategory.PermissionDenied, "1-2"), (error.CategoryInfo.Category, error.TargetObject?.ToString()));
        Assert.Equal("usbip-host", Tablet.Driver);
    }

    public void Dispose()
    {
        _ps.Dispose();
        _kernel.Dispose();
    }
}
