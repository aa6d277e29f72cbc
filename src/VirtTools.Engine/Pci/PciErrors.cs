using VirtTools.Diagnostics;

namespace VirtTools.Pci;

/// <summary>The failures PCI readers report, with their stable ErrorIds.</summary>
public static class PciErrors
{
    public const string DeviceNotFoundId = "PciDeviceNotFound";
    public const string AddressInvalidId = "PciAddressInvalid";
    public const string IdInvalidId = "PciIdInvalid";
    public const string ClassInvalidId = "PciClassInvalid";
    public const string BridgeNotPassableId = "PciBridgeNotPassable";
    public const string IommuGroupNotFoundId = "IommuGroupNotFound";
    public const string DriverNameInvalidId = "PciDriverNameInvalid";
    public const string PassthroughRecordInvalidId = "PassthroughRecordInvalid";
    public const string PassthroughStateCorruptId = "PassthroughStateCorrupt";
    public const string DriverNotLoadedId = "DriverNotLoaded";
    public const string DeviceInUseId = "PciDeviceInUse";
    public const string BindFailedId = "BindFailed";
    public const string RecordNotWrittenId = "PassthroughRecordNotWritten";
    public const string IommuGroupNotViableId = "IommuGroupNotViable";
    public const string IommuNotEnabledId = "IommuNotEnabled";
    public const string InterlockMountedFilesystemId = "PassthroughInterlockMountedFilesystem";
    public const string InterlockDefaultRouteId = "PassthroughInterlockDefaultRoute";
    public const string InterlockBootVgaId = "PassthroughInterlockBootVga";

    public static VirtToolsException DeviceNotFound(string input) => new(DeviceNotFoundId, FailureKind.NotFound,
        $"No PCI function '{input}' exists under /sys/bus/pci/devices.",
        "Run Get-PciDevice to list the functions this host has (lspci -D prints the same addresses).", input);

    public static VirtToolsException AddressInvalid(string input) => new(AddressInvalidId, FailureKind.InvalidArgument,
        $"'{input}' is not a PCI address.",
        "Give an address as DDDD:BB:DD.F (0000:05:06.0) or BB:DD.F (05:06.0), or a wildcard pattern.", input);

    public static VirtToolsException ClassInvalid(string input, string? namesSource) => new(ClassInvalidId, FailureKind.InvalidArgument,
        namesSource is null
            ? $"-Class '{input}' is not a class code (2, 4 or 6 hex digits such as 0x0200), and class names cannot be matched: there is no pci.ids under the root or on this system."
            : $"-Class '{input}' is neither a class code (2, 4 or 6 hex digits such as 0x0200) nor a class, subclass or interface name in {namesSource}.",
        namesSource is null
            ? "Give the class as hex (0x02 network, 0x0c03 USB), or install pci.ids (Debian: apt install pci.ids) to match by name."
            : "Give the class as hex, a name such as 'Ethernet controller', or a wildcard such as '*Ethernet*'.",
        input);

    public static VirtToolsException BridgeNotPassable(string address, string kind) => new(BridgeNotPassableId, FailureKind.InvalidArgument,
        $"{address} is {kind}: the host needs it to reach everything behind it, and no VM can use it (vfio-pci itself refuses PCI-PCI bridges).",
        "Pass through the endpoint functions behind it instead (Get-IommuGroup shows them); a bridge in their group stays on its driver.",
        address);

    /// <summary>The warning for a -Driver name that no PCI driver registered: the filter can only match nothing.</summary>
    public static string NoSuchDriver(string driver) =>
        $"No PCI driver named '{driver}' is registered (/sys/bus/pci/drivers): nothing can match it. Load its module (modprobe), or check the name with Get-PciDevice | Select-Object Driver.";

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

    /// <summary>
    /// The record (or the modprobe.d file made from the records) could not be written after the functions moved: the
    /// moves were undone, since a function on a stub driver that no record remembers cannot be given back from another shell.
    /// </summary>
    public static VirtToolsException RecordNotWritten(string recordFile, Exception cause, string rollback) => new(RecordNotWrittenId,
        cause is UnauthorizedAccessException || (cause as VirtToolsException)?.Kind == FailureKind.PermissionDenied ? FailureKind.PermissionDenied : FailureKind.OperationFailed,
        $"Recording the change in {recordFile} failed: {cause.Message} {rollback}",
        $"Make {recordFile} (and /etc/modprobe.d for -Persist) writable again: check that each folder is a folder, not a file or a link, and that the disk is not full or read-only; then try again.",
        recordFile, cause);

    /// <summary>Said once when /sys/kernel/iommu_groups is empty: every group question has the same answer.</summary>
    public static readonly string IommuOffWarning =
        "No IOMMU groups exist under /sys/kernel/iommu_groups: the IOMMU is off or absent, so no function can be passed through with vfio. " +
        "Enable VT-d or AMD-Vi in the firmware and boot with intel_iommu=on (Intel) or amd_iommu=on (AMD).";
}
