using VirtTools.Pci;
using Xunit;

namespace VirtTools.Tests.Engine.Pci;

public sealed class PciAddressTests
{
    [Theory]
    [InlineData("0000:05:06.0", "0000:05:06.0")]
    [InlineData("05:06.0", "0000:05:06.0")]
    [InlineData("0000:AF:1F.7", "0000:af:1f.7")]
    [InlineData("10000:00:00.0", null)]
    [InlineData("00:20.0", null)]
    [InlineData("00:01.8", null)]
    [InlineData("eth0", null)]
    [InlineData("", null)]
    public void Normalize_gives_the_canonical_sysfs_name_or_null(string input, string? expected)
    {
        Assert.Equal(expected, PciAddress.Normalize(input));
    }

    [Theory]
    [InlineData("05:*", "0000:05:*")]
    [InlineData("*:1f.*", "*:1f.*")]
    [InlineData("0000:00:1F.*", "0000:00:1f.*")]
    public void Patterns_without_a_domain_get_domain_0000(string pattern, string expected)
    {
        Assert.Equal(expected, PciAddress.NormalizePattern(pattern));
    }

    [Theory]
    [InlineData("0x0200", "0x020000", true)]
    [InlineData("02", "0x020000", true)]
    [InlineData("0C0330", "0x0c0330", true)]
    [InlineData("0x0c03", "0x0c0320", true)]
    [InlineData("0x0200", "0x028000", false)]
    public void Class_filters_match_by_prefix_of_the_six_digits(string filter, string classCode, bool matches)
    {
        Assert.True(PciClassCode.TryParsePrefix(filter, out var prefix));
        Assert.Equal(matches, PciClassCode.MatchesPrefix(classCode, prefix));
    }

    [Theory]
    [InlineData("Ethernet*")]
    [InlineData("0x020")]
    public void Class_filters_that_are_not_two_four_or_six_hex_digits_are_not_prefixes(string filter)
    {
        Assert.False(PciClassCode.TryParsePrefix(filter, out _));
    }
}
