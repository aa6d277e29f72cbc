using VirtTools.Diagnostics;

namespace VirtTools.Pci;

/// <summary>The failures PCI readers report, with their stable ErrorIds.</summary>
public static class PciErrors
{
    public const string DeviceNotFoundId = "PciDeviceNotFound";
    public const string AddressInvalidId = "PciAddressInvalid";
    public const string IdInvalidId = "PciIdInvalid";
    public const string IommuGroupNotFoundId = "IommuGroupNotFound";
    public const string DriverNameInvalidId = "PciDriverNameInvalid";
    public const string PassthroughRecordInvalidId = "PassthroughRecordInvalid";

    public static VirtToolsException DeviceNotFound(string input) => new(DeviceNotFoundId, FailureKind.NotFound,
        $"No PCI function '{input}' exists under /sys/bus/pci/devices.",
        "Run Get-PciDevice to list the functions this host has (lspci -D prints the same addresses).", input);

    public static VirtToolsException AddressInvalid(string input) => new(AddressInvalidId, FailureKind.InvalidArgument,
        $"'{input}' is not a PCI address.",
        "Give an address as DDDD:BB:DD.F (0000:05:06.0) or BB:DD.F (05:06.0), or a wildcard pattern.", input);

    public static VirtToolsException IdInvalid(string parameter, string input) => new(IdInvalidId, FailureKind.InvalidArgument,
        $"-{parameter} '{input}' is not a 16-bit hex id.", "Give ids as hex, such as 8086 or 0x10de.", input);

    public static VirtToolsException IommuGroupNotFound(object input, string message) => new(IommuGroupNotFoundId,
        FailureKind.NotFound, message, "Run Get-IommuGroup to list the groups this host has.", input);

    public static VirtToolsException DriverNameInvalid(string input) => new(DriverNameInvalidId, FailureKind.InvalidArgument,
        $"'{State.RecordField.Printable(input)}' is not a driver name: driver names are letters, digits, '_', '-' and '.', as under /sys/bus/pci/drivers.",
        "Give the stub driver by its name: vfio-pci or pci-stub.", input);

    public static VirtToolsException PassthroughRecordInvalid(string address, string problem) => new(PassthroughRecordInvalidId,
        FailureKind.InvalidArgument, $"Refusing to record {State.RecordField.Printable(address)} for passthrough: {problem}.",
        "Nothing was written. Such a name cannot go into a sysfs path or a modprobe.d line safely; check the device and its driver.", address);

    /// <summary>Said once when /sys/kernel/iommu_groups is empty: every group question has the same answer.</summary>
    public const string IommuOffWarning =
        "No IOMMU groups exist under /sys/kernel/iommu_groups: the IOMMU is off or absent, so no function can be passed through with vfio. " +
        "Enable VT-d or AMD-Vi in the firmware and boot with intel_iommu=on (Intel) or amd_iommu=on (AMD).";
}
