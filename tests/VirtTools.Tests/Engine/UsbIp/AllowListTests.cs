using System.Net;
using VirtTools.Config;
using VirtTools.Diagnostics;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Server;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>The allow-list grammar: what is served is what was written, and anything else is an error that says why.</summary>
public sealed class AllowListTests
{
    [Theory]
    [InlineData("192.0.2.7", "192.0.2.7/32")]
    [InlineData("10.0.0.0/8", "10.0.0.0/8")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("192.0.2.7/32", "192.0.2.7/32")]
    [InlineData("::1", "::1/128")]
    [InlineData("fd00::/8", "fd00::/8")]
    [InlineData("2001:db8::/32", "2001:db8::/32")]
    [InlineData(" 10.0.0.0/8 ", "10.0.0.0/8")]
    // IPv4-mapped entries are the IPv4 addresses and networks they carry.
    [InlineData("::ffff:192.0.2.7", "192.0.2.7/32")]
    [InlineData("::ffff:10.0.0.0/104", "10.0.0.0/8")]
    [InlineData("::ffff:0:0/96", "0.0.0.0/0")]
    public void A_valid_entry_is_served_as_written(string entry, string served) =>
        Assert.Equal(new[] { served }, ClientAllowList.Parse(new[] { entry }).Entries);

    [Theory]
    // The table: each of these was silently rewritten into a different network.
    [InlineData("127.0.0.1/0", "has host bits set: the network is 0.0.0.0/0")]
    [InlineData("10/8", "'10/8' is not a network: '10' is not a whole IPv4 address; write all four parts")]
    [InlineData("3240", "'3240' is not a whole IPv4 address; write all four parts")]
    // Host bits, with the network that was probably meant.
    [InlineData("10.0.0.1/8", "'10.0.0.1/8' has host bits set: the network is 10.0.0.0/8 (or write 10.0.0.1 alone")]
    [InlineData("192.0.2.7/24", "the network is 192.0.2.0/24")]
    [InlineData("fd00::1/8", "the network is fd00::/8")]
    [InlineData("::ffff:10.0.0.1/104", "the network is ::ffff:10.0.0.0/104")]
    // Prefixes in range for the family, in plain decimal.
    [InlineData("10.0.0.0/33", "a number from 0 to 32 for an IPv4 network")]
    [InlineData("fd00::/129", "a number from 0 to 128 for an IPv6 network")]
    [InlineData("10.0.0.0/", "has no valid prefix length")]
    [InlineData("10.0.0.0/-1", "has no valid prefix length")]
    [InlineData("10.0.0.0/08", "has no valid prefix length")]
    [InlineData("10.0.0.0/8/8", "has no valid prefix length")]
    [InlineData("10.0.0.0/0x8", "has no valid prefix length")]
    // Shorthand and other spellings IPAddress.TryParse reads as something else.
    [InlineData("10.1", "not a whole IPv4 address")]
    [InlineData("10.0.0", "not a whole IPv4 address")]
    [InlineData("0x0a.0.0.1", "is not an IP address")]
    [InlineData("010.0.0.1", "leading zero ('010')")]
    [InlineData("10.0.0.256", "'256' is above 255")]
    [InlineData("10.0.0.1.5", "not a whole IPv4 address")]
    [InlineData("fe80::1%eth0", "is not an IP address")]
    [InlineData("[::1]", "is not an IP address")]
    [InlineData("::ffff:10.1", "its IPv4 part '10.1' is not four decimal parts")]
    [InlineData("not-a-network", "is not an IP address")]
    [InlineData("", "is empty")]
    public void An_invalid_entry_is_refused_with_UsbIpInvalidAllowedClient_and_says_why(string entry, string why)
    {
        var failure = Assert.Throws<VirtToolsException>(() => ClientAllowList.Parse(new[] { "127.0.0.1", entry }));
        Assert.Equal(UsbIpErrors.InvalidAllowedClientId, failure.ErrorId);
        Assert.Equal(FailureKind.InvalidArgument, failure.Kind);
        Assert.Contains(why, failure.Message);
        Assert.Equal(entry, failure.Target);
        Assert.Contains(why, ClientAllowList.Check(entry));
    }

    [Fact]
    public void Any_serves_every_client_of_both_families()
    {
        var list = ClientAllowList.Parse(new[] { "any" });
        Assert.True(list.Allows(IPAddress.Parse("198.51.100.1")));
        Assert.True(list.Allows(IPAddress.Parse("2001:db8::1")));
        Assert.True(list.Allows(IPAddress.Parse("::ffff:198.51.100.1")));
    }

    [Fact]
    public void Addresses_and_networks_match_exactly_what_they_cover()
    {
        var list = ClientAllowList.Parse(new[] { "192.0.2.7", "10.0.0.0/8", "fd00::/8" });
        Assert.True(list.Allows(IPAddress.Parse("10.1.2.3")));
        Assert.True(list.Allows(IPAddress.Parse("192.0.2.7")));
        Assert.True(list.Allows(IPAddress.Parse("fd12::1")));
        Assert.False(list.Allows(IPAddress.Parse("192.0.2.8")));
        Assert.False(list.Allows(IPAddress.Parse("11.0.0.1")));
        Assert.False(list.Allows(IPAddress.Parse("fe80::1")));
        Assert.False(ClientAllowList.LoopbackOnly.Allows(IPAddress.Parse("192.0.2.8")));
        Assert.True(ClientAllowList.LoopbackOnly.Allows(IPAddress.Parse("127.0.0.2")));
        Assert.True(ClientAllowList.LoopbackOnly.Allows(IPAddress.IPv6Loopback));
    }

    [Fact]
    public void An_IPv4_client_seen_through_a_dual_stack_socket_matches_IPv4_entries()
    {
        var list = ClientAllowList.Parse(new[] { "192.0.2.0/24" });
        Assert.True(list.Allows(IPAddress.Parse("::ffff:192.0.2.9")));
        Assert.False(list.Allows(IPAddress.Parse("::ffff:192.0.3.9")));
    }

    [Fact]
    public void A_mapped_entry_matches_the_IPv4_client_in_either_form()
    {
        var list = ClientAllowList.Parse(new[] { "::ffff:192.0.2.7", "::ffff:10.0.0.0/104" });
        Assert.True(list.Allows(IPAddress.Parse("192.0.2.7")));
        Assert.True(list.Allows(IPAddress.Parse("::ffff:192.0.2.7")));
        Assert.True(list.Allows(IPAddress.Parse("10.200.0.1")));
        Assert.False(list.Allows(IPAddress.Parse("192.0.2.8")));
    }

    [Fact]
    public void An_IPv6_network_that_covers_the_mapped_range_matches_IPv4_clients_through_it()
    {
        var list = ClientAllowList.Parse(new[] { "::/0" });
        Assert.True(list.Allows(IPAddress.Parse("::ffff:192.0.2.7")));
        Assert.False(list.Allows(IPAddress.Parse("192.0.2.7")));
    }

    [Theory]
    [InlineData("192.0.2.7")]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("2001:db8::7")]
    [InlineData("::ffff:192.0.2.7")]
    public void A_listen_address_reads_as_written(string text) =>
        Assert.Equal(IPAddress.Parse(text), IPAddressText.Parse(text, out _));

    [Theory]
    [InlineData("3240")]
    [InlineData("10")]
    [InlineData("127.1")]
    [InlineData("0177.0.0.1")]
    [InlineData("localhost")]
    public void A_listen_address_in_shorthand_is_refused(string text)
    {
        Assert.Null(IPAddressText.Parse(text, out var problem));
        Assert.Contains($"'{text}'", problem);
    }

    [Fact]
    public void A_profiles_allow_entries_and_addresses_follow_the_same_grammar_with_their_position()
    {
        var failure = Assert.Throws<VirtToolsException>(() => VirtHostConfigParser.Parse(
            "usbip:\n  server:\n    address: [\"3240\"]\n    allow: [127.0.0.1, 10.0.0.1/8, 10/8]\n", "host.yaml"));
        Assert.Contains("host.yaml:3:15: address '3240' is not a whole IPv4 address", failure.Message);
        Assert.Contains("host.yaml:4:24: allowed client '10.0.0.1/8' has host bits set: the network is 10.0.0.0/8", failure.Message);
        Assert.Contains("host.yaml:4:36: allowed client '10/8' is not a network: '10' is not a whole IPv4 address", failure.Message);
    }
}
