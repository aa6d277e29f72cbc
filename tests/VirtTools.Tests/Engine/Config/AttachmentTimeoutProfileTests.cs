using System.Net;
using System.Net.Sockets;
using VirtTools.Config;
using VirtTools.Diagnostics;
using VirtTools.UsbIp;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.Config;

/// <summary>
/// Profile attachments with <c>timeoutSec:</c> (Connect-UsbIpDevice -TimeoutSec for the agent): read, written back,
/// bounded, and the wait the import gets from a server that never answers.
/// </summary>
public sealed class AttachmentTimeoutProfileTests : IDisposable
{
    private const string Profile =
        """
        usbip:
          attachments:
            - computerName: 127.0.0.1
              tcpPort: PORT
              timeoutSec: TIMEOUT
              match: { busId: "1-1" }
        """;

    private readonly Double _kernel = Double.OnCapturedFixture();

    private static VirtHostConfig Parse(string timeout, int port = 3240) =>
        VirtHostConfigParser.Parse(Profile.Replace("TIMEOUT", timeout).Replace("PORT", port.ToString(System.Globalization.CultureInfo.InvariantCulture)), "host.yaml");

    [Fact]
    public void TimeoutSec_is_read_and_written_back_and_left_out_when_the_profile_leaves_it_out()
    {
        Assert.Equal(60, Parse("60").UsbIp!.Attachments.Single().TimeoutSec);
        var written = VirtHostConfigWriter.ToYaml(Parse("60"));
        Assert.Equal(60, VirtHostConfigParser.Parse(written, "again.yaml").UsbIp!.Attachments.Single().TimeoutSec);

        var without = VirtHostConfigParser.Parse(Profile.Replace("      timeoutSec: TIMEOUT\n", "").Replace("PORT", "3240"), "host.yaml");
        Assert.Null(without.UsbIp!.Attachments.Single().TimeoutSec);
        Assert.DoesNotContain("timeoutSec", VirtHostConfigWriter.ToYaml(without));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("3601")]
    [InlineData("soon")]
    public void A_timeoutSec_outside_1_to_3600_is_a_profile_problem_at_its_position(string value)
    {
        var error = Assert.Throws<VirtToolsException>(() => Parse(value));
        Assert.Contains("host.yaml:5:", error.Message);
        Assert.Contains("timeoutSec", error.Message);
    }

    [Fact]
    public void The_import_waits_for_a_silent_server_as_long_as_the_rule_says_not_the_appliers_own()
    {
        // A server that takes the connection and never answers: the import gives up after the rule's 1 s.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var rule = Parse("1", ((IPEndPoint)silent.LocalEndpoint).Port).UsbIp!.Attachments.Single();
        var applier = new UsbIpAttachmentApplier { Timeout = TimeSpan.FromHours(1) };

        var failure = Assert.Throws<VirtToolsException>(() => applier.Attach(_kernel.Root, rule, CancellationToken.None));

        Assert.Equal(UsbIpErrors.ServerTimeoutId, failure.ErrorId);
        Assert.Contains("within 1 seconds", failure.Message);
    }

    public void Dispose() => _kernel.Dispose();
}
