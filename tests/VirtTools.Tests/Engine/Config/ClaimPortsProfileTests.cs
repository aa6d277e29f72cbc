using VirtTools.Config;
using VirtTools.Diagnostics;
using Xunit;

namespace VirtTools.Tests.Engine.Config;

/// <summary>usbip.server.claimPorts: ports reserved for sharing, read, checked and written back.</summary>
public sealed class ClaimPortsProfileTests
{
    private static string Problems(string yaml) =>
        Assert.IsAssignableFrom<VirtToolsException>(Record.Exception(() => VirtHostConfigParser.Parse(yaml, "host.yaml"))).Message;

    [Fact]
    public void Claimed_ports_are_read_as_the_bus_ids_given()
    {
        var server = VirtHostConfigParser.Parse("usbip:\n  server: { claimPorts: [\"1-2\", \"3-1.4\"] }\n", "host.yaml").UsbIp!.Server!;
        Assert.Equal(new[] { "1-2", "3-1.4" }, server.ClaimPorts.Select(b => b.ToString()));
    }

    [Fact]
    public void A_profile_without_claimed_ports_has_none() =>
        Assert.Empty(VirtHostConfigParser.Parse("usbip:\n  server: { tcpPort: 3240 }\n", "host.yaml").UsbIp!.Server!.ClaimPorts);

    [Fact]
    public void Claimed_ports_round_trip_through_the_writer()
    {
        var written = VirtHostConfigWriter.ToYaml(VirtHostConfigParser.Parse("usbip:\n  server: { claimPorts: [1-2, 3-1.4] }\n", "host.yaml"));
        Assert.Contains("claimPorts", written, StringComparison.Ordinal);
        Assert.Equal(new[] { "1-2", "3-1.4" }, VirtHostConfigParser.Parse(written, "again.yaml").UsbIp!.Server!.ClaimPorts.Select(b => b.ToString()));
    }

    [Fact]
    public void A_server_section_without_claimed_ports_is_written_without_the_key() =>
        Assert.DoesNotContain("claimPorts", VirtHostConfigWriter.ToYaml(VirtHostConfigParser.Parse("usbip:\n  server: { tcpPort: 3241 }\n", "host.yaml")), StringComparison.Ordinal);

    [Theory]
    [InlineData("usb1", "claimed port 'usb1' is not a device bus id")]
    [InlineData("1-2:1.0", "claimed port '1-2:1.0' is not a device bus id")]
    [InlineData("../1-2", "claimed port '../1-2' is not a device bus id")]
    public void A_claimed_port_that_is_no_device_bus_id_is_refused_at_its_position(string port, string expected)
    {
        var message = Problems($"usbip:\n  server:\n    claimPorts: [\"{port}\"]\n");
        Assert.Contains("host.yaml:3:18: " + expected, message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_port_listed_twice_is_refused() =>
        Assert.Contains("claimed port '1-2' is listed twice", Problems("usbip:\n  server: { claimPorts: [1-2, 1-2] }\n"), StringComparison.Ordinal);

    [Fact]
    public void More_claimed_ports_than_usbip_host_can_share_are_refused()
    {
        var ports = string.Join(", ", Enumerable.Range(1, ProfileLimits.MaxClaimPorts + 1).Select(i => $"1-{i}"));
        Assert.Contains($"at most {ProfileLimits.MaxClaimPorts}", Problems($"usbip:\n  server: {{ claimPorts: [{ports}] }}\n"), StringComparison.Ordinal);
    }
}
