using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>
/// The kernel's rule for handing an IOMMU group to vfio (VFIO_GROUP_FLAGS_VIABLE; DMA ownership since 5.19), in one
/// place for Get-IommuGroup and Set-PciPassthrough: every member is unbound, on vfio-pci or a vfio variant driver,
/// on pci-stub, or is a bridge (the kernel lets bridges keep pcieport).
/// </summary>
public static class VfioGroupViability
{
    /// <summary>Whether a PCI member in this state lets its group be viable.</summary>
    public static bool AllowsGroup(string? driver, bool vfioBound, bool isBridge) =>
        driver is null || vfioBound || driver == PciStubDriver.PciStub || isBridge;

    /// <summary>vfio-dev/ exists on 6.1+, or the driver's name says vfio (a variant driver such as mlx5_vfio_pci).</summary>
    public static bool IsVfioBound(SysfsDirectory device, string? driver) =>
        device.Has("vfio-dev") || (driver?.Contains("vfio", StringComparison.Ordinal) ?? false);

    /// <summary>
    /// A member that is no PCI function (a platform device on some SoCs) cannot be moved by us; any host driver on it
    /// keeps the group from being viable.
    /// </summary>
    public static bool AllowsGroup(string? foreignDriver) =>
        foreignDriver is null || foreignDriver.Contains("vfio", StringComparison.Ordinal);
}
