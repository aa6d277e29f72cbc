using System.Management.Automation;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using VirtTools.Usb;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Host;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.PowerShell;

/// <summary>Export-UsbIpDevice and Remove-UsbIpExport through PowerShell, on the captured tree with the kernel double behind -Root.</summary>
[Collection(PowerShellCollection.Name)]
public sealed class UsbIpExportTests : IDisposable
{
    private readonly PowerShellHarness _ps = new();
    private readonly Double _kernel = Double.OnCapturedFixture();

    private Dictionary<string, object?> Root => new() { ["root"] = _kernel.RootPath };

    [Fact]
    public void Piping_vendor_46f4_with_WhatIf_shows_the_writes_writes_nothing_and_refuses_the_imported_copy()
    {
        // Give 2-3 back first, so the capture's two 46f4 devices are one local (2-3) and one imported (4-1).
        var exporter = new UsbIpExporter(_kernel.Root);
        exporter.Remove(exporter.PlanRemove(UsbBusId.Parse("2-3")), force: true);
        var writesBefore = _kernel.Writes.Count;

        var result = _ps.Run("param($root) Get-UsbDevice -Root $root -VendorId 46f4 | Export-UsbIpDevice -WhatIf", Root, render: true);

        Assert.Empty(result.Output);
        Assert.Contains("What if: Export 2-3 over USB/IP:", _ps.HostText);
        Assert.Contains("write 'add 2-3' to /sys/bus/usb/drivers/usbip-host/match_busid", _ps.HostText);
        Assert.Equal(writesBefore, _kernel.Writes.Count);
        Assert.Equal("usb", _kernel.Usb.DriverOf("2-3"));
        var error = Assert.Single(result.Errors);
        Assert.StartsWith(UsbIpErrors.BindLoopId + ",", error.FullyQualifiedErrorId);
        Assert.Equal(("4-1", ErrorCategory.InvalidArgument), (error.TargetObject.ToString(), error.CategoryInfo.Category));
    }

    [Fact]
    public void A_failed_export_is_error_UsbIpBindFailed_with_the_bus_id_as_target_and_the_device_back_on_usb()
    {
        _kernel.Usb.FailProbe("usbip-host", KernelErrno.EINVAL);
        var result = _ps.Run("param($root) Export-UsbIpDevice -Root $root 1-2", Root);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith(UsbIpErrors.BindFailedId + ",", error.FullyQualifiedErrorId);
        Assert.Equal(("1-2", ErrorCategory.DeviceError), (error.TargetObject.ToString(), error.CategoryInfo.Category));
        Assert.Contains("Rolled back", error.Exception.Message);
        Assert.Contains("dmesg", error.ErrorDetails.RecommendedAction);
        Assert.Equal("usb", _kernel.Usb.DriverOf("1-2"));
    }

    [Fact]
    public void Export_outputs_the_export_and_Remove_PassThru_in_a_new_shell_outputs_the_device_back_on_usb()
    {
        var export = _ps.Ok<UsbIpExport>("param($root) Export-UsbIpDevice -Root $root -BusId 1-2", Root).Single();
        Assert.Equal((true, UsbIpStatus.Available), (export.IsBound, export.Status));
        using var newShell = new PowerShellHarness();
        var device = newShell.Ok<UsbDevice>("param($root) Remove-UsbIpExport -Root $root 1-2 -PassThru", Root).Single();
        Assert.Equal(("1-2", "usb"), (device.BusId.ToString(), device.Driver));
    }

    [Fact]
    public void Piping_every_export_to_Remove_with_WhatIf_shows_the_writes_and_writes_nothing()
    {
        var result = _ps.Run("param($root) Get-UsbIpExport -Root $root | Remove-UsbIpExport -WhatIf", Root, render: true);
        Assert.True(result.Succeeded, PowerShellHarness.Describe(result));
        Assert.Contains("What if: Stop exporting 2-3:", _ps.HostText);
        Assert.Contains("write 'del 2-3' to /sys/bus/usb/drivers/usbip-host/match_busid", _ps.HostText);
        Assert.Empty(_kernel.Writes);
        Assert.Equal("usbip-host", _kernel.Usb.DriverOf("2-3"));
    }

    [Fact]
    public void Removing_a_device_in_use_asks_first_and_a_no_leaves_it_exported()
    {
        _ps.Host.ChoiceAnswer = 2; // ShouldContinue offers Yes, Yes to All, No, No to All
        var result = _ps.Run("param($root) Remove-UsbIpExport -Root $root 2-3", Root);
        Assert.True(result.Succeeded, PowerShellHarness.Describe(result));
        Assert.Empty(_kernel.Writes);
        Assert.Equal("usbip-host", _kernel.Usb.DriverOf("2-3"));
    }

    [Fact]
    public void Force_takes_a_device_in_use_without_asking()
    {
        var device = _ps.Ok<UsbDevice>("param($root) Remove-UsbIpExport -Root $root 2-3 -Force -PassThru", Root).Single();
        Assert.Equal("usb", device.Driver);
        Assert.Empty(_kernel.Usb.MatchBusIds);
    }

    public void Dispose()
    {
        _ps.Dispose();
        _kernel.Dispose();
    }
}
