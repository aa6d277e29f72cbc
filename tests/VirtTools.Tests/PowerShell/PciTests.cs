using System.Management.Automation;
using VirtTools.Pci;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.PowerShell;

[Collection(PowerShellCollection.Name)]
public sealed class PciTests : IDisposable
{
    private readonly PowerShellHarness _ps = new();

    private static Dictionary<string, object?> Fixture => new() { ["r"] = CapturedFixture.Shared };

    [Fact]
    public void Get_PciDevice_filters_by_class_prefix_vendor_and_driver()
    {
        Assert.Equal("0000:00:02.0", _ps.Ok<PciDevice>("param($r) Get-PciDevice -Root $r -Class 0x0200", Fixture).Single().Address.ToString());
        Assert.Equal(5, _ps.Ok<PciDevice>("param($r) Get-PciDevice -Root $r -VendorId 0x8086", Fixture).Count);
        Assert.Equal("0000:00:01.0", _ps.Ok<PciDevice>("param($r) Get-PciDevice -Root $r -Driver xhci*", Fixture).Single().Address.ToString());
    }

    /// <summary>An e1000 and an ISA bridge, with the root's own pci.ids (so no machine's database is consulted).</summary>
    private static TemporaryTree NamedTree() => new TemporaryTree("pci-names")
        .File("/usr/share/misc/pci.ids", "8086  Intel Corporation\n\t100e  82540EM Gigabit Ethernet Controller\n\t2918  82801IB (ICH9) LPC Interface Controller\n"
            + "C 02  Network controller\n\t00  Ethernet controller\nC 06  Bridge\n\t01  ISA bridge\n")
        .File("/sys/devices/pci0000:00/0000:00:02.0/vendor", "0x8086").File("/sys/devices/pci0000:00/0000:00:02.0/device", "0x100e")
        .File("/sys/devices/pci0000:00/0000:00:02.0/class", "0x020000")
        .File("/sys/devices/pci0000:00/0000:00:1f.0/vendor", "0x8086").File("/sys/devices/pci0000:00/0000:00:1f.0/device", "0x2918")
        .File("/sys/devices/pci0000:00/0000:00:1f.0/class", "0x060100")
        .Link("/sys/bus/pci/devices/0000:00:02.0", "../../../devices/pci0000:00/0000:00:02.0")
        .Link("/sys/bus/pci/devices/0000:00:1f.0", "../../../devices/pci0000:00/0000:00:1f.0")
        .Directory("/sys/bus/pci/drivers/e1000");

    [Fact]
    public void A_class_name_matches_the_class_and_its_subclasses()
    {
        using var tree = NamedTree();
        var root = new Dictionary<string, object?> { ["r"] = tree.Path };
        Assert.Equal("0000:00:02.0", _ps.Ok<PciDevice>("param($r) Get-PciDevice -Root $r -Class 'Network controller'", root).Single().Address.ToString());
        Assert.Equal("0000:00:02.0", _ps.Ok<PciDevice>("param($r) Get-PciDevice -Root $r -Class 'ethernet controller'", root).Single().Address.ToString());
        Assert.Equal("0000:00:1f.0", _ps.Ok<PciDevice>("param($r) Get-PciDevice -Root $r -Class '*bridge*'", root).Single().Address.ToString());
        Assert.Empty(_ps.Ok<PciDevice>("param($r) Get-PciDevice -Root $r -Class '*Display*'", root));
    }

    [Fact]
    public void A_class_that_is_no_code_and_no_name_is_PciClassInvalid()
    {
        using var tree = NamedTree();
        var result = _ps.Run("param($r) Get-PciDevice -Root $r -Class nonsense", new Dictionary<string, object?> { ["r"] = tree.Path });
        Assert.Empty(result.Output);
        var error = result.Terminating?.ErrorRecord ?? Assert.Single(result.Errors);
        Assert.StartsWith("PciClassInvalid,", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.Equal("nonsense", error.TargetObject);
        Assert.Contains(tree.Resolve("/usr/share/misc/pci.ids"), error.Exception.Message);
    }

    [Fact]
    public void A_driver_no_one_registered_is_a_warning_and_a_registered_one_is_not()
    {
        using var tree = NamedTree();
        var root = new Dictionary<string, object?> { ["r"] = tree.Path };
        var warned = _ps.Run("param($r) Get-PciDevice -Root $r -Driver e1001 3>&1", root);
        var warning = Assert.IsType<WarningRecord>(Assert.Single(warned.Output).BaseObject);
        Assert.Contains("'e1001'", warning.Message);
        Assert.Empty(_ps.Run("param($r) Get-PciDevice -Root $r -Driver e1000, 'xhci*' 3>&1", root).Output);
    }

    [Fact]
    public void Names_say_where_they_came_from_and_their_absence_is_a_warning_once()
    {
        using var tree = NamedTree();
        var named = _ps.Ok<PciDevice>("param($r) Get-PciDevice -Root $r", new Dictionary<string, object?> { ["r"] = tree.Path });
        Assert.All(named, d => Assert.Equal(tree.Resolve("/usr/share/misc/pci.ids"), d.NameSource));
        // Without the file anywhere (the root's missing and the host's consulted), a listing says what to install, once.
        System.IO.File.Delete(tree.Resolve("/usr/share/misc/pci.ids"));
        var result = _ps.Run("param($r) Get-PciDevice -Root $r 3>&1", new Dictionary<string, object?> { ["r"] = tree.Path });
        var devices = result.Output.Where(o => o.BaseObject is PciDevice).Select(o => (PciDevice)o.BaseObject).ToList();
        var warnings = result.Output.Select(o => o.BaseObject).OfType<WarningRecord>().ToList();
        Assert.Equal(2, devices.Count);
        // The host's own pci.ids fills in when this machine has one; the warning comes exactly when nothing named them.
        Assert.Equal(devices.Any(d => d.NameSource is null) ? 1 : 0, warnings.Count);
        Assert.All(warnings, w => Assert.Contains("apt install pci.ids", w.Message));
    }

    [Fact]
    public void Get_PciDevice_takes_short_addresses_and_wildcards()
    {
        var found = _ps.Ok<PciDevice>("param($r) Get-PciDevice -Root $r 00:1f.*, 00:02.0", Fixture).Select(d => d.Address.ToString());
        Assert.Equal(new[] { "0000:00:02.0", "0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3" }, found);
    }

    [Fact]
    public void A_literal_address_that_matches_nothing_is_PciDeviceNotFound_with_the_input_as_target()
    {
        var result = _ps.Run("param($r) Get-PciDevice -Root $r -Address 00:09.0, 00:02.0", Fixture);
        Assert.Single(result.Output);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("PciDeviceNotFound,", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
        Assert.Equal("00:09.0", error.TargetObject);
        Assert.NotNull(error.ErrorDetails?.RecommendedAction);
    }

    [Fact]
    public void A_bad_vendor_id_stops_the_command_with_PciIdInvalid()
    {
        var result = _ps.Run("param($r) Get-PciDevice -Root $r -VendorId intel", Fixture);
        var error = result.Terminating?.ErrorRecord ?? Assert.Single(result.Errors);
        Assert.StartsWith("PciIdInvalid,", error.FullyQualifiedErrorId);
        Assert.Empty(result.Output);
    }

    [Fact]
    public void Devices_pipe_into_Get_PciIrqShare_which_reports_each_of_their_lines_once()
    {
        var lines = _ps.Ok<PciIrqShare>("param($r) Get-PciDevice -Root $r | Get-PciIrqShare", Fixture);
        Assert.Equal(new[] { 10, 21, 22, 23 }, lines.Select(l => l.Irq).Order());
        var line = _ps.Ok<PciIrqShare>("param($r) Get-PciDevice -Root $r 00:1f.3 | Get-PciIrqShare", Fixture);
        Assert.Equal(new[] { "0000:00:1f.2", "0000:00:1f.3" }, Assert.Single(line).Address.Select(a => a.ToString()));
        Assert.Empty(_ps.Ok<PciIrqShare>("param($r) Get-PciDevice -Root $r 00:1f.3 | Get-PciIrqShare -SharedOnly", Fixture));
    }

    [Fact]
    public void Ethernet_devices_pipe_into_Get_IommuGroup()
    {
        var group = _ps.Ok<IommuGroup>("param($r) Get-PciDevice -Root $r -Class 0x0200 | Get-IommuGroup", Fixture).Single();
        Assert.Equal(2, group.Group);
        Assert.True(group.IsViable);
    }

    [Fact]
    public void Piped_functions_of_one_group_give_the_group_once()
    {
        var groups = _ps.Ok<IommuGroup>("param($r) Get-PciDevice -Root $r 00:1f.* | Get-IommuGroup", Fixture);
        Assert.Equal(4, Assert.Single(groups).Group);
    }

    [Fact]
    public void A_deserialized_object_binds_Address_and_Root_by_property_name()
    {
        var group = _ps.Ok<IommuGroup>("param($r) [pscustomobject]@{ Address = '0000:00:02.0'; Root = $r } | Get-IommuGroup", Fixture).Single();
        Assert.Equal(2, group.Group);
        var device = _ps.Ok<PciDevice>("param($r) [pscustomobject]@{ Address = '0000:00:02.0'; Root = $r } | Get-PciDevice", Fixture).Single();
        Assert.Equal("vfio-pci", device.Driver);
    }

    [Fact]
    public void An_unknown_group_number_is_IommuGroupNotFound()
    {
        var result = _ps.Run("param($r) Get-IommuGroup -Root $r -Group 2, 99", Fixture);
        Assert.Single(result.Output);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("IommuGroupNotFound,", error.FullyQualifiedErrorId);
        Assert.Equal(99, error.TargetObject);
    }

    [Fact]
    public void With_the_iommu_off_Get_IommuGroup_warns_once_and_writes_nothing()
    {
        using var tree = new TemporaryTree("no-iommu");
        tree.Directory("/sys/bus/pci/devices");
        var warnings = _ps.Ok<int>("param($r) $null = Get-IommuGroup -Root $r -WarningVariable w -WarningAction SilentlyContinue; $null = Get-IommuGroup -Root $r -Group 1 -WarningVariable +w -WarningAction SilentlyContinue; $w.Count",
            new Dictionary<string, object?> { ["r"] = tree.Path }).Single();
        Assert.Equal(2, warnings);
        Assert.Empty(_ps.Ok("param($r) Get-IommuGroup -Root $r -WarningAction SilentlyContinue", new Dictionary<string, object?> { ["r"] = tree.Path }));
    }

    public static TheoryData<string> PciRoots => new() { "this machine", "the captured tree", "a PCI bus with no functions" };

    [Theory]
    [MemberData(nameof(PciRoots))]
    public void Piped_network_functions_give_their_IOMMU_groups_or_one_warning_when_the_IOMMU_is_off(string rootName)
    {
        using var empty = new TemporaryTree("no-functions").Directory("/sys/bus/pci/devices").Directory("/sys/kernel/iommu_groups");
        var root = new VirtTools.Sysfs.SystemRoot(rootName switch { "this machine" => "/", "the captured tree" => CapturedFixture.Shared, _ => empty.Path });

        // What the kernel files say, read here: the Ethernet functions (class 0x0200xx) and the groups they are in.
        var devices = root.Resolve("/sys/bus/pci/devices");
        var ethernet = (Directory.Exists(devices) ? Directory.GetFileSystemEntries(devices) : Array.Empty<string>())
            .Where(d => File.ReadAllText(Path.Combine(d, "class")).Trim().StartsWith("0x0200", StringComparison.Ordinal)).ToList();
        var iommuOn = Directory.Exists(root.Resolve("/sys/kernel/iommu_groups")) && Directory.EnumerateFileSystemEntries(root.Resolve("/sys/kernel/iommu_groups")).Any();
        var expectedGroups = ethernet.Select(d => new FileInfo(Path.Combine(d, "iommu_group")).LinkTarget).OfType<string>()
            .Select(target => int.Parse(Path.GetFileName(target), System.Globalization.CultureInfo.InvariantCulture)).Distinct().Order();

        var result = _ps.Run("param($r) Get-PciDevice -Root $r -Class 0x0200 | Get-IommuGroup -WarningVariable w -WarningAction SilentlyContinue; $w.Count",
            new Dictionary<string, object?> { ["r"] = root.Path });
        Assert.True(result.Succeeded, PowerShellHarness.Describe(result));
        Assert.Equal(iommuOn ? expectedGroups : Enumerable.Empty<int>(), result.Output.Select(o => o.BaseObject).OfType<IommuGroup>().Select(g => g.Group).Order());
        Assert.Equal(!iommuOn && ethernet.Count > 0 ? 1 : 0, (int)result.Output.Last().BaseObject);
    }

    [Fact]
    public void Table_views_render_through_Out_Default()
    {
        var result = _ps.Run("param($r) Get-PciDevice -Root $r; Get-PciIrqShare -Root $r | Out-Default; Get-IommuGroup -Root $r | Out-Default", Fixture, render: true);
        Assert.True(result.Succeeded, PowerShellHarness.Describe(result));
        Assert.Matches(@"Address\s+Id\s+Class\s+Driver\s+Irq\s+Pin\s+Msi\s+Group", _ps.HostText);
        Assert.Contains("0000:00:01.0 1b36:000d 0x0c0330 xhci_hcd", _ps.HostText);
        Assert.Matches(@"Irq\s+Shared\s+Blocks\s+Handlers\s+Address", _ps.HostText);
        Assert.Matches(@"Group\s+Viable\s+Address\s+Problems", _ps.HostText);
    }

    public void Dispose() => _ps.Dispose();
}
