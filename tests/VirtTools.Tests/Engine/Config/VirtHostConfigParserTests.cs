using VirtTools.Config;
using VirtTools.Diagnostics;
using VirtTools.Ksm;
using Xunit;

namespace VirtTools.Tests.Engine.Config;

public sealed class VirtHostConfigParserTests
{
    private const string IssueExample = """
        usbip:
          server: { address: ["0.0.0.0", "::"], tcpPort: 3240, allow: ["10.0.0.0/8", "127.0.0.1"] }
          exports:
            - match: { vendorId: "46f4", productId: "0001", serial: "HELDOUT42" }
            - match: { busId: "1-1.2" }
          attachments:
            - computerName: usbhost.example
              tcpPort: 3240
              match: { vendorId: "0403", productId: "6001" }
              reconnect: true
        pci:
          passthrough:
            - address: "0000:05:00.0"
              driver: vfio-pci
              includeIommuGroup: true
        ksm: { run: Run, pagesToScan: 1000, sleepMilliseconds: 20 }
        """;

    private static string Problems(string yaml) =>
        Assert.Throws<VirtToolsException>(() => VirtHostConfigParser.Parse(yaml, "host.yaml")).Message;

    [Fact]
    public void The_documented_profile_reads_into_objects()
    {
        var config = VirtHostConfigParser.Parse(IssueExample, "host.yaml");
        Assert.Equal(new[] { "0.0.0.0", "::" }, config.UsbIp!.Server!.Address);
        Assert.Equal(new[] { "10.0.0.0/8", "127.0.0.1" }, config.UsbIp.Server.Allow);
        Assert.Equal("HELDOUT42", config.UsbIp.Exports[0].Match.Serial);
        Assert.Equal("1-1.2", config.UsbIp.Exports[1].Match.BusId.ToString());
        var attachment = Assert.Single(config.UsbIp.Attachments);
        Assert.Equal(("usbhost.example", 3240, "0403", "6001", true),
            (attachment.ComputerName, attachment.TcpPort, attachment.Match.VendorId, attachment.Match.ProductId, attachment.Reconnect));
        var passthrough = Assert.Single(config.PciPassthrough);
        Assert.Equal(("0000:05:00.0", "vfio-pci", true), (passthrough.Address.ToString(), passthrough.Driver, passthrough.IncludeIommuGroup));
        Assert.Equal((KsmRunState.Run, 1000, 20), (config.Ksm!.Run, config.Ksm.PagesToScan, config.Ksm.SleepMilliseconds));
        Assert.Null(config.Ksm.MaxPageSharing);
    }

    [Fact]
    public void Rules_remember_where_they_stand_in_the_file()
    {
        var config = VirtHostConfigParser.Parse(IssueExample, "host.yaml");
        Assert.Equal("host.yaml:4:7", config.UsbIp!.Exports[0].Location);
    }

    [Fact]
    public void An_unknown_key_is_named_with_file_line_and_column_and_a_suggestion()
    {
        var message = Problems("ksm:\n  run: Run\n  pagestoscan: 10\n");
        Assert.Contains("host.yaml:3:3: unknown key 'pagestoscan' in ksm (did you mean 'pagesToScan'?)", message);
        Assert.Contains("nothing was applied", message);
    }

    [Fact]
    public void A_wrong_type_is_named_with_its_location()
    {
        Assert.Contains("host.yaml:2:16: ksm.pagesToScan must be a whole number", Problems("ksm:\n  pagesToScan: lots\n"));
        Assert.Contains("host.yaml:1:8: usbip must be a mapping", Problems("usbip: [1, 2]\n"));
        Assert.Contains("must be true or false", Problems("pci:\n  passthrough:\n    - address: 05:00.0\n      includeIommuGroup: maybe\n"));
    }

    [Fact]
    public void A_malformed_pci_address_is_rejected_and_a_short_one_is_completed()
    {
        Assert.Contains("host.yaml:3:16: '5:0.0' is not a PCI address", Problems("pci:\n  passthrough:\n    - address: 5:0.0\n"));
        var config = VirtHostConfigParser.Parse("pci:\n  passthrough:\n    - address: 05:00.0\n", "host.yaml");
        Assert.Equal("0000:05:00.0", config.PciPassthrough[0].Address.ToString());
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var message = Problems("ksm:\n  run: Sometimes\n  maxPageSharing: 1\nusbip:\n  server: { tcpPort: 70000, allow: [10.0.0.0/33] }\n");
        Assert.Contains("host.yaml:2:8: ksm.run is 'Sometimes'", message);
        Assert.Contains("host.yaml:3:19: ksm.maxPageSharing is 1; it must be between 2", message);
        Assert.Contains("usbip.server.tcpPort is 70000", message);
        Assert.Contains("allowed client '10.0.0.0/33' has no valid prefix length", message);
    }

    [Fact]
    public void A_device_match_by_bus_id_and_by_identity_at_once_is_ambiguous()
    {
        Assert.Contains("either by busId or by vendorId/productId/serial", Problems("usbip:\n  exports:\n    - match: { busId: 1-1, vendorId: 046d }\n"));
        Assert.Contains("the bus id \"1-x\" is not a USB bus id", Problems("usbip:\n  exports:\n    - match: { busId: 1-x }\n"));
        Assert.Contains("needs vendorId", Problems("usbip:\n  exports:\n    - match: { serial: ABC }\n"));
    }

    [Fact]
    public void A_yaml_syntax_error_names_its_position()
    {
        var error = Assert.Throws<VirtToolsException>(() => VirtHostConfigParser.Parse("ksm: { run: Run\n", "host.yaml"));
        Assert.Equal(ConfigErrors.InvalidId, error.ErrorId);
        Assert.Matches(@"host\.yaml:\d+:\d+: ", error.Message);
    }

    [Fact]
    public void The_same_function_twice_is_a_problem()
    {
        Assert.Contains("0000:05:00.0 is listed more than once", Problems("pci:\n  passthrough:\n    - address: 05:00.0\n    - address: 0000:05:00.0\n"));
    }

    [Fact]
    public void An_empty_profile_asks_for_nothing()
    {
        var config = VirtHostConfigParser.Parse("", "host.yaml");
        Assert.Null(config.UsbIp);
        Assert.Empty(config.PciPassthrough);
        Assert.Null(config.Ksm);
    }

    [Fact]
    public void A_missing_file_is_a_not_found_error()
    {
        var error = Assert.Throws<VirtToolsException>(() => VirtHostConfigParser.Load("/nonexistent/host.yaml"));
        Assert.Equal(("VirtHostConfigNotFound", FailureKind.NotFound), (error.ErrorId, error.Kind));
    }
}
