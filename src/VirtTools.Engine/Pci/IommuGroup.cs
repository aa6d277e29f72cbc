namespace VirtTools.Pci;

/// <summary>An IOMMU group: the smallest set of functions vfio can isolate, and whether it can be handed to vfio now.</summary>
public sealed class IommuGroup
{
    public required int Group { get; init; }

    /// <summary>Member addresses, so a group pipes into Set-PciPassthrough by property name.</summary>
    public required PciAddress[] Address { get; init; }

    public required PciDevice[] Devices { get; init; }

    /// <summary>
    /// Every member is unbound, bound to vfio-pci (or a vfio variant) or pci-stub, or is a bridge: the rule the
    /// kernel applies (VFIO_GROUP_FLAGS_VIABLE; DMA ownership since 5.19) before vfio may use the group.
    /// </summary>
    public required bool IsViable { get; init; }

    /// <summary>PCI members on a host driver: what must move to vfio along with a function (-IncludeIommuGroup).</summary>
    public required PciAddress[] MustMove { get; init; }

    /// <summary>Members that are no PCI function yet hold a host driver: nothing we can move, so the group stays not viable.</summary>
    public required string[] ForeignBlockers { get; init; }

    /// <summary>One sentence per member that blocks the group, naming it and its driver.</summary>
    public required string[] Problems { get; init; }

    /// <summary>The default domain type ("DMA", "DMA-FQ", "identity"); null on kernels without the attribute.</summary>
    public string? Type { get; init; }

    /// <summary>/dev/vfio/N when it exists (a member is bound to vfio); null otherwise.</summary>
    public string? VfioDevicePath { get; init; }

    public required string SysfsPath { get; init; }

    public required string Root { get; init; }

    public override string ToString() => Group.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
