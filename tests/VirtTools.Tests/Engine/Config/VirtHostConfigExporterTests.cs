using VirtTools.Config;
using VirtTools.Ksm;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Config;

/// <summary>Export-VirtHostConfig's engine on a copy of the captured tree with the record `usbip attach` left for port 15.</summary>
public sealed class VirtHostConfigExporterTests : IDisposable
{
    private readonly TemporaryTree _copy = CapturedFixture.CreateCopy();

    public VirtHostConfigExporterTests() => _copy.File("/run/vhci_hcd/port15", "127.0.0.1 3240 2-3");

    private SystemRoot Root => new(_copy.Path);

    private string Yaml => VirtHostConfigWriter.ToYaml(VirtHostConfigExporter.Capture(Root));

    [Fact]
    public void The_captured_host_exports_its_usbip_export_attachment_passthrough_and_ksm()
    {
        var config = VirtHostConfigExporter.Capture(Root);
        var export = Assert.Single(config.UsbIp!.Exports);
        Assert.Equal(("46f4", "0001", "LAB0001", null), (export.Match.VendorId, export.Match.ProductId, export.Match.Serial, export.Match.BusId));
        var attachment = Assert.Single(config.UsbIp.Attachments);
        Assert.Equal(("127.0.0.1", 3240, "2-3"), (attachment.ComputerName, attachment.TcpPort, attachment.Match.BusId?.ToString()));
        var passthrough = Assert.Single(config.PciPassthrough);
        Assert.Equal(("0000:00:02.0", "vfio-pci"), (passthrough.Address.ToString(), passthrough.Driver));
        Assert.Equal((KsmRunState.Run, 100, 20, 256), (config.Ksm!.Run, config.Ksm.PagesToScan, config.Ksm.SleepMilliseconds, config.Ksm.MaxPageSharing));
        Assert.Null(config.Ksm.SmartScan); // 6.1 has no smart_scan: left out, not invented
    }

    [Fact]
    public void The_exported_yaml_parses_back_to_the_same_profile()
    {
        var first = Yaml;
        var parsed = VirtHostConfigParser.Parse(first, "exported.yaml", Root.Path);
        Assert.Equal(first, VirtHostConfigWriter.ToYaml(parsed));
    }

    [Fact]
    public void The_exported_yaml_quotes_ids_and_writes_matches_on_one_line()
    {
        Assert.Contains("- match: {vendorId: \"46f4\", productId: \"0001\", serial: \"LAB0001\"}", Yaml);
        Assert.Contains("address: \"0000:00:02.0\"", Yaml);
    }

    [Fact]
    public void An_exported_profile_is_in_sync_with_the_host_it_came_from()
    {
        var drift = new VirtHostSync(Root).Test(VirtHostConfigParser.Parse(Yaml, "exported.yaml", Root.Path));
        Assert.NotEmpty(drift);
        Assert.All(drift, d => Assert.True(d.InSync, $"{d.Item}: {d.Actual} vs {d.Desired}"));
    }

    [Fact]
    public void A_device_without_a_serial_is_exported_by_its_bus_id()
    {
        _copy.File("/sys/bus/usb/devices/2-3/serial", "");
        Assert.Equal("2-3", Assert.Single(VirtHostConfigExporter.Capture(Root).UsbIp!.Exports).Match.BusId.ToString());
    }

    [Fact]
    public void A_server_section_round_trips_too()
    {
        var yaml = "usbip:\n  server: { address: [\"0.0.0.0\", \"::\"], tcpPort: 3241, allow: [\"10.0.0.0/8\"] }\n";
        var written = VirtHostConfigWriter.ToYaml(VirtHostConfigParser.Parse(yaml, "host.yaml"));
        var server = VirtHostConfigParser.Parse(written, "again.yaml").UsbIp!.Server!;
        Assert.Equal(new[] { "0.0.0.0", "::" }, server.Address);
        Assert.Equal(3241, server.TcpPort);
        Assert.Equal(new[] { "10.0.0.0/8" }, server.Allow);
    }

    [Fact]
    public void An_empty_root_exports_an_empty_profile_that_parses()
    {
        using var empty = new TemporaryTree("empty-host");
        var config = VirtHostConfigParser.Parse(VirtHostConfigWriter.ToYaml(VirtHostConfigExporter.Capture(new SystemRoot(empty.Path))), "empty.yaml");
        Assert.Equal((null, 0, null), (config.UsbIp, config.PciPassthrough.Count, config.Ksm));
    }

    public void Dispose() => _copy.Dispose();
}
