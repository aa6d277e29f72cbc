using VirtTools.Ksm;
using VirtTools.Sysfs;
using VirtTools.UsbIp.Vhci;

namespace VirtTools.Hypervisor;

/// <summary>Reads the evidence for <see cref="VirtHost"/>: cpuinfo, /dev, /sys/module, IOMMU, Xen, DMI, vhci_hcd, KSM.</summary>
public static class VirtHostProbe
{
    private const int XenFeatureDom0Bit = 11; // XENFEAT_dom0 in /sys/hypervisor/properties/features

    public static VirtHost Read(SystemRoot root)
    {
        var cpu = CpuInfo.Parse(root.ReadText("/proc/cpuinfo"));
        var xen = ReadXenRole(root);
        var detection = HypervisorDetector.Detect(root, cpu, xen);
        var iommuGroups = IommuGroupCount(root);
        var vhci = new VhciReader(root).GetCapacity();
        KsmStats? ksm = KsmReader.IsAvailable(root) ? KsmReader.ReadStats(root) : null;
        return new VirtHost
        {
            ComputerName = SysfsText.ReadValue(root.Resolve("/proc/sys/kernel/hostname")),
            KernelVersion = KernelRelease(root),
            CpuVendor = cpu?.Vendor,
            CpuExtension = cpu?.VirtualizationExtension,
            HypervisorFlag = cpu?.Has("hypervisor"),
            KvmDeviceExists = HasDev(root) ? root.Exists("/dev/kvm") : null,
            KvmDeviceAccessible = HasDev(root) ? DeviceAccessible(root, "/dev/kvm") : null,
            KvmModules = LoadedModules(root, name => name == "kvm" || name.StartsWith("kvm_", StringComparison.Ordinal)),
            NestedVirtualization = Nested(root),
            IommuGroupCount = iommuGroups,
            IommuEnabled = iommuGroups > 0 || root.Directory("/sys/class/iommu").EntryNames().Count > 0,
            IommuKind = IommuKind(root),
            IommuFirmwareTable = FirmwareIommuTable(root),
            XenRole = xen,
            RunningUnder = detection.Name,
            RunningUnderEvidence = detection.Evidence,
            UsbIpHostLoaded = UsbIpHostLoaded(root),
            VhciHcdLoaded = VhciHcdLoaded(root),
            VhciControllers = vhci.Controllers,
            VhciPorts = vhci.PortCount,
            VhciHighSpeedPorts = vhci.IsAvailable ? vhci.HighSpeed.Ports : null,
            VhciSuperSpeedPorts = vhci.IsAvailable ? vhci.SuperSpeed.Ports : null,
            KsmAvailable = ksm is not null,
            KsmRun = ksm?.Run,
            KsmSavedBytes = ksm?.SavedBytes,
            Root = root.Path,
        };
    }

    /// <summary>Whether the root has a /dev at all: a captured tree without one says nothing about devices.</summary>
    public static bool HasDev(SystemRoot root) => Directory.Exists(root.Resolve("/dev"));

    /// <summary>
    /// Read-write access for the current user. Live: open it (opening /dev/kvm or /dev/net/tun changes nothing).
    /// Captured root: judged from the mode bits. Null when the device does not exist.
    /// </summary>
    public static bool? DeviceAccessible(SystemRoot root, string device)
    {
        var path = root.Resolve(device);
        if (!File.Exists(path)) return null;
        if (root.IsLive)
        {
            try { using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite); return true; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        }
        if (Environment.IsPrivilegedProcess) return true;
        var mode = new FileInfo(path).UnixFileMode;
        return mode.HasFlag(UnixFileMode.OtherRead | UnixFileMode.OtherWrite);
    }

    /// <summary>Loaded modules whose name matches; null when the root has no /sys/module to tell.</summary>
    public static string[]? LoadedModules(SystemRoot root, Func<string, bool> match)
    {
        var modules = root.Directory("/sys/module");
        return modules.Exists ? modules.EntryNames().Where(match).ToArray() : null;
    }

    /// <summary>kvm_intel's or kvm_amd's "nested" parameter: Y/N on Intel, 1/0 on AMD.</summary>
    public static bool? Nested(SystemRoot root) =>
        root.Directory("/sys/module/kvm_intel/parameters").Bool("nested") ?? root.Directory("/sys/module/kvm_amd/parameters").Bool("nested");

    public static int IommuGroupCount(SystemRoot root) => root.Directory("/sys/kernel/iommu_groups").EntryNames().Count;

    /// <summary>The kind of IOMMU the kernel drives (dmar* = Intel VT-d, ivhd* = AMD-Vi), else what the firmware table says.</summary>
    public static string? IommuKind(SystemRoot root)
    {
        var units = root.Directory("/sys/class/iommu").EntryNames();
        if (units.Any(u => u.StartsWith("dmar", StringComparison.Ordinal))) return "Intel VT-d";
        if (units.Any(u => u.StartsWith("ivhd", StringComparison.Ordinal))) return "AMD-Vi";
        return FirmwareIommuTable(root) switch { "DMAR" => "Intel VT-d", "IVRS" => "AMD-Vi", _ => null };
    }

    /// <summary>The ACPI table that describes an IOMMU: DMAR (Intel) or IVRS (AMD).</summary>
    public static string? FirmwareIommuTable(SystemRoot root)
    {
        var tables = root.Directory("/sys/firmware/acpi/tables");
        return tables.Has("DMAR") ? "DMAR" : tables.Has("IVRS") ? "IVRS" : null;
    }

    /// <summary>
    /// dom0 when XENFEAT_dom0 is set in /sys/hypervisor/properties/features or /proc/xen/capabilities says
    /// control_d; domU for any other Xen guest; None off Xen.
    /// </summary>
    public static XenRole ReadXenRole(SystemRoot root)
    {
        var hypervisor = root.Directory("/sys/hypervisor");
        bool onXen = hypervisor.String("type") == "xen" || root.Exists("/proc/xen");
        if (!onXen) return XenRole.None;
        if (SysfsText.ParseLong(hypervisor.String("properties/features") is { } f ? "0x" + f : null) is long features)
            return (features & (1L << XenFeatureDom0Bit)) != 0 ? XenRole.Dom0 : XenRole.DomU;
        return root.ReadText("/proc/xen/capabilities")?.Contains("control_d", StringComparison.Ordinal) == true ? XenRole.Dom0 : XenRole.DomU;
    }

    /// <summary>
    /// osrelease, else the release in /proc/version ("Linux version 6.1.0-27-amd64 (debian-kernel@...) ..."): a tree
    /// captured by other tools often carries only the latter.
    /// </summary>
    public static string? KernelRelease(SystemRoot root)
    {
        if (SysfsText.ReadValue(root.Resolve("/proc/sys/kernel/osrelease")) is { Length: > 0 } release) return release;
        var words = root.ReadText("/proc/version")?.Split(' ', 4, StringSplitOptions.RemoveEmptyEntries);
        return words is { Length: >= 3 } && words[0] == "Linux" && words[1] == "version" ? words[2] : null;
    }

    public static bool UsbIpHostLoaded(SystemRoot root) =>
        root.Exists("/sys/module/usbip_host") || root.Exists("/sys/bus/usb/drivers/usbip-host");

    public static bool VhciHcdLoaded(SystemRoot root) =>
        root.Exists("/sys/module/vhci_hcd") || root.Exists("/sys/bus/platform/drivers/vhci_hcd");
}
