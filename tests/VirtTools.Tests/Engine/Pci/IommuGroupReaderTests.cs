using VirtTools.Pci;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Pci;

public sealed class IommuGroupReaderTests
{
    private static IommuGroupReader Fixture => new(new SystemRoot(CapturedFixture.Shared));

    [Fact]
    public void The_captured_tree_has_groups_0_to_4()
    {
        Assert.Equal(new[] { 0, 1, 2, 3, 4 }, Fixture.GroupNumbers());
        Assert.True(Fixture.IsIommuEnabled);
    }

    [Fact]
    public void Group_2_holds_only_the_vfio_bound_e1000_and_is_viable()
    {
        var group = Fixture.Find(2)!;
        Assert.Equal(new[] { "0000:00:02.0" }, group.Address.Select(a => a.ToString()));
        Assert.True(group.IsViable);
        Assert.Empty(group.Problems);
        Assert.Equal("/sys/kernel/iommu_groups/2", group.SysfsPath);
    }

    [Fact]
    public void Group_4_with_isa_bridge_sata_and_smbus_all_unbound_is_viable()
    {
        var group = Fixture.Find(4)!;
        Assert.Equal(new[] { "0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3" }, group.Address.Select(a => a.ToString()));
        Assert.All(group.Devices, d => Assert.Null(d.Driver));
        Assert.True(group.IsViable);
    }

    [Fact]
    public void Group_4_is_not_viable_once_ahci_holds_the_sata_controller_and_the_problem_names_it()
    {
        using var copy = CapturedFixture.CreateCopy();
        copy.Directory("/sys/bus/pci/drivers/ahci").Link("/sys/devices/pci0000:00/0000:00:1f.2/driver", "../../../bus/pci/drivers/ahci");
        var group = new IommuGroupReader(new SystemRoot(copy.Path)).Find(4)!;
        Assert.False(group.IsViable);
        var problem = Assert.Single(group.Problems);
        Assert.Contains("0000:00:1f.2", problem);
        Assert.Contains("ahci", problem);
    }

    [Fact]
    public void A_host_driver_on_the_only_member_makes_the_group_not_viable()
    {
        var group = Fixture.Find(1)!;
        Assert.False(group.IsViable);
        Assert.Contains("xhci_hcd", Assert.Single(group.Problems));
    }

    [Fact]
    public void Bridges_pci_stub_and_unbound_members_are_allowed()
    {
        using var tree = new TemporaryTree("iommu");
        tree.Function("0000:00:1c.0", cls: "0x060400", config: SyntheticPci.Config(headerType: 1), driver: "pcieport");
        tree.Function("0000:01:00.0", config: SyntheticPci.Config(), driver: "pci-stub");
        tree.Function("0000:01:00.1", config: SyntheticPci.Config());
        foreach (var member in new[] { "0000:00:1c.0", "0000:01:00.0", "0000:01:00.1" })
            tree.Link($"/sys/kernel/iommu_groups/7/devices/{member}", $"../../../../devices/pci0000:00/{member}");
        var group = new IommuGroupReader(new SystemRoot(tree.Path)).Find(7)!;
        Assert.True(group.IsViable, string.Join(" ", group.Problems));
    }

    [Fact]
    public void The_group_of_a_device_is_found_through_its_iommu_group_link()
    {
        var reader = Fixture;
        var nic = new PciDeviceReader(reader.Root).Get(PciAddress.Parse("00:1f.3"));
        Assert.Equal(4, reader.ForDevice(nic)!.Group);
    }

    [Fact]
    public void With_the_iommu_off_there_are_no_groups()
    {
        using var tree = new TemporaryTree("no-iommu");
        tree.Function("0000:00:03.0", config: SyntheticPci.Config());
        var reader = new IommuGroupReader(new SystemRoot(tree.Path));
        Assert.False(reader.IsIommuEnabled);
        Assert.Empty(reader.GetGroups());
        Assert.Null(reader.Find(0));
    }
}
