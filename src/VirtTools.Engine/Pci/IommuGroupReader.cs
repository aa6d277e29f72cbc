using System.Globalization;
using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>Reads /sys/kernel/iommu_groups and judges each group's viability for vfio.</summary>
public sealed class IommuGroupReader
{
    public const string GroupsPath = "/sys/kernel/iommu_groups";

    private readonly PciDeviceReader _devices;

    public IommuGroupReader(PciDeviceReader devices) => _devices = devices;

    public IommuGroupReader(SystemRoot root) : this(new PciDeviceReader(root)) { }

    public SystemRoot Root => _devices.Root;

    /// <summary>Group numbers in ascending order; empty when the IOMMU is off.</summary>
    public IReadOnlyList<int> GroupNumbers() => Root.Directory(GroupsPath).EntryNames()
        .Select(SysfsText.ParseInt).OfType<int>().Order().ToList();

    /// <summary>False when the kernel shows no groups at all: the IOMMU is off or absent.</summary>
    public bool IsIommuEnabled => GroupNumbers().Count > 0;

    public IEnumerable<IommuGroup> GetGroups() => GroupNumbers().Select(n => Find(n)).OfType<IommuGroup>();

    /// <summary>The group with that number; null when it does not exist.</summary>
    public IommuGroup? Find(int group)
    {
        var directory = Root.Directory(GroupsPath).Child(group.ToString(CultureInfo.InvariantCulture));
        if (!directory.Exists) return null;
        var members = directory.EntryNames("devices");
        var devices = members.Select(m => PciAddress.TryParseKernelName(m, out var address) ? _devices.Find(address) : null)
            .OfType<PciDevice>().ToArray();
        var mustMove = devices.Where(d => ViabilityProblem(d) is not null).ToArray();
        var foreign = members.Where(m => devices.All(d => d.Address.ToString() != m))
            .Select(m => (Member: m, Problem: ForeignMemberProblem(directory, m))).Where(f => f.Problem is not null).ToArray();
        var problems = mustMove.Select(d => ViabilityProblem(d)!).Concat(foreign.Select(f => f.Problem!)).ToArray();
        var vfioNode = Root.Resolve("/dev/vfio/" + directory.Name);
        return new IommuGroup
        {
            Group = group,
            Address = devices.Select(d => d.Address).ToArray(),
            Devices = devices,
            IsViable = problems.Length == 0,
            Problems = problems,
            MustMove = mustMove.Select(d => d.Address).ToArray(),
            ForeignBlockers = foreign.Select(f => f.Member).ToArray(),
            Type = directory.String("type"),
            VfioDevicePath = File.Exists(vfioNode) ? "/dev/vfio/" + directory.Name : null,
            SysfsPath = GroupsPath + "/" + directory.Name,
            Root = Root.Path,
        };
    }

    /// <summary>The group a function belongs to; null when it has none (IOMMU off, or a device the IOMMU does not cover).</summary>
    public IommuGroup? ForDevice(PciDevice device) => device.IommuGroup is int group ? Find(group) : null;

    /// <summary>
    /// Why a member keeps its group from being viable, or null when it is allowed: unbound, vfio-pci or a vfio
    /// variant, pci-stub, or a bridge (the kernel lets bridges keep pcieport).
    /// </summary>
    public static string? ViabilityProblem(PciDevice member)
    {
        if (VfioGroupViability.AllowsGroup(member.Driver, member.IsVfioBound, member.IsBridge)) return null;
        var what = member.DeviceName ?? member.ClassName ?? "function";
        return $"{member.Address} ({what}) is bound to {member.Driver}; unbind it or bind it to vfio-pci as well.";
    }

    // A group can hold devices that are not PCI functions (platform devices on some SoCs): any host driver blocks.
    private static string? ForeignMemberProblem(SysfsDirectory group, string member)
    {
        var driver = group.Child("devices/" + member).LinkName("driver");
        return VfioGroupViability.AllowsGroup(driver)
            ? null
            : $"{member} (not a PCI function) is bound to {driver}; unbind it.";
    }
}
