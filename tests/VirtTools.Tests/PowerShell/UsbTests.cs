using System.Management.Automation;
using VirtTools.Tests.Support;
using VirtTools.Usb;
using VirtTools.UsbIp;
using Xunit;

namespace VirtTools.Tests.PowerShell;

[Collection(PowerShellCollection.Name)]
public sealed class UsbTests : IDisposable
{
    private readonly PowerShellHarness _ps = new();

    private static Dictionary<string, object?> Root(string? path = null) => new() { ["r"] = path ?? CapturedFixture.Shared };

    [Fact]
    public void Get_UsbDevice_lists_the_devices_and_leaves_hubs_out()
    {
        var ids = _ps.Ok<UsbDevice>("param($r) Get-UsbDevice -Root $r", Root()).Select(d => d.BusId.ToString());
        Assert.Equal(new[] { "1-1", "1-2", "2-3", "4-1" }, ids);
    }

    [Fact]
    public void IncludeHub_adds_the_root_hubs()
    {
        var devices = _ps.Ok<UsbDevice>("param($r) Get-UsbDevice -Root $r -IncludeHub", Root());
        Assert.Equal(22, devices.Count);
        Assert.Contains(devices, d => d.BusId.ToString() == "usb1" && d.IsHub);
    }

    [Fact]
    public void A_hub_named_by_its_literal_bus_id_is_returned_without_IncludeHub()
    {
        var hub = _ps.Ok<UsbDevice>("param($r) Get-UsbDevice -Root $r -BusId usb2", Root()).Single();
        Assert.True(hub.IsHub);
    }

    [Fact]
    public void Where_Object_IsExported_finds_the_device_bound_to_usbip_host()
    {
        var exported = _ps.Ok<UsbDevice>("param($r) Get-UsbDevice -Root $r | Where-Object IsExported", Root()).Single();
        Assert.Equal("2-3", exported.BusId.ToString());
        Assert.Equal(UsbIpStatus.InUse, exported.UsbIpStatus);
    }

    [Fact]
    public void PortClaimed_is_true_for_the_exported_device_and_null_where_the_kernel_does_not_tell()
    {
        var claimed = _ps.Ok<UsbDevice>("param($r) Get-UsbDevice -Root $r -IncludeHub | Where-Object PortClaimed", Root()).Select(d => d.BusId.ToString());
        Assert.Equal(new[] { "2-3" }, claimed);
        Assert.Null(_ps.Ok<UsbDevice>("param($r) Get-UsbDevice -Root $r -BusId 1-2", Root()).Single().PortClaimed);
    }

    [Fact]
    public void A_device_plugged_into_a_claimed_port_shows_PortClaimed_unconfigured_and_without_interface_drivers()
    {
        using var kernel = KernelDouble.KernelDouble.OnCapturedFixture();
        kernel.Usb.Unplug("1-2");
        using var claim = HubPortClaim.Acquire(kernel.Root, UsbBusId.Parse("1-2"));
        kernel.Usb.Plug("1-2");
        var tablet = _ps.Ok<UsbDevice>("param($r) Get-UsbDevice -Root $r -BusId 1-2", Root(kernel.RootPath)).Single();
        Assert.True(tablet.PortClaimed);
        Assert.Null(tablet.Configuration);
        Assert.Empty(tablet.InterfaceDrivers);
        Assert.Equal("usb", tablet.Driver);
    }

    [Theory]
    [InlineData("46f4")]
    [InlineData("0x46F4")]
    public void VendorId_filters_in_any_spelling(string vendor)
    {
        var ids = _ps.Ok<UsbDevice>("param($r, $v) Get-UsbDevice -Root $r -VendorId $v", new Dictionary<string, object?> { ["r"] = CapturedFixture.Shared, ["v"] = vendor })
            .Select(d => d.BusId.ToString());
        Assert.Equal(new[] { "2-3", "4-1" }, ids);
    }

    [Fact]
    public void ProductId_filters_together_with_VendorId()
    {
        var ids = _ps.Ok<UsbDevice>("param($r) Get-UsbDevice -Root $r -VendorId 0627 -ProductId 0001", Root()).Select(d => d.BusId.ToString());
        Assert.Equal(new[] { "1-1", "1-2" }, ids);
    }

    [Fact]
    public void An_id_that_is_not_hex_fails_parameter_validation()
    {
        var result = _ps.Run("param($r) Get-UsbDevice -Root $r -VendorId xyz", Root());
        Assert.StartsWith("ParameterArgumentValidationError,", FirstError(result).FullyQualifiedErrorId);
    }

    [Fact]
    public void BusId_takes_wildcards()
    {
        var ids = _ps.Ok<UsbDevice>("param($r) Get-UsbDevice -Root $r 1-*", Root()).Select(d => d.BusId.ToString());
        Assert.Equal(new[] { "1-1", "1-2" }, ids);
    }

    [Fact]
    public void BusId_and_Root_bind_by_property_name_from_a_plain_object()
    {
        var device = _ps.Ok<UsbDevice>("param($r) [pscustomobject]@{ BusId = '1-1'; Root = $r } | Get-UsbDevice", Root()).Single();
        Assert.Equal("QEMU USB Keyboard", device.Product);
    }

    [Fact]
    public void An_unknown_literal_bus_id_is_a_non_terminating_UsbDeviceNotFound_error()
    {
        var result = _ps.Run("param($r) Get-UsbDevice -Root $r -BusId 9-9, 1-1", Root());
        Assert.Equal("1-1", Assert.Single(result.Output).Properties["BusId"].Value.ToString());
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("UsbDeviceNotFound,", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
        Assert.Equal("9-9", error.TargetObject);
        Assert.False(string.IsNullOrEmpty(error.ErrorDetails?.RecommendedAction));
    }

    [Fact]
    public void A_wildcard_that_matches_nothing_is_not_an_error()
    {
        var result = _ps.Run("param($r) Get-UsbDevice -Root $r -BusId 7-*", Root());
        Assert.True(result.Succeeded);
        Assert.Empty(result.Output);
    }

    [Fact]
    public void The_UsbDevice_table_view_renders_through_Out_Default()
    {
        var result = _ps.Run("param($r) Get-UsbDevice -Root $r", Root(), render: true);
        Assert.True(result.Succeeded, PowerShellHarness.Describe(result));
        var text = _ps.HostText;
        Assert.Contains("BusId", text);
        Assert.Contains("46f4:0001", text);
        Assert.Contains("Exported (InUse)", text);
        Assert.Contains("Imported vhci_hcd.0", text);
        Assert.DoesNotContain("SysfsPath", text); // a table, not the list fallback
    }

    [Fact]
    public void Get_UsbIpExport_shows_the_exported_device_and_its_status()
    {
        var export = _ps.Ok<UsbIpExport>("param($r) Get-UsbIpExport -Root $r", Root()).Single();
        Assert.Equal(("2-3", UsbIpStatus.InUse, true), (export.BusId.ToString(), export.Status, export.IsInMatchTable));
    }

    [Fact]
    public void Get_UsbIpExport_of_a_device_that_is_not_exported_is_UsbIpExportNotFound()
    {
        var result = _ps.Run("param($r) Get-UsbIpExport -Root $r -BusId 1-1", Root());
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("UsbIpExportNotFound,", error.FullyQualifiedErrorId);
        Assert.Equal("1-1", error.TargetObject);
    }

    [Fact]
    public void Get_UsbIpExport_without_usbip_host_is_empty_and_says_why_in_verbose()
    {
        using var tree = new TemporaryTree().Directory("/sys/bus/usb/devices");
        var result = _ps.Run("param($r) Get-UsbIpExport -Root $r -Verbose", Root(tree.Path));
        Assert.True(result.Succeeded, PowerShellHarness.Describe(result));
        Assert.Empty(result.Output);
        Assert.Contains("usbip-host is not loaded", _ps.HostErrorText);
    }

    [Fact]
    public void Piping_exported_devices_into_Get_UsbIpExport_binds_BusId_and_Root()
    {
        var export = _ps.Ok<UsbIpExport>("param($r) Get-UsbDevice -Root $r | Where-Object IsExported | Get-UsbIpExport", Root()).Single();
        Assert.Equal("2-3", export.BusId.ToString());
    }

    [Fact]
    public void Get_UsbIpPort_InUse_shows_the_imported_port_with_its_attach_record()
    {
        using var tree = CapturedFixture.CreateCopy();
        tree.File("/run/vhci_hcd/port15", "127.0.0.1 3240 2-3\n", newline: false);
        var port = _ps.Ok<UsbIpPort>("param($r) Get-UsbIpPort -Root $r -InUse", Root(tree.Path)).Single();
        Assert.Equal((15, "4-1", "127.0.0.1", 3240, "2-3"), (port.Port, port.LocalBusId?.ToString(), port.RemoteHost, port.RemoteTcpPort, port.RemoteBusId?.ToString()));
    }

    [Fact]
    public void Get_UsbIpPort_Free_and_Port_filter_the_port_table()
    {
        Assert.Equal(239, _ps.Ok("param($r) Get-UsbIpPort -Root $r -Free", Root()).Count);
        var ports = _ps.Ok<UsbIpPort>("param($r) Get-UsbIpPort -Root $r -Port 14, 15", Root());
        Assert.Equal(new[] { (14, VhciHub.HighSpeed), (15, VhciHub.SuperSpeed) }, ports.Select(p => (p.Port, p.Hub)));
    }

    [Fact]
    public void InUse_and_Free_cannot_be_combined()
    {
        var result = _ps.Run("param($r) Get-UsbIpPort -Root $r -InUse -Free", Root());
        Assert.StartsWith("AmbiguousParameterSet,", FirstError(result).FullyQualifiedErrorId);
    }

    [Fact]
    public void A_port_that_does_not_exist_is_UsbIpPortNotFound()
    {
        var result = _ps.Run("param($r) Get-UsbIpPort -Root $r -Port 240", Root());
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("UsbIpPortNotFound,", error.FullyQualifiedErrorId);
        Assert.Equal(240, error.TargetObject);
    }

    [Fact]
    public void The_UsbIpPort_and_UsbIpExport_table_views_render_through_Out_Default()
    {
        var result = _ps.Run("param($r) Get-UsbIpPort -Root $r -InUse; Get-UsbIpExport -Root $r", Root(), render: true);
        Assert.True(result.Succeeded, PowerShellHarness.Describe(result));
        Assert.Contains("SuperSpeed", _ps.HostText);
        Assert.Contains("(no attach record)", _ps.HostText);
        Assert.DoesNotContain("ControllerIndex", _ps.HostText);
    }

    private static ErrorRecord FirstError(VirtTools.Host.Shell.ShellResult result) =>
        result.Terminating?.ErrorRecord ?? result.Errors.FirstOrDefault() ?? throw new Xunit.Sdk.XunitException("the script wrote no error");

    public void Dispose() => _ps.Dispose();
}
