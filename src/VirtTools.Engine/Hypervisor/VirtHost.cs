using VirtTools.Ksm;

namespace VirtTools.Hypervisor;

/// <summary>
/// One summary of what this host can do for virtualization. A probe whose evidence the root does not hold
/// (a captured tree without /proc or /dev) is null rather than a guess.
/// </summary>
public sealed class VirtHost
{
    public string? ComputerName { get; init; }
    /// <summary>/proc/sys/kernel/osrelease, else the release that /proc/version names.</summary>
    public string? KernelVersion { get; init; }

    public string? CpuVendor { get; init; }
    /// <summary>"vmx" (Intel VT-x), "svm" (AMD-V) or "none", from the cpuinfo flags.</summary>
    public string? CpuExtension { get; init; }
    /// <summary>cpuinfo's "hypervisor" flag: this host is itself a virtual machine.</summary>
    public bool? HypervisorFlag { get; init; }

    public bool? KvmDeviceExists { get; init; }
    /// <summary>The current user can open /dev/kvm read-write (on a captured root: judged from the mode bits).</summary>
    public bool? KvmDeviceAccessible { get; init; }
    /// <summary>Loaded kvm modules (kvm, kvm_intel, kvm_amd...); null when the root has no /sys/module.</summary>
    public string[]? KvmModules { get; init; }
    public bool? KvmModuleLoaded => KvmModules is null ? null : KvmModules.Contains("kvm");
    /// <summary>kvm_intel's or kvm_amd's nested parameter (Y/N or 1/0); null without either module.</summary>
    public bool? NestedVirtualization { get; init; }

    public bool IommuEnabled { get; init; }
    /// <summary>"Intel VT-d", "AMD-Vi" or null, from /sys/class/iommu or the ACPI DMAR/IVRS table.</summary>
    public string? IommuKind { get; init; }
    public int IommuGroupCount { get; init; }
    /// <summary>"DMAR" or "IVRS" when the firmware describes an IOMMU (it may still be off in the kernel).</summary>
    public string? IommuFirmwareTable { get; init; }

    public XenRole XenRole { get; init; }
    /// <summary>
    /// The hypervisor this host runs under, as systemd-detect-virt names it ("kvm", "qemu", "vmware", "oracle",
    /// "xen", "microsoft", "vm-other"...), "none" on bare metal, null when the root holds no evidence.
    /// </summary>
    public string? RunningUnder { get; init; }
    /// <summary>What <see cref="RunningUnder"/> was concluded from ("DMI sys_vendor 'QEMU'", "CPUID 0x40000000 'KVMKVMKVM'").</summary>
    public string? RunningUnderEvidence { get; init; }

    public bool UsbIpHostLoaded { get; init; }
    public bool VhciHcdLoaded { get; init; }
    /// <summary>vhci_hcd.N platform devices (each is one USB 2.0 and one USB 3 root hub).</summary>
    public int VhciControllers { get; init; }
    /// <summary>vhci_hcd.0/nports: ports over all controllers.</summary>
    public int? VhciPorts { get; init; }
    public int? VhciHighSpeedPorts { get; init; }
    public int? VhciSuperSpeedPorts { get; init; }

    public bool KsmAvailable { get; init; }
    public KsmRunState? KsmRun { get; init; }
    public long? KsmSavedBytes { get; init; }

    public string Root { get; init; } = "/";
}
