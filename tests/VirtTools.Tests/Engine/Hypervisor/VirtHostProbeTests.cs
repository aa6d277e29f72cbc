using VirtTools.Hypervisor;
using VirtTools.Ksm;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Hypervisor;

public sealed class VirtHostProbeTests
{
    private const string IntelCpu = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vme vmx sse2\n\nprocessor\t: 1\nflags\t\t: fpu\n";
    private const string AmdCpu = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu svm sse2\n";
    private const string GuestCpu = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 hypervisor\n";

    private static VirtHost Probe(TemporaryTree tree) => VirtHostProbe.Read(new SystemRoot(tree.Path));

    [Fact]
    public void The_captured_host_has_an_IOMMU_usbip_host_and_8_vhci_controllers_of_240_ports()
    {
        var host = VirtHostProbe.Read(new SystemRoot(CapturedFixture.Shared));
        Assert.True(host.IommuEnabled);
        Assert.Equal("Intel VT-d", host.IommuKind);
        Assert.Equal(5, host.IommuGroupCount);
        Assert.True(host.UsbIpHostLoaded);
        Assert.True(host.VhciHcdLoaded);
        Assert.Equal(8, host.VhciControllers);
        Assert.Equal(240, host.VhciPorts);
        Assert.Equal(120, host.VhciHighSpeedPorts);
        Assert.Equal(120, host.VhciSuperSpeedPorts);
        Assert.True(host.KsmAvailable);
        Assert.Equal(KsmRunState.Run, host.KsmRun);
    }

    [Fact]
    public void Evidence_the_captured_tree_does_not_hold_is_null_not_a_guess()
    {
        var host = VirtHostProbe.Read(new SystemRoot(CapturedFixture.Shared));
        Assert.Null(host.CpuExtension);
        Assert.Null(host.HypervisorFlag);
        Assert.Null(host.KvmDeviceExists);
        Assert.Null(host.KvmModules);
        Assert.Null(host.KvmModuleLoaded);
        Assert.Null(host.KernelVersion);
        Assert.Null(host.RunningUnder);
        Assert.Equal(XenRole.None, host.XenRole);
    }

    [Theory]
    [MemberData(nameof(TestMachine.All), MemberType = typeof(TestMachine))]
    public void The_probe_reports_what_the_machine_s_own_files_hold(string machineName)
    {
        using var machine = TestMachine.Open(machineName);
        var host = VirtHostProbe.Read(machine.Root);

        var flags = machine.CpuFlags;
        Assert.Equal(flags?.Contains("hypervisor"), host.HypervisorFlag);
        Assert.Equal(flags is null ? null : flags.Contains("vmx") ? "vmx" : flags.Contains("svm") ? "svm" : "none", host.CpuExtension);
        Assert.Equal(machine.CpuInfoField("vendor_id"), host.CpuVendor);
        Assert.Equal(machine.Text("/proc/sys/kernel/osrelease"), host.KernelVersion);

        Assert.Equal(machine.Has("/dev/kvm"), host.KvmDeviceExists);
        Assert.Equal(host.KvmDeviceExists, host.KvmDeviceAccessible is not null);
        if (machine.IsLive && host.KvmDeviceExists == true) Assert.Equal(TestMachine.CanOpenReadWrite("/dev/kvm"), host.KvmDeviceAccessible);
        var kvmModules = machine.Entries("/sys/module").Where(m => m == "kvm" || m.StartsWith("kvm_", StringComparison.Ordinal)).ToArray();
        Assert.Equal(machine.Has("/sys/module") ? kvmModules : null, host.KvmModules);

        var groups = machine.Entries("/sys/kernel/iommu_groups").Count;
        Assert.Equal(groups, host.IommuGroupCount);
        Assert.Equal(groups > 0 || machine.Entries("/sys/class/iommu").Count > 0, host.IommuEnabled);

        Assert.Equal(machine.Has("/sys/kernel/mm/ksm"), host.KsmAvailable);
        Assert.Equal(host.KsmAvailable, host.KsmRun is not null);

        if (!machine.Has("/sys/hypervisor/type") && !machine.Has("/proc/xen")) Assert.Equal(XenRole.None, host.XenRole);
        // A CPU that says it runs under a hypervisor is never reported as bare metal (a Xen dom0 is the one exception).
        if (host.HypervisorFlag == true && host.XenRole != XenRole.Dom0) Assert.NotEqual("none", host.RunningUnder);
        Assert.Equal(host.RunningUnder is null, host.RunningUnderEvidence is null);
    }

    [Fact]
    public void On_the_live_root_the_kernel_is_the_one_uname_names_and_the_hypervisor_the_one_systemd_detects()
    {
        var host = VirtHostProbe.Read(SystemRoot.Live);
        Assert.Equal(Environment.OSVersion.Version.ToString(2), string.Join('.', host.KernelVersion!.Split('.', '-').Take(2)));
        // systemd-detect-virt is the reference the detector follows; where systemd is installed its answer must match.
        if (SystemdDetectVirt() is { } detected) Assert.Equal(detected, host.RunningUnder);
    }

    [Theory]
    [InlineData(IntelCpu, "vmx", "GenuineIntel")]
    [InlineData(AmdCpu, "svm", "AuthenticAMD")]
    [InlineData(GuestCpu, "none", "AuthenticAMD")]
    public void The_cpu_extension_comes_from_the_first_processor_s_flags(string cpuinfo, string extension, string vendor)
    {
        using var tree = new TemporaryTree("host").File("/proc/cpuinfo", cpuinfo);
        var host = Probe(tree);
        Assert.Equal(extension, host.CpuExtension);
        Assert.Equal(vendor, host.CpuVendor);
    }

    [Theory]
    [InlineData("kvm_intel", "Y", true)]
    [InlineData("kvm_amd", "1", true)]
    [InlineData("kvm_intel", "N", false)]
    [InlineData("kvm_amd", "0", false)]
    public void Nested_accepts_Y_N_and_1_0(string module, string value, bool expected)
    {
        using var tree = new TemporaryTree("host").File($"/sys/module/{module}/parameters/nested", value).Directory("/sys/module/kvm");
        var host = Probe(tree);
        Assert.Equal(expected, host.NestedVirtualization);
        Assert.Equal(new[] { "kvm", module }, host.KvmModules);
    }

    [Fact]
    public void An_older_kernel_without_the_nested_parameter_gives_null()
    {
        using var tree = new TemporaryTree("host").Directory("/sys/module/kvm_intel/parameters");
        Assert.Null(Probe(tree).NestedVirtualization);
    }

    [Fact]
    public void Xen_control_d_in_proc_xen_capabilities_is_dom0_and_not_a_guest()
    {
        using var tree = new TemporaryTree("host").File("/sys/hypervisor/type", "xen").File("/proc/xen/capabilities", "control_d").File("/proc/cpuinfo", GuestCpu);
        var host = Probe(tree);
        Assert.Equal(XenRole.Dom0, host.XenRole);
        Assert.Equal("none", host.RunningUnder);
    }

    [Fact]
    public void Xen_feature_bit_11_is_dom0_even_without_proc_xen()
    {
        using var tree = new TemporaryTree("host").File("/sys/hypervisor/type", "xen").File("/sys/hypervisor/properties/features", "00000805");
        Assert.Equal(XenRole.Dom0, Probe(tree).XenRole);
    }

    [Fact]
    public void A_Xen_guest_without_control_d_is_domU_running_under_xen()
    {
        using var tree = new TemporaryTree("host").File("/sys/hypervisor/type", "xen").File("/proc/xen/capabilities", "").File("/proc/cpuinfo", GuestCpu);
        var host = Probe(tree);
        Assert.Equal(XenRole.DomU, host.XenRole);
        Assert.Equal("xen", host.RunningUnder);
    }

    [Theory]
    [InlineData("sys_vendor", "QEMU", "qemu")]
    [InlineData("sys_vendor", "VMware, Inc.", "vmware")]
    [InlineData("product_name", "KVM", "kvm")]
    [InlineData("sys_vendor", "innotek GmbH", "oracle")]
    [InlineData("bios_vendor", "Xen", "xen")]
    [InlineData("sys_vendor", "Amazon EC2", "amazon")]
    public void DMI_strings_name_the_hypervisor(string file, string value, string expected)
    {
        using var tree = new TemporaryTree("host").File($"/sys/class/dmi/id/{file}", value).File("/proc/cpuinfo", GuestCpu);
        var host = Probe(tree);
        Assert.Equal(expected, host.RunningUnder);
        Assert.Contains(value, host.RunningUnderEvidence);
    }

    [Theory]
    [InlineData("QEMU TCG CPU version 2.5+", "qemu")]
    [InlineData("QEMU Virtual CPU version 2.5+", "qemu")]
    [InlineData("Common KVM processor", "kvm")]
    public void A_captured_guest_without_DMI_is_named_by_the_CPU_model_QEMU_invents(string model, string expected)
    {
        using var guest = new TemporaryTree("host").File("/proc/cpuinfo", GuestCpu.Replace("flags", $"model name\t: {model}\nflags"));
        var host = Probe(guest);
        Assert.Equal(expected, host.RunningUnder);
        Assert.Equal($"cpuinfo model name '{model}'", host.RunningUnderEvidence);
    }

    [Fact]
    public void The_kernel_release_comes_from_proc_version_when_osrelease_is_missing()
    {
        using var captured = new TemporaryTree("host")
            .File("/proc/version", "Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 (2024-11-01)\n");
        Assert.Equal("6.1.0-27-amd64", Probe(captured).KernelVersion);
        using var both = new TemporaryTree("host").File("/proc/version", "Linux version 6.1.0-27-amd64 (x)\n").File("/proc/sys/kernel/osrelease", "6.12.9-amd64\n");
        Assert.Equal("6.12.9-amd64", Probe(both).KernelVersion);
        using var odd = new TemporaryTree("host").File("/proc/version", "garbage\n");
        Assert.Null(Probe(odd).KernelVersion);
    }

    [Fact]
    public void The_hypervisor_flag_without_DMI_is_vm_other_and_bare_metal_is_none()
    {
        using var guest = new TemporaryTree("host").File("/proc/cpuinfo", GuestCpu);
        Assert.Equal("vm-other", Probe(guest).RunningUnder);
        using var metal = new TemporaryTree("host").File("/proc/cpuinfo", IntelCpu).File("/sys/class/dmi/id/sys_vendor", "Dell Inc.");
        Assert.Equal("none", Probe(metal).RunningUnder);
    }

    [Fact]
    public void An_AMD_IOMMU_is_AMD_Vi_and_a_DMAR_table_without_groups_is_firmware_only()
    {
        using var amd = new TemporaryTree("host").Directory("/sys/class/iommu/ivhd0").Directory("/sys/kernel/iommu_groups/0");
        Assert.Equal("AMD-Vi", Probe(amd).IommuKind);
        using var off = new TemporaryTree("host").File("/sys/firmware/acpi/tables/DMAR", "x");
        var host = Probe(off);
        Assert.False(host.IommuEnabled);
        Assert.Equal("DMAR", host.IommuFirmwareTable);
        Assert.Equal("Intel VT-d", host.IommuKind);
    }

    [Fact]
    public void Usbip_modules_are_seen_in_sys_module_too()
    {
        using var tree = new TemporaryTree("host").Directory("/sys/module/usbip_host").Directory("/sys/module/vhci_hcd");
        var host = Probe(tree);
        Assert.True(host.UsbIpHostLoaded);
        Assert.True(host.VhciHcdLoaded);
        Assert.Equal(0, host.VhciControllers);
        Assert.Null(host.VhciPorts);
    }

    [Fact]
    public void Dev_kvm_in_a_captured_root_is_seen_without_opening_it_and_root_may_use_it()
    {
        using var tree = new TemporaryTree("host").File("/dev/kvm", "");
        var host = Probe(tree);
        Assert.True(host.KvmDeviceExists);
        Assert.True(host.KvmDeviceAccessible);
    }

    /// <summary>`systemd-detect-virt --vm` ("none" on bare metal), or null where systemd is not installed.</summary>
    private static string? SystemdDetectVirt()
    {
        var tool = new[] { "/usr/bin/systemd-detect-virt", "/bin/systemd-detect-virt" }.FirstOrDefault(File.Exists);
        if (tool is null) return null;
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(tool, "--vm") { RedirectStandardOutput = true })!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        Assert.True(process.WaitForExit(30_000), "systemd-detect-virt did not answer within 30 s");
        return output;
    }
}
