using VirtTools.Config;
using VirtTools.Diagnostics;
using VirtTools.UsbIp;
using Xunit;

namespace VirtTools.Tests.Engine.Config;

/// <summary>usbip.deadPeerTimeout: read with its range and position, carried by each attachment, written back.</summary>
public sealed class DeadPeerProfileTests
{
    private const string Profile = """
        usbip:
          deadPeerTimeout: 30
          server: { tcpPort: 3240 }
          attachments:
            - computerName: usbhost.example
              match: { busId: "1-2" }
        """;

    [Fact]
    public void The_timeout_is_read_and_each_attachment_carries_it_to_its_socket()
    {
        var usbIp = VirtHostConfigParser.Parse(Profile, "host.yaml").UsbIp!;
        Assert.Equal(30, usbIp.DeadPeerTimeout);
        Assert.Equal(UsbIpDeadPeerPolicy.Within(TimeSpan.FromSeconds(30)), usbIp.DeadPeer);
        Assert.Equal(usbIp.DeadPeer, Assert.Single(usbIp.Attachments).DeadPeer);
    }

    [Fact]
    public void A_profile_without_it_leaves_the_agent_its_own()
    {
        var usbIp = VirtHostConfigParser.Parse(Profile.Replace("  deadPeerTimeout: 30\n", ""), "host.yaml").UsbIp!;
        Assert.Null(usbIp.DeadPeerTimeout);
        Assert.Null(usbIp.DeadPeer);
        Assert.Null(Assert.Single(usbIp.Attachments).DeadPeer);
    }

    [Theory]
    [InlineData("4", "host.yaml:2:20: usbip.deadPeerTimeout (seconds) is 4; it must be between 5 and 43200")]
    [InlineData("43201", "host.yaml:2:20: usbip.deadPeerTimeout (seconds) is 43201; it must be between 5 and 43200")]
    [InlineData("1m", "host.yaml:2:20: usbip.deadPeerTimeout (seconds) must be a whole number")]
    public void A_timeout_outside_its_range_is_refused_with_its_position(string value, string problem)
    {
        var failure = Assert.Throws<VirtToolsException>(() => VirtHostConfigParser.Parse(Profile.Replace(": 30", ": " + value), "host.yaml"));
        Assert.Contains(problem, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_written_profile_reads_back_the_same_timeout()
    {
        var written = VirtHostConfigWriter.ToYaml(VirtHostConfigParser.Parse(Profile, "host.yaml"));
        Assert.Contains("deadPeerTimeout: 30", written, StringComparison.Ordinal);
        Assert.Equal(30, VirtHostConfigParser.Parse(written, "written.yaml").UsbIp!.DeadPeerTimeout);
    }
}
