using VirtTools.Config;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Usb;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.Config;

/// <summary>
/// Sync-VirtHostConfig's engine on the captured tree behind the kernel double, with the profile written for it
/// (drifting: ksm.pagesToScan, 0000:00:1f.2, the export of 1-2, the attachment of 127.0.0.1's 2-3).
/// </summary>
public sealed class VirtHostSyncTests : IDisposable
{
    private readonly Double _kernel = Double.OnCapturedFixture();
    private readonly RecordingExporter _exporter = new();
    private readonly RecordingAttacher _attacher = new();

    private VirtHostConfig Profile => VirtHostConfigParser.Load(ProfileAssets.CapturedHost, _kernel.RootPath);

    private VirtHostSync Engine => new(_kernel.Root, _exporter, _attacher);

    private IReadOnlyList<VirtHostDrift> SyncAll(VirtHostConfig? profile = null) => Engine.Sync(profile ?? Profile, (_, _) => true);

    private static string Outcomes(IEnumerable<VirtHostDrift> drift) => string.Join(", ", drift.Select(d => $"{d.Item}={d.Outcome}"));

    [Fact]
    public void Sync_applies_what_drifts_and_leaves_the_rest_alone()
    {
        var after = SyncAll();
        Assert.All(after, d => Assert.True(d.InSync, $"{d.Item}: {d.Actual} ({d.Outcome}: {d.Message})"));
        Assert.Equal(new[] { "ksm.pagesToScan", "0000:00:1f.2", "busId 1-2", "127.0.0.1:3240 busId 2-3" },
            after.Where(d => d.Outcome == SyncOutcome.Applied).Select(d => d.Item));
        Assert.All(after.Where(d => d.Outcome != SyncOutcome.Applied), d => Assert.Equal(SyncOutcome.Unchanged, d.Outcome));
        Assert.Equal("1000", _kernel.Tree.Read("/sys/kernel/mm/ksm/pages_to_scan")?.Trim());
        Assert.Equal("vfio-pci", _kernel.Pci.DriverOf("0000:00:1f.2"));
        Assert.Equal(1, _kernel.Usb.StatusOf("1-2"));
    }

    [Fact]
    public void A_second_sync_changes_nothing()
    {
        SyncAll();
        int writes = _kernel.Writes.Count;
        var second = SyncAll();
        Assert.Equal(writes, _kernel.Writes.Count);
        Assert.True(second.All(d => d.Outcome == SyncOutcome.Unchanged), Outcomes(second));
        Assert.Single(_exporter.Exported);
        Assert.Single(_attacher.Attached);
    }

    [Fact]
    public void When_the_callback_says_no_nothing_is_written_and_the_drift_stays()
    {
        var asked = new List<string>();
        var after = Engine.Sync(Profile, (drift, _) => { asked.Add(drift.Item); return false; });
        Assert.Empty(_kernel.Writes);
        Assert.Empty(_exporter.Exported);
        Assert.Equal(new[] { "ksm.pagesToScan", "0000:00:1f.2", "busId 1-2", "127.0.0.1:3240 busId 2-3" }, asked);
        Assert.Equal(4, after.Count(d => d.Outcome == SyncOutcome.Skipped && !d.InSync));
    }

    [Fact]
    public void Items_are_offered_in_the_safe_order_ksm_pci_exports_attachments()
    {
        var areas = new List<VirtHostArea>();
        Engine.Sync(Profile, (drift, _) => { areas.Add(drift.Area); return false; });
        Assert.Equal(new[] { VirtHostArea.Ksm, VirtHostArea.PciPassthrough, VirtHostArea.UsbIpExport, VirtHostArea.UsbIpAttachment }, areas);
    }

    [Fact]
    public void The_callback_is_told_the_writes_each_change_makes()
    {
        var actions = new Dictionary<string, string>();
        Engine.Sync(Profile, (drift, action) => { actions[drift.Item] = action; return false; });
        Assert.Contains("write '1000' to /sys/kernel/mm/ksm/pages_to_scan", actions["ksm.pagesToScan"]);
        Assert.Contains("write 'vfio-pci' to /sys/bus/pci/devices/0000:00:1f.2/driver_override", actions["0000:00:1f.2"]);
        Assert.StartsWith("Export 1-2 ", actions["busId 1-2"]);
    }

    [Fact]
    public void A_failing_item_is_rolled_back_and_the_others_still_apply()
    {
        _kernel.FailWrite("/sys/bus/pci/drivers_probe", KernelErrno.ENODEV);
        var after = SyncAll();
        var pci = after.Single(d => d.Item == "0000:00:1f.2");
        Assert.Equal((SyncOutcome.RolledBack, false, "BindFailed"), (pci.Outcome, pci.InSync, pci.Error?.ErrorId));
        Assert.Contains("Rolled back", pci.Message);
        Assert.Null(_kernel.Pci.DriverOverrideOf("0000:00:1f.2"));
        Assert.Null(_kernel.Pci.DriverOf("0000:00:1f.2"));
        Assert.Equal(new[] { "ksm.pagesToScan", "busId 1-2", "127.0.0.1:3240 busId 2-3" },
            after.Where(d => d.Outcome == SyncOutcome.Applied).Select(d => d.Item));
    }

    [Fact]
    public void A_change_refused_before_any_write_is_Failed_with_the_engine_error()
    {
        var profile = VirtHostConfigParser.Parse("ksm: { smartScan: true, pagesToScan: 300 }", "host.yaml", _kernel.RootPath);
        var after = SyncAll(profile);
        var smart = after.Single(d => d.Item == "ksm.smartScan");
        Assert.Equal((SyncOutcome.Failed, "KsmSettingNotSupported"), (smart.Outcome, smart.Error?.ErrorId));
        Assert.Equal(SyncOutcome.Applied, after.Single(d => d.Item == "ksm.pagesToScan").Outcome);
    }

    [Fact]
    public void An_engine_that_throws_anything_else_fails_its_item_and_the_others_still_apply()
    {
        var after = new VirtHostSync(_kernel.Root, new ThrowingExporter(), _attacher).Sync(Profile, (_, _) => true);
        var export = after.Single(d => d.Area == VirtHostArea.UsbIpExport && d.Item == "busId 1-2");
        Assert.Equal(SyncOutcome.Failed, export.Outcome);
        Assert.Equal((ConfigErrors.UnexpectedFailureId, "busId 1-2"), (export.Error?.ErrorId, export.Error?.Target));
        Assert.Contains("InvalidOperationException", export.Message, StringComparison.Ordinal);
        Assert.Equal(new[] { "ksm.pagesToScan", "0000:00:1f.2", "127.0.0.1:3240 busId 2-3" },
            after.Where(d => d.Outcome == SyncOutcome.Applied).Select(d => d.Item));
    }

    [Fact]
    public void An_export_record_that_cannot_be_written_rolls_the_item_back_and_the_others_still_apply()
    {
        // A file where the export's record folder should be: saving the record fails after usbip-host took the device.
        Directory.CreateDirectory(_kernel.Tree.Resolve("/run"));
        File.WriteAllText(_kernel.Tree.Resolve("/run/virttools"), "not a folder\n");

        var after = SyncAll();

        var export = after.Single(d => d.Area == VirtHostArea.UsbIpExport && d.Item == "busId 1-2");
        Assert.Equal((SyncOutcome.RolledBack, VirtTools.UsbIp.UsbIpErrors.ExportRecordNotWrittenId), (export.Outcome, export.Error?.ErrorId));
        Assert.Contains("Rolled back: 1-2 unbound from usbip-host, back on usb", export.Message, StringComparison.Ordinal);
        Assert.Equal("usb", _kernel.Usb.DriverOf("1-2"));
        Assert.Equal(new[] { "ksm.pagesToScan", "0000:00:1f.2", "127.0.0.1:3240 busId 2-3" },
            after.Where(d => d.Outcome == SyncOutcome.Applied).Select(d => d.Item));
    }

    [Fact]
    public void A_record_file_that_is_not_one_fails_the_items_that_need_it_and_the_others_still_apply()
    {
        _kernel.Tree.File("/var/lib/virttools/passthrough.json", "{ not json");
        _kernel.Tree.File("/run/virttools/usbip-exports.json", "[ { \"busId\": \"../x\" } ]");

        var after = SyncAll();

        var pci = after.Single(d => d.Item == "0000:00:1f.2");
        Assert.Equal((SyncOutcome.Failed, "PassthroughStateCorrupt"), (pci.Outcome, pci.Error?.ErrorId));
        var export = after.Single(d => d.Area == VirtHostArea.UsbIpExport && d.Item == "busId 1-2");
        // Refused by the plan, before any write: the device never left its driver.
        Assert.Equal((SyncOutcome.RolledBack, VirtTools.UsbIp.UsbIpErrors.ExportStateCorruptId), (export.Outcome, export.Error?.ErrorId));
        Assert.Equal("usb", _kernel.Usb.DriverOf("1-2"));
        Assert.DoesNotContain(_kernel.Writes, write => write.Text.Contains("1-2", StringComparison.Ordinal));
        Assert.Equal(new[] { "ksm.pagesToScan", "127.0.0.1:3240 busId 2-3" },
            after.Where(d => d.Outcome == SyncOutcome.Applied).Select(d => d.Item));
    }

    [Fact]
    public void A_passthrough_record_that_cannot_be_written_rolls_the_item_back_and_the_others_still_apply()
    {
        Directory.CreateDirectory(_kernel.Tree.Resolve("/var/lib"));
        File.WriteAllText(_kernel.Tree.Resolve("/var/lib/virttools"), "not a folder\n");

        var after = SyncAll();

        var pci = after.Single(d => d.Item == "0000:00:1f.2");
        Assert.Equal((SyncOutcome.RolledBack, false, VirtTools.Pci.PciErrors.RecordNotWrittenId), (pci.Outcome, pci.InSync, pci.Error?.ErrorId));
        Assert.Contains("Rolled back: 0000:00:1f.2 is back on no driver", pci.Message, StringComparison.Ordinal);
        Assert.Null(_kernel.Pci.DriverOf("0000:00:1f.2"));
        Assert.Null(_kernel.Pci.DriverOverrideOf("0000:00:1f.2"));
        Assert.Equal(new[] { "ksm.pagesToScan", "busId 1-2", "127.0.0.1:3240 busId 2-3" },
            after.Where(d => d.Outcome == SyncOutcome.Applied).Select(d => d.Item));
    }

    [Fact]
    public void An_ambiguous_export_match_stops_the_sync_before_anything_is_written()
    {
        var profile = VirtHostConfigParser.Parse("ksm: { pagesToScan: 300 }\nusbip:\n  exports:\n    - match: { vendorId: \"0627\" }\n", "host.yaml", _kernel.RootPath);
        Assert.Equal("UsbIpExportAmbiguous", Assert.Throws<VirtToolsException>(() => SyncAll(profile)).ErrorId);
        Assert.Empty(_kernel.Writes);
    }

    [Fact]
    public void A_function_already_on_vfio_pci_is_pinned_with_driver_override()
    {
        using var kernel = Double.OnEmptyTree();
        kernel.Pci.AddDriver("vfio-pci").AddFunction("0000:05:00.0", "8086", "10d3", 0x020000, iommuGroup: 7, driver: "vfio-pci");
        var profile = VirtHostConfigParser.Parse("pci:\n  passthrough:\n    - address: 05:00.0\n", "host.yaml", kernel.RootPath);
        var item = Assert.Single(new VirtHostSync(kernel.Root).Sync(profile, (_, _) => true));
        Assert.Equal((SyncOutcome.Applied, true), (item.Outcome, item.InSync));
        Assert.Equal("vfio-pci", kernel.Pci.DriverOverrideOf("0000:05:00.0"));
    }

    [Fact]
    public void An_export_matched_by_serial_is_found_and_exported_at_its_new_bus_id()
    {
        Replug("2-3", "2-4");
        var profile = VirtHostConfigParser.Parse("usbip:\n  exports:\n    - match: { vendorId: \"46f4\", productId: \"0001\", serial: LAB0001 }\n", "host.yaml", _kernel.RootPath);
        Assert.Equal("at 2-4 on usb", Assert.Single(Engine.Test(profile)).Actual);

        var item = Assert.Single(SyncAll(profile));
        Assert.Equal((SyncOutcome.Applied, true, "exported at 2-4 (Available)"), (item.Outcome, item.InSync, item.Actual));
        Assert.Equal(new[] { "2-4" }, _exporter.Exported);
    }

    /// <summary>
    /// The device at <paramref name="from"/> unplugged and plugged into the next port: usbip-host lets go of it, its
    /// directory and links move to <paramref name="to"/>, and the generic usb driver takes it, as after a real replug.
    /// </summary>
    private void Replug(string from, string to)
    {
        SysfsWriter.Write(_kernel.Root, "/sys/bus/usb/drivers/usbip-host/unbind", from);
        var devices = _kernel.Tree.Resolve(UsbDeviceReader.DevicesPath);
        var old = new SysfsDirectory(Path.Combine(devices, from)).Resolved().Path;
        var moved = Path.Combine(Path.GetDirectoryName(old)!, to);
        Directory.Move(old, moved);
        foreach (var child in Directory.GetDirectories(moved, from + ":*"))
            Directory.Move(child, Path.Combine(moved, to + Path.GetFileName(child)[from.Length..]));
        foreach (var link in Directory.GetFileSystemEntries(devices, from + "*").Where(l => l == Path.Combine(devices, from) || l.StartsWith(Path.Combine(devices, from + ":"), StringComparison.Ordinal)))
            File.Delete(link);
        File.CreateSymbolicLink(Path.Combine(devices, to), Path.GetRelativePath(devices, moved));
        foreach (var child in Directory.GetDirectories(moved, to + ":*"))
            File.CreateSymbolicLink(Path.Combine(devices, Path.GetFileName(child)), Path.GetRelativePath(devices, child));
        SysfsWriter.Write(_kernel.Root, "/sys/bus/usb/drivers/usb/bind", to);
    }

    public void Dispose() => _kernel.Dispose();

    /// <summary>An engine with a fault nobody foresaw: it throws something other than a VirtToolsException.</summary>
    private sealed class ThrowingExporter : IUsbIpExportApplier
    {
        public void Export(SystemRoot root, VirtTools.Usb.UsbBusId busId, CancellationToken cancellation) => throw new InvalidOperationException("a fault");
    }
}
