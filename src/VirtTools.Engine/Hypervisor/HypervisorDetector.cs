using System.Runtime.Intrinsics.X86;
using VirtTools.Sysfs;

namespace VirtTools.Hypervisor;

/// <summary>
/// Which hypervisor this host itself runs under, decided from ordered evidence as systemd-detect-virt does:
/// DMI strings, Xen, the CPUID hypervisor signature (live machine only), /sys/hypervisor, then the bare
/// cpuinfo "hypervisor" flag. Names are systemd's so admins recognise them.
/// </summary>
public static class HypervisorDetector
{
    public sealed record Detection(string? Name, string? Evidence);

    private static readonly string[] DmiFiles = { "product_name", "sys_vendor", "board_vendor", "bios_vendor", "product_version" };

    /// <summary>DMI prefixes and what they mean (systemd's table, plus the cloud names it knows).</summary>
    private static readonly (string Prefix, string Name)[] DmiVendors =
    {
        ("KVM", "kvm"), ("OpenStack", "kvm"), ("KubeVirt", "kvm"), ("Amazon EC2", "amazon"), ("QEMU", "qemu"),
        ("VMware", "vmware"), ("VMW", "vmware"), ("innotek GmbH", "oracle"), ("VirtualBox", "oracle"),
        ("Oracle Corporation", "oracle"), ("Xen", "xen"), ("Bochs", "bochs"), ("Parallels", "parallels"),
        ("BHYVE", "bhyve"), ("Hyper-V", "microsoft"), ("Apple Virtualization", "apple"), ("Google Compute Engine", "google"),
    };

    /// <summary>DMI answers that systemd trusts over everything else (their CPUID signature is often KVM's).</summary>
    private static readonly HashSet<string> DecisiveDmi = new(StringComparer.Ordinal) { "oracle", "xen", "amazon", "parallels" };

    private static readonly (string Signature, string Name)[] CpuidSignatures =
    {
        ("KVMKVMKVM", "kvm"), ("Linux KVM Hv", "kvm"), ("TCGTCGTCGTCG", "qemu"), ("XenVMMXenVMM", "xen"),
        ("VMwareVMware", "vmware"), ("Microsoft Hv", "microsoft"), ("bhyve bhyve", "bhyve"), ("QNXQVMBSQG", "qnx"),
        ("ACRNACRNACRN", "acrn"), ("SRESRESRESRE", "sre"), ("Apple VZ", "apple"),
    };

    public static Detection Detect(SystemRoot root, CpuInfo? cpu, XenRole xen)
    {
        var dmi = FromDmi(root);
        if (dmi is not null && DecisiveDmi.Contains(dmi.Name!)) return dmi;

        if (xen == XenRole.DomU) return new("xen", "Xen domU (/sys/hypervisor or /proc/xen, no control_d)");
        if (xen == XenRole.Dom0) return new("none", "Xen dom0: this host is the Xen control domain");

        if (root.IsLive && FromCpuid() is { } cpuid) return cpuid;
        if (dmi is not null) return dmi;

        if (root.Directory("/sys/hypervisor").String("type") is { Length: > 0 } type)
            return new(type, $"/sys/hypervisor/type '{type}'");
        if (cpu is null) return new(null, null);
        if (cpu.Has("hypervisor") && FromCpuModel(cpu.ModelName) is { } model) return model;
        return cpu.Has("hypervisor")
            ? new("vm-other", "cpuinfo has the hypervisor flag, and no DMI or CPUID signature names the hypervisor")
            : new("none", "no hypervisor flag in cpuinfo, no virtual DMI strings");
    }

    /// <summary>
    /// The CPU models QEMU invents ("QEMU TCG CPU", "QEMU Virtual CPU" for qemu64/qemu32, "Common KVM processor" for
    /// kvm64): on a captured tree, with no DMI and no CPUID to ask, the model name is the last evidence that names one.
    /// </summary>
    private static Detection? FromCpuModel(string? model) => model switch
    {
        null => null,
        _ when model.StartsWith("Common KVM processor", StringComparison.Ordinal) => new("kvm", $"cpuinfo model name '{model}'"),
        _ when model.StartsWith("QEMU ", StringComparison.Ordinal) => new("qemu", $"cpuinfo model name '{model}'"),
        _ => null,
    };

    private static Detection? FromDmi(SystemRoot root)
    {
        var dmi = root.Directory("/sys/class/dmi/id");
        foreach (var file in DmiFiles)
        {
            var value = dmi.String(file);
            if (string.IsNullOrEmpty(value)) continue;
            foreach (var (prefix, name) in DmiVendors)
                if (value.StartsWith(prefix, StringComparison.Ordinal))
                    return new(name, $"DMI {file} '{value}'");
        }
        return null;
    }

    /// <summary>CPUID leaf 0x40000000's vendor signature; only when CPUID leaf 1 says a hypervisor is present.</summary>
    private static Detection? FromCpuid()
    {
        if (!X86Base.IsSupported) return null;
        var (_, _, features, _) = X86Base.CpuId(1, 0);
        if ((features & (1 << 31)) == 0) return null;
        var (_, ebx, ecx, edx) = X86Base.CpuId(0x40000000, 0);
        var bytes = new byte[12];
        BitConverter.TryWriteBytes(bytes.AsSpan(0), ebx);
        BitConverter.TryWriteBytes(bytes.AsSpan(4), ecx);
        BitConverter.TryWriteBytes(bytes.AsSpan(8), edx);
        var signature = System.Text.Encoding.ASCII.GetString(bytes).TrimEnd('\0', ' ');
        foreach (var (known, name) in CpuidSignatures)
            if (signature == known.TrimEnd())
                return new(name, $"CPUID 0x40000000 signature '{signature}'");
        return new("vm-other", $"CPUID 0x40000000 signature '{signature}' is not one systemd knows");
    }
}
