using VirtTools.Host.Commands;
using VirtTools.UsbIp;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>`--dead-peer-timeout S` of `virttools usbipd` and `virttools agent`.</summary>
public sealed class DeadPeerOptionTests
{
    [Fact]
    public void Whole_seconds_in_range_become_the_policy_within_them()
    {
        var policy = UsbIpDeadPeerPolicy.Default;
        Assert.True(DeadPeerOption.TryParse("12", ref policy, out _));
        Assert.Equal(UsbIpDeadPeerPolicy.Within(TimeSpan.FromSeconds(12)), policy);
    }

    [Theory]
    [InlineData("4")]
    [InlineData("43201")]
    [InlineData("1.5")]
    [InlineData("-10")]
    [InlineData("12s")]
    [InlineData("99999999999")]
    public void Anything_else_is_refused_naming_the_range_and_the_policy_is_left_as_it_was(string value)
    {
        var policy = UsbIpDeadPeerPolicy.Default;
        Assert.False(DeadPeerOption.TryParse(value, ref policy, out var problem));
        Assert.Contains("(5 to 43200)", problem);
        Assert.Same(UsbIpDeadPeerPolicy.Default, policy);
    }

    [Theory]
    [InlineData("usbipd")]
    [InlineData("agent")]
    public void Both_daemons_refuse_a_bad_timeout_with_their_usage_and_exit_2(string command)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var args = command == "agent"
            ? new[] { "agent", "--config", "/nonexistent.yaml", "--dead-peer-timeout", "3" }
            : new[] { "usbipd", "--dead-peer-timeout", "3" };

        Assert.Equal(2, VirtTools.Host.Program.Run(args, output, error));
        Assert.Contains("'3' is not a dead-peer timeout", error.ToString());
        Assert.Contains("--dead-peer-timeout S", error.ToString());
    }
}
