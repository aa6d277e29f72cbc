using VirtTools.Tests.Support;
using VirtTools.Usb;
using VirtTools.UsbIp.Server;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.PowerShell;

/// <summary>
/// Start-UsbIpServer -ClaimPort on a sandbox of the captured host (1-2, a tablet on usbhid): the session holds the port
/// as virttools usbipd --claim-port does, Remove-UsbIpExport goes through it, and Stop-UsbIpServer gives the port back.
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

    public void Dispose()
    {
        _ps.Dispose();
        _kernel.Dispose();
    }
}
