using VirtTools.UsbIp;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

public sealed class UsbIpServerNameTests
{
    [Theory]
    [InlineData("usbhost.example", "USBHOST.example")]
    [InlineData("::1", "0:0:0:0:0:0:0:1")]
    [InlineData("[::1]", "::1")]
    [InlineData("127.0.0.1", "::ffff:127.0.0.1")]
    [InlineData("fe80::1%2", "FE80::1%2")]
    public void Spellings_of_one_server_are_the_same(string recorded, string wanted) =>
        Assert.True(UsbIpServerName.Same(recorded, wanted));

    [Theory]
    [InlineData("usbhost.example", "usbhost")]
    [InlineData("10.0.0.5", "usbhost.example")] // not resolved: comparing never waits on DNS
    [InlineData("10.0.0.5", "10.0.0.6")]
    [InlineData("::1", "127.0.0.1")]
    [InlineData(null, "usbhost.example")]
    public void Different_servers_or_names_not_resolved_are_not(string? recorded, string wanted) =>
        Assert.False(UsbIpServerName.Same(recorded, wanted));
}
