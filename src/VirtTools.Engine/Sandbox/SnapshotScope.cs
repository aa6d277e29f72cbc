using System.Text.RegularExpressions;

namespace VirtTools.Sandbox;

/// <summary>
/// What a snapshot holds: the parts of a system the readers and writers of VirtTools look at (Usb, UsbIp host and vhci,
/// Pci and passthrough interlocks, Ksm, the hypervisor probes, the state and profile files), and nothing else.
/// </summary>
internal static class SnapshotScope
{
    /// <summary>Subtrees taken whole, symlinks kept as links. /sys/devices/pci* (one per PCI domain) is added at capture.</summary>
    public static readonly string[] Trees =
    {
        "/sys/bus/pci", "/sys/bus/usb", "/sys/bus/platform/drivers/vhci_hcd", "/sys/devices/platform",
        "/sys/devices/virtual/net", "/sys/devices/virtual/block", "/sys/class/net", "/sys/class/block",
        "/sys/class/iommu", "/sys/class/dmi/id", "/sys/kernel/iommu_groups", "/sys/kernel/irq", "/sys/kernel/mm/ksm", "/sys/hypervisor",
        "/sys/module/kvm_intel/parameters", "/sys/module/kvm_amd/parameters", "/sys/module/vhci_hcd/parameters",
        "/sys/module/usbip_host/parameters",
        "/run/vhci_hcd", "/run/virttools", "/var/lib/virttools", "/etc/virttools",
    };

    /// <summary>Single files (procfs, whose files all report a size of 0, cannot be walked blindly).</summary>
    public static readonly string[] Files =
    {
        "/proc/cmdline", "/proc/cpuinfo", "/proc/mounts", "/proc/swaps", "/proc/interrupts", "/proc/net/route",
        "/proc/self/mountinfo", "/proc/sys/kernel/hostname", "/proc/sys/kernel/osrelease", "/proc/version", "/proc/xen/capabilities",
    };

    /// <summary>The files VirtTools writes into a shared folder, by the prefix of their names.</summary>
    public static readonly (string Folder, string Prefix)[] OwnFiles = { ("/etc/modprobe.d", "virttools-") };

    /// <summary>Folders whose entries matter only by name: loaded modules, the ACPI tables that describe an IOMMU.</summary>
    public static readonly string[] NamesOnly = { "/sys/module", "/sys/firmware/acpi/tables" };

    /// <summary>Device nodes the probes test for; they become empty files with the node's mode, never opened.</summary>
    public static readonly string[] Devices = { "/dev/kvm", "/dev/net/tun", "/dev/vhost-net", "/dev/vfio" };

    /// <summary>
    /// What KSM and the vfio-holder check read of each process; fd links only when they point at /dev/vfio, and the
    /// command line only of QEMU, the one VirtTools takes a VM name from (others may carry secrets in theirs).
    /// </summary>
    public static readonly string[] ProcessFiles = { "comm", "ksm_stat", "ksm_merging_pages" };

    public const string VfioNodes = "/dev/vfio/";

    /// <summary>
    /// Attributes never read: binary windows onto device memory (resourceN, rom), slow or side-effecting reads (vpd),
    /// write-only triggers. PCI "config" is read (the engine parses it), up to its 4 KiB.
    /// </summary>
    private static readonly Regex Skipped = new(@"^(resource\d*(_wc)?|rom|vpd|remove|rescan|reset)$", RegexOptions.CultureInvariant);

    /// <summary>DMI identifiers of the machine itself: the probes never read them, and a snapshot gets shared.</summary>
    private static readonly HashSet<string> Private = new(StringComparer.Ordinal)
        { "product_serial", "product_uuid", "board_serial", "chassis_serial", "board_asset_tag", "chassis_asset_tag" };

    /// <summary>Attributes kept as empty placeholders (present, as the kernel lists them, but not read).</summary>
    public static bool IsPlaceholder(string name) => Skipped.IsMatch(name) || Private.Contains(name);

    /// <summary>Nothing VirtTools reads is bigger: a larger file is not one we understand, and stays a placeholder.</summary>
    public const int MaxFileBytes = 1 << 20;

    /// <summary>A host's parts that VirtTools reads are tens of thousands of entries; a walk past this is lost.</summary>
    public const int MaxEntries = 500_000;
}
