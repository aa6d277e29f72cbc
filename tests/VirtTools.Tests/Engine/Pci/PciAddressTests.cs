using VirtTools.Pci;
using Xunit;

namespace VirtTools.Tests.Engine.Pci;

public sealed class PciAddressTests
{
    [Theory]
    [InlineData("0000:05:06.0", "0000:05:06.0")]
    [InlineData("05:06.0", "0000:05:06.0")]
    [InlineData("0000:AF:1F.7", "0000:af:1f.7")]
    [InlineData(" 00:1f.3 ", "0000:00:1f.3")]
    [InlineData("5:0.0", null)]
    [InlineData("0:05:06.0", null)]
    [InlineData("10000:00:00.0", null)]
    [InlineData("00:20.0", null)]
    [InlineData("00:01.8", null)]
    [InlineData("eth0", null)]
    [InlineData("", null)]
    public void TryParse_gives_the_address_whose_text_is_the_canonical_sysfs_name(string input, string? expected)
    {
        Assert.Equal(expected is not null, PciAddress.TryParse(input, out var address));
        if (expected is not null) Assert.Equal(expected, address.ToString());
    }

    [Fact]
    public void The_parts_are_numbers_and_the_short_form_leaves_domain_0000_out()
    {
        var address = PciAddress.Parse("0001:af:1f.7");
        Assert.Equal((1, 0xaf, 0x1f, 7), (address.Domain, address.Bus, address.Device, address.Function));
        Assert.Equal("05:06.0", PciAddress.Parse("0000:05:06.0").ToShortString());
        Assert.Equal("0001:af:1f.7", address.ToShortString());
    }

    [Fact]
    public void Parse_of_text_that_is_no_address_is_a_FormatException_naming_it()
    {
        var error = Assert.Throws<FormatException>(() => PciAddress.Parse("eth0"));
        Assert.Contains("'eth0'", error.Message);
    }

    [Fact]
    public void The_short_and_the_full_form_are_the_same_address()
    {
        Assert.Equal(PciAddress.Parse("0000:05:06.0"), PciAddress.Parse("05:06.0"));
        Assert.True(PciAddress.Parse("05:06.0") == new PciAddress(0, 5, 6, 0));
        Assert.Equal(PciAddress.Parse("05:06.0").GetHashCode(), new PciAddress(0, 5, 6, 0).GetHashCode());
    }

    [Fact]
    public void Addresses_sort_by_their_numbers()
    {
        var sorted = new[] { "0001:00:00.0", "0000:10:00.0", "0000:02:1f.1", "0000:02:1f.0", "0000:02:03.0" }
            .Select(PciAddress.Parse).Order().Select(a => a.ToString());
        Assert.Equal(new[] { "0000:02:03.0", "0000:02:1f.0", "0000:02:1f.1", "0000:10:00.0", "0001:00:00.0" }, sorted);
        Assert.True(PciAddress.Parse("00:02.0") < PciAddress.Parse("00:10.0"));
    }

    [Theory]
    [InlineData("0000:05:06.0", true)]
    [InlineData("05:06.0", false)]
    [InlineData("0000:05:0A.0", false)]
    [InlineData("pci0000:00", false)]
    public void Only_the_kernels_own_spelling_is_a_kernel_name(string name, bool isKernelName)
    {
        Assert.Equal(isKernelName, PciAddress.TryParseKernelName(name, out _));
    }

    [Fact]
    public void Parts_out_of_range_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PciAddress(0, 0, 0x20, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PciAddress(0, 0, 0, 8));
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
