using VirtTools.Pci;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Pci;

/// <summary>How much of a function's config file is read, and what each read can answer.</summary>
public sealed class PciConfigSpaceTests : IDisposable
{
    private const string ConfigPath = "/sys/devices/pci0000:00/0000:00:1c.0/config";
    private readonly TemporaryTree _tree = new("pci-config");

    [Fact]
    public void A_listing_reads_the_header_and_capability_list_but_not_the_extended_space()
    {
        _tree.Bytes(ConfigPath, SyntheticPci.Express(flr: true, acsControl: 0x001D));
        var config = PciConfigSpace.Read(_tree.Resolve(ConfigPath))!;
        Assert.Equal((PciConfigSpace.ConventionalSize, 4096L), (config.ReadableLength, config.FileLength));
        Assert.True(config.IsPciExpress);
        Assert.True(config.FunctionLevelReset);
        // The extended space was not read, so whether ACS is there is not known: null, not "absent".
        Assert.Null(config.FindExtendedCapability(0x0D));
    }

    [Fact]
    public void The_whole_read_finds_extended_capabilities()
    {
        _tree.Bytes(ConfigPath, SyntheticPci.Express(acsControl: 0x001D));
        var config = PciConfigSpace.ReadWithExtendedCapabilities(_tree.Resolve(ConfigPath))!;
        Assert.Equal(4096, config.ReadableLength);
        Assert.Equal(0x100, config.FindExtendedCapability(0x0D));
    }

    public void Dispose() => _tree.Dispose();
}
