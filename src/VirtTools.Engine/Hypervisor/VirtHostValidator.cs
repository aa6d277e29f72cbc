using System.Globalization;
using VirtTools.Ksm;
using VirtTools.Sysfs;
using VirtTools.UsbIp.Vhci;

namespace VirtTools.Hypervisor;

/// <summary>
/// Checks in the manner of libvirt's virt-host-validate, as data: each returns Pass, or Warn/Fail/Skip with a
/// hint a person can follow. Missing evidence (a captured root without /proc or /dev) is Skip, not Fail.
/// </summary>
public static class VirtHostValidator
{
    /// <summary>
    /// Warn when fewer ports of a speed are free: half of the kernel's default build (CONFIG_USBIP_VHCI_HC_PORTS 8,
    /// one controller), so a default build warns once half its ports are used and a large one well before it is full.
    /// </summary>
    public const int DefaultMinimumFreePorts = 4;

    /// <param name="minimumFreePorts">USBIP: a speed with fewer free vhci_hcd ports than this is a warning.</param>
    public static IEnumerable<VirtHostCheck> Run(SystemRoot root, IReadOnlyCollection<string>? areas = null,
        int minimumFreePorts = DefaultMinimumFreePorts)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minimumFreePorts);
        bool Wanted(string area) => areas is null || areas.Count == 0 || areas.Contains(area, StringComparer.OrdinalIgnoreCase);
        var checks = new List<VirtHostCheck>();
        if (Wanted("KVM")) checks.AddRange(Kvm(root));
        if (Wanted("IOMMU")) checks.AddRange(Iommu(root));
        if (Wanted("USBIP")) checks.AddRange(UsbIp(root, minimumFreePorts));
        if (Wanted("KSM")) checks.Add(Ksm(root));
        return checks;
    }

    private static IEnumerable<VirtHostCheck> Kvm(SystemRoot root)
    {
        VirtHostCheck Check(string name, CheckResult result, string message, string? hint = null) => new("KVM", name, result, message, hint, root.Path);
        var cpu = CpuInfo.Parse(root.ReadText("/proc/cpuinfo"));
        bool hasDev = VirtHostProbe.HasDev(root);
        bool kvmExists = hasDev && root.Exists("/dev/kvm");

        if (cpu is null)
            yield return Check("Hardware virtualization", CheckResult.Skip, "This root has no /proc/cpuinfo.", "Run on the host itself, or capture /proc/cpuinfo into the root.");
        else if (cpu.VirtualizationExtension != "none")
            yield return Check("Hardware virtualization", CheckResult.Pass, $"The CPU has {cpu.VirtualizationExtension} ({(cpu.VirtualizationExtension == "vmx" ? "Intel VT-x" : "AMD-V")}).");
        else if (kvmExists)
            yield return Check("Hardware virtualization", CheckResult.Warn, "The CPU shows neither vmx nor svm, yet /dev/kvm exists: a KVM that needs no hardware extension (such as PVM) is loaded.",
                "For full hardware virtualization enable VT-x/AMD-V in the firmware, or nested virtualization on the outer hypervisor.");
        else
            yield return Check("Hardware virtualization", CheckResult.Fail, "Host not compatible with KVM: the CPU shows neither vmx (Intel VT-x) nor svm (AMD-V).",
                "Enable VT-x/AMD-V in the BIOS/UEFI setup; inside a VM, enable nested virtualization on the outer hypervisor.");

        if (!hasDev)
        {
            yield return Check("/dev/kvm exists", CheckResult.Skip, "This root has no /dev.", "Run on the host itself.");
        }
        else if (!kvmExists)
        {
            yield return Check("/dev/kvm exists", CheckResult.Fail, "/dev/kvm does not exist.",
                "Check that the 'kvm_intel' or 'kvm_amd' module is loaded (modprobe kvm_intel / modprobe kvm_amd) and that the BIOS has enabled virtualization.");
        }
        else
        {
            yield return Check("/dev/kvm exists", CheckResult.Pass, "/dev/kvm exists.");
            yield return VirtHostProbe.DeviceAccessible(root, "/dev/kvm") == true
                ? Check("/dev/kvm accessible", CheckResult.Pass, "The current user can open /dev/kvm read-write.")
                : Check("/dev/kvm accessible", CheckResult.Fail, "The current user cannot open /dev/kvm read-write.",
                    "Add the user to the kvm group (usermod -aG kvm USER, then log in again), or check that /dev/kvm is crw-rw---- root:kvm.");
        }

        var nested = VirtHostProbe.Nested(root);
        yield return nested switch
        {
            true => Check("Nested virtualization", CheckResult.Pass, "kvm_intel/kvm_amd allow nested guests."),
            false => Check("Nested virtualization", CheckResult.Warn, "Nested virtualization is off: guests cannot run their own KVM guests.",
                "Add 'options kvm_intel nested=1' (or kvm_amd) to /etc/modprobe.d/kvm.conf and reload the module with no guests running."),
            null => Check("Nested virtualization", CheckResult.Skip, "Neither kvm_intel nor kvm_amd is loaded, so there is no nested parameter to read.",
                "Load kvm_intel or kvm_amd to use (and check) nested virtualization."),
        };

        if (!hasDev) yield break;
        yield return root.Exists("/dev/vhost-net")
            ? Check("/dev/vhost-net exists", CheckResult.Pass, "/dev/vhost-net exists: virtio-net can use in-kernel vhost.")
            : Check("/dev/vhost-net exists", CheckResult.Warn, "/dev/vhost-net does not exist: virtio-net falls back to slower userspace networking.",
                "Load the vhost_net module (modprobe vhost_net).");
        yield return root.Exists("/dev/net/tun")
            ? Check("/dev/net/tun exists", CheckResult.Pass, "/dev/net/tun exists.")
            : Check("/dev/net/tun exists", CheckResult.Fail, "/dev/net/tun does not exist: guests cannot get tap network interfaces.",
                "Load the tun module (modprobe tun).");
    }

    private static IEnumerable<VirtHostCheck> Iommu(SystemRoot root)
    {
        VirtHostCheck Check(string name, CheckResult result, string message, string? hint = null) => new("IOMMU", name, result, message, hint, root.Path);
        var groups = VirtHostProbe.IommuGroupCount(root);
        var units = root.Directory("/sys/class/iommu").EntryNames().Count;
        var kind = VirtHostProbe.IommuKind(root);
        var hint = kind switch
        {
            "AMD-Vi" => "Enable AMD-Vi/IOMMU in the firmware and add 'amd_iommu=on iommu=pt' to the kernel command line.",
            "Intel VT-d" => "Enable VT-d in the firmware and add 'intel_iommu=on iommu=pt' to the kernel command line.",
            _ => "Enable VT-d (Intel) or AMD-Vi (AMD) in the firmware, then add 'intel_iommu=on' or 'amd_iommu=on' to the kernel command line.",
        };
        yield return groups > 0 || units > 0
            ? Check("IOMMU enabled", CheckResult.Pass, $"The kernel drives an IOMMU{(kind is null ? "" : $" ({kind})")}.")
            : Check("IOMMU enabled", CheckResult.Warn,
                VirtHostProbe.FirmwareIommuTable(root) is { } table
                    ? $"The firmware describes an IOMMU (ACPI {table}) but the kernel has not enabled it: PCI passthrough will not work."
                    : "No IOMMU found (no ACPI DMAR/IVRS table, no /sys/class/iommu entries): PCI passthrough will not work.", hint);
        yield return groups > 0
            ? Check("IOMMU groups", CheckResult.Pass, $"{groups} IOMMU groups under /sys/kernel/iommu_groups.")
            : Check("IOMMU groups", CheckResult.Warn, "/sys/kernel/iommu_groups is empty: no device can be handed to vfio-pci.", hint);
    }

    private static IEnumerable<VirtHostCheck> UsbIp(SystemRoot root, int minimumFreePorts)
    {
        VirtHostCheck Check(string name, CheckResult result, string message, string? hint = null) => new("USBIP", name, result, message, hint, root.Path);
        yield return VirtHostProbe.UsbIpHostLoaded(root)
            ? Check("usbip-host loaded", CheckResult.Pass, "The usbip-host driver is loaded: local devices can be exported.")
            : Check("usbip-host loaded", CheckResult.Warn, "The usbip-host driver is not loaded: Export-UsbIpDevice cannot share devices.", "modprobe usbip-host");
        yield return VirtHostProbe.VhciHcdLoaded(root)
            ? Check("vhci-hcd loaded", CheckResult.Pass, "The vhci-hcd driver is loaded: remote devices can be attached.")
            : Check("vhci-hcd loaded", CheckResult.Warn, "The vhci-hcd driver is not loaded: Connect-UsbIpDevice cannot attach devices.", "modprobe vhci-hcd");
        var vhci = new VhciReader(root).GetCapacity();
        if (!vhci.IsAvailable) yield break;
        foreach (var hub in new[] { vhci.HighSpeed, vhci.SuperSpeed })
        {
            var name = $"vhci_hcd {hub.Hub} ports free";
            var counts = string.Create(CultureInfo.InvariantCulture,
                $"{hub.Free} of {hub.Ports} {hub.Hub} vhci_hcd ports are free ({hub.InUse} in use; warning under {minimumFreePorts})");
            yield return hub.Free >= minimumFreePorts
                ? Check(name, CheckResult.Pass, counts + ".")
                : Check(name, CheckResult.Warn, counts + ": Connect-UsbIpDevice fails with VhciNoFreePort once none is left.",
                    "Detach what is no longer used (Get-UsbIpPort -InUse | Disconnect-UsbIpDevice); Get-UsbIpCapacity -Desktops N says what build a target needs.");
        }
    }

    private static VirtHostCheck Ksm(SystemRoot root) => KsmReader.IsAvailable(root)
        ? new("KSM", "KSM available", CheckResult.Pass, $"{KsmReader.KsmDirectory} exists: identical guest pages can be merged.", null, root.Path)
        : new("KSM", "KSM available", CheckResult.Warn, $"{KsmReader.KsmDirectory} does not exist: this kernel cannot merge identical pages.",
            "Use a kernel built with CONFIG_KSM=y.", root.Path);
}
