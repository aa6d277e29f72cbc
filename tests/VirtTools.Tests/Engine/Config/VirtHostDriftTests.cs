using VirtTools.Config;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.Config;

/// <summary>
/// Test-VirtHostConfig's engine, area by area, on the captured tree: 2-3 (46f4:0001, serial LAB0001) exported and
/// re-imported as 4-1 on vhci port 15, 1-1 and 1-2 two QEMU HID devices (0627:0001, different serials), the e1000
/// 00:02.0 on vfio-pci, 00:1f.x unbound in group 4, KSM running with pages_to_scan 100.
/// </summary>
public sealed class VirtHostDriftTests
{
    private static IReadOnlyList<VirtHostDrift> Test(string yaml, string root) =>
        new VirtHostSync(new SystemRoot(root)).Test(VirtHostConfigParser.Parse(yaml, "host.yaml", root));

    [Fact]
    public void The_profile_written_for_the_captured_tree_reports_exactly_the_expected_drift()
    {
        var root = CapturedFixture.Shared;
        var drift = new VirtHostSync(new SystemRoot(root)).Test(VirtHostConfigParser.Load(ProfileAssets.CapturedHost, root));
        Assert.Equal(
            new[] { "Ksm ksm.pagesToScan", "PciPassthrough 0000:00:1f.2", "UsbIpExport busId 1-2", "UsbIpAttachment 127.0.0.1:3240 busId 2-3" },
            drift.Where(d => !d.InSync).Select(d => $"{d.Area} {d.Item}"));
        Assert.Equal(
            new[] { "Ksm ksm.sleepMilliseconds", "Ksm ksm.run", "PciPassthrough 0000:00:02.0", "UsbIpExport vendorId 46f4 productId 0001 serial LAB0001" },
            drift.Where(d => d.InSync).Select(d => $"{d.Area} {d.Item}"));
        Assert.Contains(drift, d => (d.Item, d.Desired, d.Actual) == ("ksm.pagesToScan", "1000", "100"));
        Assert.Contains(drift, d => (d.Item, d.Desired, d.Actual) == ("0000:00:1f.2", "vfio-pci with its IOMMU group", "no driver"));
        Assert.Contains(drift, d => (d.Item, d.Actual) == ("busId 1-2", "at 1-2 on usb"));
        Assert.Contains(drift, d => d.Area == VirtHostArea.UsbIpAttachment && d.Actual == "not attached");
    }

    [Fact]
    public void Every_item_remembers_its_place_in_the_profile()
    {
        var root = CapturedFixture.Shared;
        var drift = new VirtHostSync(new SystemRoot(root)).Test(VirtHostConfigParser.Load(ProfileAssets.CapturedHost, root));
        Assert.EndsWith("captured-host.yaml:6:7", drift.Single(d => d.Item == "busId 1-2").Location);
        Assert.All(drift, d => Assert.Equal(new SystemRoot(root).Path, d.Root));
    }

    [Fact]
    public void A_ksm_key_this_kernel_lacks_reads_as_absent_and_drifts()
    {
        var item = Assert.Single(Test("ksm: { smartScan: true }", CapturedFixture.Shared));
        Assert.Equal(("ksm.smartScan", "true", null, false), (item.Item, item.Desired, item.Actual, item.InSync));
    }

    [Fact]
    public void Without_ksm_every_ksm_key_drifts_with_nothing_actual()
    {
        using var empty = new TemporaryTree("no-ksm");
        var drift = Test("ksm: { run: Run, pagesToScan: 10 }", empty.Path);
        Assert.All(drift, d => Assert.Equal((null, false), (d.Actual, d.InSync)));
    }

    [Fact]
    public void An_unmerge_comes_before_the_other_ksm_keys_and_run_or_stop_after_them()
    {
        Assert.Equal(new[] { "ksm.run", "ksm.pagesToScan" }, Test("ksm: { run: Unmerge, pagesToScan: 10 }", CapturedFixture.Shared).Select(d => d.Item));
        Assert.Equal(new[] { "ksm.pagesToScan", "ksm.run" }, Test("ksm: { run: Stop, pagesToScan: 10 }", CapturedFixture.Shared).Select(d => d.Item));
    }

    [Fact]
    public void A_function_on_vfio_pci_without_driver_override_drifts()
    {
        using var kernel = Double.OnEmptyTree();
        kernel.Pci.AddDriver("vfio-pci").AddFunction("0000:05:00.0", "8086", "10d3", 0x020000, iommuGroup: 7, driver: "vfio-pci");
        var item = Assert.Single(Test("pci:\n  passthrough:\n    - address: 05:00.0\n", kernel.RootPath));
        Assert.Equal(("vfio-pci; driver_override unset", false), (item.Actual, item.InSync));
    }

    [Fact]
    public void With_includeIommuGroup_a_group_member_on_a_host_driver_is_drift()
    {
        using var kernel = Double.OnCapturedFixture();
        kernel.Pci.AddDriver("i801_smbus", "8086:2930").Bind("0000:00:1f.3", "i801_smbus");
        var item = Assert.Single(Test("pci:\n  passthrough:\n    - address: 00:1f.2\n      includeIommuGroup: true\n", kernel.RootPath));
        Assert.Equal("no driver; group member 0000:00:1f.3 on i801_smbus", item.Actual);
    }

    [Fact]
    public void A_function_that_is_not_there_drifts_with_nothing_actual()
    {
        var item = Assert.Single(Test("pci:\n  passthrough:\n    - address: 0000:42:00.0\n", CapturedFixture.Shared));
        Assert.Equal((null, false), (item.Actual, item.InSync));
    }

    [Fact]
    public void An_export_match_that_fits_several_devices_refuses_the_profile_naming_file_line_and_column()
    {
        var error = Assert.Throws<VirtToolsException>(() =>
            Test("usbip:\n  exports:\n    - match: { vendorId: \"0627\", productId: \"0001\" }\n", CapturedFixture.Shared));
        Assert.Equal(("UsbIpExportAmbiguous", FailureKind.InvalidData), (error.ErrorId, error.Kind));
        Assert.Contains("host.yaml:3:7: the export match vendorId 0627 productId 0001 fits 2 devices (1-1, 1-2)", error.Message);
        Assert.Contains("nothing was applied", error.Message);
    }

    [Fact]
    public void A_device_imported_through_vhci_is_not_taken_for_the_export_it_came_from()
    {
        // 4-1 is 2-3 seen back through vhci_hcd: same vendor, product and serial, but not exportable.
        var item = Assert.Single(Test("usbip:\n  exports:\n    - match: { vendorId: \"46f4\", serial: LAB0001 }\n", CapturedFixture.Shared));
        Assert.Equal(("exported at 2-3 (InUse)", true), (item.Actual, item.InSync));
    }

    [Fact]
    public void An_export_whose_device_is_not_plugged_in_drifts_with_nothing_actual()
    {
        var item = Assert.Single(Test("usbip:\n  exports:\n    - match: { busId: 3-9 }\n", CapturedFixture.Shared));
        Assert.Equal((null, false), (item.Actual, item.InSync));
    }

    [Fact]
    public void An_attachment_is_in_sync_when_a_port_record_names_its_server_and_the_device_matches()
    {
        using var copy = CapturedFixture.CreateCopy();
        copy.File("/run/vhci_hcd/port15", "127.0.0.1 3240 2-3");
        var drift = Test("""
            usbip:
              attachments:
                - { computerName: 127.0.0.1, match: { busId: "2-3" } }
                - { computerName: 127.0.0.1, match: { vendorId: "46f4", productId: "0001", serial: LAB0001 } }
                - { computerName: 127.0.0.1, tcpPort: 3241, match: { busId: "2-3" } }
                - { computerName: usbhost.example, match: { busId: "2-3" } }
                - { computerName: "::ffff:127.0.0.1", match: { busId: "2-3" } }
            """, copy.Path);
        // The last rule spells the recorded address another way: the same server.
        Assert.Equal(new[] { true, true, false, false, true }, drift.Select(d => d.InSync));
        Assert.Equal("attached on vhci port 15 as 4-1", drift[0].Actual);
    }

    [Fact]
    public void A_port_in_use_without_a_record_satisfies_no_attachment()
    {
        var item = Assert.Single(Test("usbip:\n  attachments:\n    - { computerName: 127.0.0.1, match: { vendorId: \"46f4\" } }\n", CapturedFixture.Shared));
        Assert.False(item.InSync);
    }
}
