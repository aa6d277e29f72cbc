using VirtTools.Usb;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Tests.KernelDouble;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Host;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>
/// Export and removal on the captured tree with the usbip-host double behind it: 1-2 is a QEMU tablet on the generic
/// "usb" driver (usbhid on its interface), 2-3 is exported and in use, 4-1 is imported through vhci_hcd.0.
/// </summary>
public sealed class UsbIpExporterTests : IDisposable
{
    private const string Tablet = "1-2";
    private const string MatchBusId = UsbIpExporter.MatchBusIdPath;

    private readonly Double _kernel = Double.OnCapturedFixture();
    private readonly UsbIpExporter _exporter;

    public UsbIpExporterTests() => _exporter = new UsbIpExporter(_kernel.Root);

    private UsbIpExport Export(string busId) => _exporter.Export(_exporter.PlanExport(UsbBusId.Parse(busId)));

    private static VirtToolsException Refusal(Action action) => Assert.IsAssignableFrom<VirtToolsException>(Record.Exception(action));

    private UsbIpExportRecord? RecordOf(string busId) => UsbIpExportRecord.Store(_kernel.Root).Find(busId);

    private string? InterfaceDriverOf(string name) => new SysfsDirectory(_kernel.Tree.Resolve("/sys/bus/usb/devices/" + name)).LinkName("driver");

    [Fact]
    public void Export_writes_what_usbip_bind_writes_without_newlines()
    {
        Export(Tablet);
        Assert.Equal(new[]
        {
            new KernelWrite(MatchBusId, "add 1-2"),
            new KernelWrite("/sys/bus/usb/drivers/usb/unbind", "1-2"),
            new KernelWrite("/sys/bus/usb/drivers/usbip-host/bind", "1-2"),
        }, _kernel.Writes);
    }

    [Fact]
    public void Export_moves_the_driver_link_to_usbip_host_and_records_the_original_driver()
    {
        var export = Export(Tablet);
        Assert.Equal("usbip-host", _kernel.Usb.DriverOf(Tablet));
        Assert.Equal((true, true, UsbIpStatus.Available), (export.IsBound, export.IsInMatchTable, export.Status));
        Assert.Equal("usb", RecordOf(Tablet)?.OriginalDriver);
        Assert.Equal(("0627", "0001"), (RecordOf(Tablet)?.VendorId, RecordOf(Tablet)?.ProductId));
    }

    [Fact]
    public void Export_of_a_device_already_exported_returns_that_export_and_writes_nothing()
    {
        var plan = _exporter.PlanExport(UsbBusId.Parse("2-3"));
        Assert.True(plan.ChangesNothing);
        var export = _exporter.Export(plan);
        Assert.Equal(("2-3", UsbIpStatus.InUse), (export.BusId.ToString(), export.Status));
        Assert.Empty(_kernel.Writes);
        Assert.Null(RecordOf("2-3"));
    }

    [Fact]
    public void A_failed_bind_restores_the_original_driver_and_removes_the_match_busid_entry()
    {
        _kernel.Usb.FailProbe("usbip-host", KernelErrno.EINVAL);
        var failure = Refusal(() => Export(Tablet));
        Assert.Equal((UsbIpErrors.BindFailedId, FailureKind.DeviceError, (object?)Tablet), (failure.ErrorId, failure.Kind, failure.Target?.ToString()));
        Assert.Contains("Rolled back: 1-2 back on usb, removed from match_busid.", failure.Message);
        Assert.Equal("usb", _kernel.Usb.DriverOf(Tablet));
        Assert.Equal("usbhid", InterfaceDriverOf("1-2:1.0"));
        Assert.Equal(new[] { "2-3" }, _kernel.Usb.MatchBusIds);
        Assert.Null(RecordOf(Tablet));
    }

    [Fact]
    public void A_failed_bind_quotes_what_the_kernel_logged_about_the_device_during_the_export()
    {
        _kernel.Tree.File("/dev/kmsg", "4,1,0,-;usbip-host: probe of 1-2 failed with error -5 (an earlier export)\n");
        _kernel.Usb.FailProbe("usbip-host", KernelErrno.EINVAL);
        var failure = Refusal(() => Export(Tablet));
        Assert.Equal(UsbIpErrors.BindFailedId, failure.ErrorId);
        Assert.Contains("The kernel said: usbip-host: probe of 1-2 failed with error -22.", failure.Message);
        Assert.DoesNotContain("an earlier export", failure.Message);
    }

    [Fact]
    public void A_record_file_that_cannot_be_read_refuses_the_export_before_anything_changes()
    {
        _kernel.Tree.File(UsbIpExportRecord.SystemPath, "not json\n");
        var failure = Refusal(() => _exporter.PlanExport(UsbBusId.Parse(Tablet)));
        Assert.Equal((UsbIpErrors.ExportStateCorruptId, FailureKind.InvalidData), (failure.ErrorId, failure.Kind));
        Assert.Contains("Fix or delete " + UsbIpExportRecord.SystemPath, failure.RecommendedAction);
        Assert.Empty(_kernel.Writes);
        Assert.Equal("usb", _kernel.Usb.DriverOf(Tablet));
    }

    [Fact]
    public void When_the_record_cannot_be_saved_the_export_is_undone_and_the_device_is_back_on_its_driver()
    {
        var plan = _exporter.PlanExport(UsbBusId.Parse(Tablet));
        // Between the plan and the save, the record's folder becomes a file: the save fails after the bind.
        _kernel.Tree.File("/run/virttools", "");
        var failure = Refusal(() => _exporter.Export(plan));
        Assert.Equal((UsbIpErrors.ExportRecordNotWrittenId, (object?)Tablet), (failure.ErrorId, failure.Target?.ToString()));
        Assert.Contains(UsbIpExportRecord.SystemPath, failure.Message);
        Assert.Contains("Rolled back: 1-2 unbound from usbip-host, back on usb, removed from match_busid.", failure.Message);
        Assert.Equal("usb", _kernel.Usb.DriverOf(Tablet));
        Assert.Equal("usbhid", InterfaceDriverOf("1-2:1.0"));
        Assert.Equal(new[] { "2-3" }, _kernel.Usb.MatchBusIds);
    }

    [Fact]
    public void A_refused_unbind_is_PermissionDenied_and_the_match_busid_entry_goes_again()
    {
        _kernel.FailWrite("/sys/bus/usb/drivers/usb/unbind", KernelErrno.EACCES);
        var failure = Refusal(() => Export(Tablet));
        Assert.Equal(("PermissionDenied", FailureKind.PermissionDenied), (failure.ErrorId, failure.Kind));
        Assert.Equal("usb", _kernel.Usb.DriverOf(Tablet));
        Assert.Equal(new[] { "2-3" }, _kernel.Usb.MatchBusIds);
    }

    [Fact]
    public void A_full_match_busid_table_is_UsbIpMatchTableFull_naming_the_16_entries_and_the_device_keeps_its_driver()
    {
        for (int i = 1; i < UsbIpDouble.MaxBusIds; i++) _kernel.Root.Writer.Write(MatchBusId, $"add 9-{i}");
        var writesBefore = _kernel.Writes.Count;
        var failure = Refusal(() => Export(Tablet));
        Assert.Equal((UsbIpErrors.MatchTableFullId, FailureKind.LimitExceeded), (failure.ErrorId, failure.Kind));
        Assert.Contains("at most 16 bus ids", failure.Message);
        Assert.Contains("9-15", failure.Message);
        Assert.Contains("Remove-UsbIpExport", failure.RecommendedAction);
        Assert.Equal(writesBefore + 1, _kernel.Writes.Count);
        Assert.Equal("usb", _kernel.Usb.DriverOf(Tablet));
    }

    [Fact]
    public void Without_usbip_host_loaded_export_is_UsbIpHostDriverMissing_with_the_modprobe_fix()
    {
        foreach (var entry in Directory.GetFileSystemEntries(_kernel.Tree.Resolve(UsbIpHostReader.DriverPath))) File.Delete(entry);
        Directory.Delete(_kernel.Tree.Resolve(UsbIpHostReader.DriverPath));
        var failure = Refusal(() => _exporter.PlanExport(UsbBusId.Parse(Tablet)));
        Assert.Equal((UsbIpErrors.HostDriverMissingId, FailureKind.NotInstalled), (failure.ErrorId, failure.Kind));
        Assert.Contains("modprobe usbip-host", failure.RecommendedAction);
    }

    [Fact]
    public void Hubs_and_imported_devices_are_refused_as_usbip_bind_refuses_them()
    {
        Assert.Equal(UsbIpErrors.HubNotExportableId, Refusal(() => _exporter.PlanExport(UsbBusId.Parse("usb1"))).ErrorId);
        var loop = Refusal(() => _exporter.PlanExport(UsbBusId.Parse("4-1")));
        Assert.Equal(UsbIpErrors.BindLoopId, loop.ErrorId);
        Assert.Contains("vhci_hcd.0", loop.Message);
    }

    [Fact]
    public void An_unknown_bus_id_is_UsbDeviceNotFound() =>
        Assert.Equal("UsbDeviceNotFound", Refusal(() => _exporter.PlanExport(UsbBusId.Parse("7-7"))).ErrorId);

    [Fact]
    public void Remove_gives_the_device_back_through_rebind_and_forgets_the_record()
    {
        Export(Tablet);
        var writesBefore = _kernel.Writes.Count;
        var device = _exporter.Remove(_exporter.PlanRemove(UsbBusId.Parse(Tablet)));
        Assert.Equal(new[]
        {
            new KernelWrite("/sys/bus/usb/drivers/usbip-host/unbind", "1-2"),
            new KernelWrite(MatchBusId, "del 1-2"),
            new KernelWrite(UsbIpExporter.RebindPath, "1-2"),
        }, _kernel.Writes.Skip(writesBefore));
        Assert.Equal("usb", device?.Driver);
        Assert.Equal("usbhid", InterfaceDriverOf("1-2:1.0"));
        Assert.Equal(new[] { "2-3" }, _kernel.Usb.MatchBusIds);
        Assert.Null(RecordOf(Tablet));
    }

    [Fact]
    public void Remove_on_a_kernel_without_rebind_deletes_the_entry_and_reprobes_with_drivers_probe()
    {
        _kernel.Usb.WithoutRebind();
        Export(Tablet);
        var plan = _exporter.PlanRemove(UsbBusId.Parse(Tablet));
        Assert.Equal(UsbIpExporter.DriversProbePath, plan.Writes[^1].SystemPath);
        Assert.Equal("usb", _exporter.Remove(plan)?.Driver);
        Assert.Equal(new[] { "2-3" }, _kernel.Usb.MatchBusIds);
    }

    [Fact]
    public void When_the_reprobe_binds_nothing_remove_binds_the_remembered_driver_directly()
    {
        Export(Tablet);
        _kernel.Usb.ReprobeBindsNothing();
        Assert.Equal("usb", _exporter.Remove(_exporter.PlanRemove(UsbBusId.Parse(Tablet)))?.Driver);
        Assert.Equal(new KernelWrite("/sys/bus/usb/drivers/usb/bind", "1-2"), _kernel.Writes[^1]);
    }

    [Fact]
    public void When_no_driver_takes_the_device_back_remove_says_so_with_the_command_to_retry()
    {
        _kernel.Usb.WithoutRebind();
        Export(Tablet);
        _kernel.Usb.FailProbe("usb", KernelErrno.EIO);
        var failure = Refusal(() => _exporter.Remove(_exporter.PlanRemove(UsbBusId.Parse(Tablet))));
        Assert.Equal((UsbIpErrors.NotGivenBackId, FailureKind.DeviceError), (failure.ErrorId, failure.Kind));
        Assert.Contains("/sys/bus/usb/drivers/usb/bind", failure.RecommendedAction);
        Assert.Null(_kernel.Usb.DriverOf(Tablet));
        Assert.Null(RecordOf(Tablet));
    }

    [Fact]
    public void Remove_refuses_a_device_in_use_and_writes_nothing_unless_forced()
    {
        var plan = _exporter.PlanRemove(UsbBusId.Parse("2-3"));
        Assert.True(plan.IsInUse);
        var failure = Refusal(() => _exporter.Remove(plan));
        Assert.Equal((UsbIpErrors.ExportInUseId, FailureKind.ResourceBusy), (failure.ErrorId, failure.Kind));
        Assert.Empty(_kernel.Writes);

        Assert.Equal("usb", _exporter.Remove(plan, force: true)?.Driver);
        Assert.Empty(_kernel.Usb.MatchBusIds);
    }

    [Fact]
    public void Remove_of_a_device_that_is_not_exported_is_UsbIpExportNotFound() =>
        Assert.Equal(UsbIpErrors.ExportNotFound, Refusal(() => _exporter.PlanRemove(UsbBusId.Parse(Tablet))).ErrorId);

    public void Dispose() => _kernel.Dispose();
}
