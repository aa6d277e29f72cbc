using VirtTools.Diagnostics;
using VirtTools.Pci;
using VirtTools.State;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Host;
using Xunit;

namespace VirtTools.Tests.Engine.State;

/// <summary>
/// Issue 14, item 5: a newline, a space or a slash in any record field never reaches modprobe.d or a sysfs path.
/// Saving such a record is refused with the area's ErrorId; a record file edited to hold one is reported, not used.
/// </summary>
public sealed class RecordInjectionTests : IDisposable
{
    private const string Conf = "/etc/modprobe.d/virttools-vfio-pci.conf";
    private readonly TemporaryTree _tree = new("injection");

    private SystemRoot Root => new(_tree.Path);

    private static readonly PassthroughRecord Good = new()
    {
        Address = "0000:00:01.0", Driver = "vfio-pci", OriginalDriver = "xhci_hcd", VendorId = "1b36", DeviceId = "000d", Persisted = true,
    };

    /// <summary>The finding's record: originalDriver carrying a second modprobe.d command.</summary>
    private const string Install = "xhci_hcd pre: vfio-pci\ninstall usbcore /bin/sh -c 'touch /tmp/pwned'\n#";

    public static TheoryData<string, string> Hostile()
    {
        var data = new TheoryData<string, string>();
        foreach (var field in new[] { "address", "driver", "originalDriver", "vendorId", "deviceId" })
            foreach (var value in new[] { Install, "xhci hcd", "../../../etc/x", "xhci_hcd/..", "1b36\n", " 1b3", "0000:00:01.0\n" })
                data.Add(field, value);
        return data;
    }

    private static PassthroughRecord With(string field, string value) => field switch
    {
        "address" => Good with { Address = value },
        "driver" => Good with { Driver = value },
        "originalDriver" => Good with { OriginalDriver = value },
        "vendorId" => Good with { VendorId = value },
        _ => Good with { DeviceId = value },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Saving_a_record_with_a_hostile_field_is_refused_and_modprobe_d_is_untouched(string field, string value)
    {
        _tree.File(Conf, "# the file before");
        var error = Assert.Throws<VirtToolsException>(() =>
            new PassthroughStateStore(Root).Commit(new[] { With(field, value) }, Array.Empty<string>(), new[] { "vfio-pci" }));
        Assert.Equal(PciErrors.PassthroughRecordInvalidId, error.ErrorId);
        Assert.Contains(field, error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal("# the file before\n", _tree.Read(Conf));
        Assert.Null(_tree.Read(PassthroughStateStore.SystemPath));
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Modprobe_lines_are_never_made_from_a_hostile_record(string field, string value) =>
        Assert.Equal(PciErrors.PassthroughRecordInvalidId,
            Assert.Throws<VirtToolsException>(() => ModprobePersistence.Lines("vfio-pci", new[] { Good, With(field, value) })).ErrorId);

    [Theory]
    [InlineData("vfio-pci\ninstall x /bin/sh")]
    [InlineData("../../../../tmp/x")]
    [InlineData("vfio pci")]
    public void A_hostile_stub_driver_name_is_PciDriverNameInvalid_before_it_becomes_a_file_name(string driver) =>
        Assert.Equal(PciErrors.DriverNameInvalidId, Assert.Throws<VirtToolsException>(() => ModprobePersistence.FilePath(driver)).ErrorId);

    [Fact]
    public void A_record_file_edited_to_hold_an_injection_is_reported_not_used_and_modprobe_d_is_untouched()
    {
        _tree.File(Conf, "# the file before");
        _tree.File(PassthroughStateStore.SystemPath,
            """[{"address":"0000:00:01.0","driver":"vfio-pci","originalDriver":"xhci_hcd\ninstall usbcore /bin/sh -c id","persisted":true}]""");
        var store = new PassthroughStateStore(Root);
        var error = Assert.Throws<VirtToolsException>(() => store.Load());
        Assert.Equal("PassthroughStateCorrupt", error.ErrorId);
        Assert.Contains("originalDriver", error.Message);
        Assert.Equal("PassthroughStateCorrupt", Assert.Throws<VirtToolsException>(() =>
            store.Commit(new[] { Good with { Address = "0000:00:02.0" } }, Array.Empty<string>(), new[] { "vfio-pci" })).ErrorId);
        Assert.Equal("# the file before\n", _tree.Read(Conf));
    }

    [Theory]
    [InlineData("busId", "1-1\n")]
    [InlineData("busId", "../../../../../tmp")]
    [InlineData("busId", "1-1 2-2")]
    [InlineData("originalDriver", "usb\nx")]
    [InlineData("originalDriver", "../usb")]
    [InlineData("vendorId", "46f4/")]
    [InlineData("productId", "0001 ")]
    public void An_export_record_with_a_hostile_field_is_refused_as_UsbIpExportRecordInvalid(string field, string value)
    {
        var good = new UsbIpExportRecord { BusId = "1-1", OriginalDriver = "usb", VendorId = "46f4", ProductId = "0001" };
        var record = field switch
        {
            "busId" => good with { BusId = value },
            "originalDriver" => good with { OriginalDriver = value },
            "vendorId" => good with { VendorId = value },
            _ => good with { ProductId = value },
        };
        Assert.Equal(UsbIpErrors.ExportRecordInvalidId, Assert.Throws<VirtToolsException>(() => UsbIpExportRecord.Store(Root).Save(record)).ErrorId);
        Assert.Null(_tree.Read(UsbIpExportRecord.SystemPath));
    }

    [Fact]
    public void An_export_record_file_edited_to_hold_a_traversal_is_reported_not_used()
    {
        _tree.File(UsbIpExportRecord.SystemPath, """[{"busId":"1-1","originalDriver":"../../../../../tmp/x"}]""");
        Assert.Equal("UsbIpExportStateCorrupt", Assert.Throws<VirtToolsException>(() => UsbIpExportRecord.Store(Root).Find("1-1")).ErrorId);
    }

    [Theory]
    [InlineData("vfio-pci")]
    [InlineData("pci-stub")]
    [InlineData("snd_hda_intel")]
    [InlineData("8250_mid")]
    [InlineData("nvidia.drm")]
    public void Real_driver_names_pass(string driver) => Assert.Null(RecordField.DriverName("driver", driver));

    [Theory]
    [InlineData("1-1")]
    [InlineData("3-2.4.1")]
    [InlineData("10-1.2")]
    public void Real_bus_ids_pass(string busId) => Assert.Null(RecordField.UsbBusId("busId", busId));

    [Fact]
    public void A_record_file_bigger_than_any_VirtTools_writes_is_refused_without_reading_it_whole()
    {
        _tree.File(PassthroughStateStore.SystemPath, "[" + new string(' ', JsonRecordStore<PassthroughRecord>.MaxFileBytes) + "]");
        Assert.Equal("PassthroughStateCorrupt", Assert.Throws<VirtToolsException>(() => new PassthroughStateStore(Root).Load()).ErrorId);
    }

    public void Dispose() => _tree.Dispose();
}
